/**
 * A peer's live updates are shown at once and stored a little later, in one
 * batch (write-behind): what that must never break.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase, memoryStorage, type BatchOperation, type StorageAdapter } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'
import { withBatch } from '../helpers/storage.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, createTestPeer, closedAfterFile, NO_TIMERS } from './helpers.ts'

const { peers, dbs } = closedAfterFile()

/** A memory storage that records the keys of every batch. */
function recorded (): { storage: StorageAdapter, inner: StorageAdapter, batches: string[][] } {
  const inner = memoryStorage()
  const batches: string[][] = []
  const storage = withBatch(inner, async (ops: readonly BatchOperation[]) => {
    batches.push(ops.map((op) => op.key))
    await inner.batch(ops)
  })
  return { storage, inner, batches }
}

/** A writer and a receiver on one topic; the receiver on `storage`. */
async function pair (name: string, storage: StorageAdapter) {
  const [pa, pb] = await Promise.all([createTestPeer(), createTestPeer()])
  peers.push(pa, pb)
  const a = await createDatabase({ name, peer: pa, replication: NO_TIMERS })
  const b = await createDatabase({ name, peer: pb, storage, replication: NO_TIMERS })
  dbs.push(a, b)
  await connect(pa, pb)
  await waitFor(() => a.status.peers === 1 && b.status.peers === 1, 'a and b on the topic', 10_000)
  return { a, b, ta: a.collection('todos', { schema: Todo }), tb: b.collection('todos', { schema: Todo }) }
}

/** Writes of `id`'s row among `batches`. */
function rowWrites (batches: string[][], id: string): number {
  return batches.flat().filter((key) => key === `c/todos/r/${id}`).length
}

test('live updates show at once; a burst to one record is stored in one batch, its row written once', { timeout: 30_000 }, async () => {
  const { storage, batches } = recorded()
  const { ta, tb } = await pair('burst', storage)
  const id = await ta.insert({ title: 'v0', done: false })
  await waitFor(async () => (await tb.get(id))?.title === 'v0', 'the insert at b')
  await waitFor(() => rowWrites(batches, id) === 1, 'the insert stored at b')
  const seen: string[] = []
  const stop = tb.subscribe(id, (row) => { if (row !== undefined) seen.push(row.title) })
  const before = batches.length
  // Ten updates written in ten turns: ten envelopes.
  for (let i = 1; i <= 10; i++) await ta.update(id, (t) => { t.title = `v${i}` })
  await waitFor(() => seen.includes('v10'), 'every update shown at b')
  const logKeys = (): string[] => batches.slice(before).flat().filter((key) => key.startsWith(`c/todos/d/${id}/u/`))
  await waitFor(() => logKeys().length === 10, 'every update of the burst in b\'s log')
  stop()
  assert.ok(batches.length - before <= 2, `the burst took ${batches.length - before} batches`)
  assert.ok(rowWrites(batches, id) <= 3, `the row was written ${rowWrites(batches, id)} times for 11 writes`)
})

test('closing stores what waits; reopened, the receiver has every update', { timeout: 30_000 }, async () => {
  const { storage, inner } = recorded()
  const { a, b, ta, tb } = await pair('close', storage)
  const ids: string[] = []
  for (let i = 0; i < 20; i++) ids.push(await ta.insert({ title: `r${i}`, done: false }))
  await ta.update(ids[0] as string, (t) => { t.done = true })
  await waitFor(async () => (await tb.get(ids[0] as string))?.done === true && await tb.count() === 20, 'everything at b')
  await b.close()
  await a.close()
  const again = await createDatabase({ name: 'close', storage: inner })
  dbs.push(again)
  const todos = again.collection('todos', { schema: Todo })
  assert.equal(await todos.count(), 20)
  assert.equal((await todos.get(ids[0] as string))?.done, true)
  assert.deepEqual((await todos.find()).map((r) => r.title).sort(), ids.map((_, i) => `r${i}`).sort())
})

test('a local write takes the waiting updates of its record along; a delete leaves nothing of them', { timeout: 30_000 }, async () => {
  const { storage, inner } = recorded()
  const { a, b, ta, tb } = await pair('along', storage)
  const kept = await ta.insert({ title: 'kept', done: false })
  const gone = await ta.insert({ title: 'gone', done: false })
  await waitFor(async () => await tb.count() === 2, 'both records at b')
  await ta.update(kept, (t) => { t.title = 'from a' })
  await ta.update(gone, (t) => { t.title = 'from a too' })
  await waitFor(async () => (await tb.get(kept))?.title === 'from a' && (await tb.get(gone))?.title === 'from a too', 'a\'s updates at b')
  // At once, while a's updates may still wait at b:
  await tb.update(kept, (t) => { t.done = true })
  await tb.delete(gone)
  await b.close()
  await a.close()
  const again = await createDatabase({ name: 'along', storage: inner })
  dbs.push(again)
  const todos = again.collection('todos', { schema: Todo })
  assert.deepEqual(await todos.get(kept), { id: kept, title: 'from a', done: true })
  assert.equal(await todos.get(gone), undefined)
  assert.equal(await todos.count(), 1)
  let leftovers = 0
  for await (const [key] of inner.scan('')) if (key.includes(gone) && !key.includes('index')) leftovers++
  assert.equal(leftovers, 0, 'nothing of the deleted record stays in storage')
})

test('a query first run while live inserts wait to be stored sees them', { timeout: 30_000 }, async () => {
  const { storage } = recorded()
  const { ta, tb } = await pair('query', storage)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push(await ta.insert({ title: `q${i}`, done: false }))
  // (b's rows view loads on its first query: here, right as the inserts arrive.)
  await waitFor(async () => (await tb.find()).length === 5, 'every insert in b\'s first query')
  assert.deepEqual((await tb.find()).map((r) => r.id).sort(), [...ids].sort())
})
