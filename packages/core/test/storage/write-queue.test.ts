import { test } from 'node:test'
import assert from 'node:assert/strict'
import { memoryStorage, StorageError, type BatchOperation, type StorageAdapter } from '@kadmium/core'
import { WriteQueue } from '../../src/storage/write-queue.ts'
import { withBatch } from '../helpers/storage.ts'

/** Memory storage whose batches are recorded, and held until released while `hold` is set. */
function gatedStorage (): { storage: StorageAdapter, batches: BatchOperation[][], release: () => void, hold: boolean, fail: boolean } {
  const inner = memoryStorage()
  let waiting: Array<() => void> = []
  const state = {
    batches: [] as BatchOperation[][],
    hold: false,
    fail: false,
    release: () => {
      const run = waiting
      waiting = []
      for (const go of run) go()
    },
    storage: withBatch(inner, async (ops) => {
      state.batches.push([...ops])
      if (state.hold) await new Promise<void>((resolve) => { waiting.push(resolve) })
      if (state.fail) throw new Error('disk full')
      await inner.batch(ops)
    })
  }
  return state
}

const put = (key: string): BatchOperation => ({ type: 'put', key, value: new Uint8Array([1]) })

test('a write to idle storage reaches it before write() returns, and resolves once stored', async () => {
  const s = gatedStorage()
  const queue = new WriteQueue(s.storage)
  const done = queue.write([put('a')])
  assert.equal(s.batches.length, 1, 'storage was called on the caller\'s tick')
  await done
  assert.deepEqual(await s.storage.get('a'), new Uint8Array([1]))
  assert.equal(queue.pending, 0)
})

test('writes made while a batch is being written go together in the next one, each resolving once stored', async () => {
  const s = gatedStorage()
  const queue = new WriteQueue(s.storage)
  s.hold = true
  const first = queue.write([put('a')])
  const later = [queue.write([put('b')]), queue.write([put('c'), put('d')]), queue.write([put('e')])]
  let settled = 0
  for (const p of later) void p.then(() => { settled++ })
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(s.batches.length, 1, 'nothing else is written while the first batch runs')
  assert.equal(queue.pending, 3)
  assert.equal(settled, 0)
  s.hold = false
  s.release()
  await Promise.all([first, ...later])
  assert.deepEqual(s.batches.map((ops) => ops.map((op) => op.key)), [['a'], ['b', 'c', 'd', 'e']])
  for (const key of ['a', 'b', 'c', 'd', 'e']) assert.ok(await s.storage.get(key) !== undefined, key)
})

test('a failed batch rejects every write in it with StorageError; the queue goes on with later writes', async () => {
  const s = gatedStorage()
  const queue = new WriteQueue(s.storage)
  s.hold = true
  const first = queue.write([put('a')])
  const grouped = [queue.write([put('b')]), queue.write([put('c')])]
  s.fail = true
  s.release()
  await assert.rejects(first, StorageError)
  await new Promise((resolve) => setImmediate(resolve))
  s.release()
  for (const p of grouped) await assert.rejects(p, (error: unknown) => error instanceof StorageError && /disk full/.test(error.message))
  s.fail = false
  s.hold = false
  await queue.write([put('d')])
  assert.equal(await s.storage.get('b'), undefined)
  assert.deepEqual(await s.storage.get('d'), new Uint8Array([1]))
  await queue.drain()
  assert.equal(queue.pending, 0)
})

test('an adapter whose batch throws at once (not a rejected promise) fails that write only: the next one is written', async () => {
  const inner = memoryStorage()
  let throwNow = true
  const storage = withBatch(inner, (ops) => {
    if (throwNow) throw new Error('refused at once')
    return inner.batch(ops)
  })
  const queue = new WriteQueue(storage)
  await assert.rejects(queue.write([put('a')]), (error: unknown) => error instanceof StorageError && /refused at once/.test(error.message))
  throwNow = false
  await Promise.race([
    queue.write([put('b')]),
    new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('the next write never ran')) }, 2_000))
  ])
  assert.deepEqual(await storage.get('b'), new Uint8Array([1]))
  await queue.drain()
})

test('a write made by storage while it takes a batch waits for that batch, and goes in the next one', async () => {
  const inner = memoryStorage()
  const batches: string[][] = []
  let inFlight = 0
  let overlapped = false
  let nested: Promise<void> | undefined
  const storage = withBatch(inner, async (ops) => {
    batches.push(ops.map((op) => op.key))
    if (inFlight > 0) overlapped = true
    inFlight++
    // A write caused by storage itself (a hook, a listener), made before it answers.
    nested ??= queue.write([put('nested')])
    await new Promise((resolve) => setImmediate(resolve))
    await inner.batch(ops)
    inFlight--
  })
  const queue = new WriteQueue(storage)
  await queue.write([put('a')])
  await nested
  assert.deepEqual(batches, [['a'], ['nested']])
  assert.equal(overlapped, false, 'batches never overlap')
  assert.deepEqual(await storage.get('nested'), new Uint8Array([1]))
})
