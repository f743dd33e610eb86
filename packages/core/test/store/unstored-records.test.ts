import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as Y from 'yjs'
import { makeRow } from '../../src/query/row.ts'
import type { Entry } from '../../src/store/entry.ts'
import { MAX_UNSTORED_RECORDS, UnstoredRecords } from '../../src/store/unstored-records.ts'
import { waitFor } from '../helpers/wait.ts'

function entry (id: string): Entry {
  return { id, doc: new Y.Doc(), fields: {}, row: makeRow(id, {}), updateKeys: [], pending: [], unstored: [], storing: 0, pinned: false, behind: 0 }
}

const bytes = (n: number): Uint8Array => new Uint8Array([n])

/** Waiting records flushed after `delayMs`, counting the flushes. */
function counted (delayMs: number): { unstored: UnstoredRecords, flushes: () => number } {
  let n = 0
  return { unstored: new UnstoredRecords(() => { n++ }, delayMs), flushes: () => n }
}

test('updates wait for one flush after the delay; a record taken before leaves nothing to it', async () => {
  const { unstored, flushes } = counted(20)
  const a = entry('a')
  const b = entry('b')
  unstored.add(a, [bytes(1)])
  unstored.add(a, [bytes(2)])
  unstored.add(b, [bytes(3)])
  assert.equal(unstored.size, 2)
  assert.deepEqual(a.unstored, [bytes(1), bytes(2)])
  assert.deepEqual(unstored.take(b), [bytes(3)], 'a commit of b takes its updates')
  assert.equal(unstored.has('b'), false)
  assert.deepEqual(b.unstored, [])
  assert.equal(flushes(), 0)
  await waitFor(() => flushes() === 1, 'the flush')
  const due = unstored.takeDue(() => false)
  assert.deepEqual(due.map((d) => [d.entry.id, d.updates]), [['a', [bytes(1), bytes(2)]]])
  assert.equal(unstored.size, 0)
  assert.deepEqual(a.unstored, [])
  unstored.cancel()
})

test('a record in use stays for the next flush, armed again', async () => {
  const { unstored, flushes } = counted(10)
  const a = entry('a')
  const b = entry('b')
  unstored.add(a, [bytes(1)])
  unstored.add(b, [bytes(2)])
  const due = unstored.takeDue((id) => id === 'a')
  assert.deepEqual(due.map((d) => d.entry.id), ['b'])
  assert.equal(unstored.has('a'), true)
  await waitFor(() => flushes() === 1, 'another flush for a')
  assert.deepEqual(unstored.takeDue(() => false).map((d) => d.entry.id), ['a'])
  unstored.cancel()
})

test(`${MAX_UNSTORED_RECORDS} waiting records are flushed without waiting for the delay`, async () => {
  const { unstored, flushes } = counted(60_000)
  for (let i = 0; i < MAX_UNSTORED_RECORDS; i++) unstored.add(entry(`r${i}`), [bytes(i % 256)])
  await waitFor(() => flushes() === 1, 'the early flush', 2_000)
  assert.equal(unstored.takeDue(() => false).length, MAX_UNSTORED_RECORDS)
  unstored.cancel()
})

test('a dropped record is forgotten; cancel stops the timer', async () => {
  const { unstored, flushes } = counted(10)
  const a = entry('a')
  unstored.add(a, [bytes(1)])
  assert.equal(unstored.drop('a'), true)
  assert.equal(unstored.drop('a'), false)
  assert.deepEqual(a.unstored, [])
  unstored.add(entry('b'), [bytes(2)])
  unstored.cancel()
  await new Promise((resolve) => setTimeout(resolve, 40))
  assert.equal(flushes(), 0)
})

test('a record being stored still counts as not in storage until its batch is done', () => {
  const unstored = new UnstoredRecords(() => {}, 60_000)
  const a = entry('a')
  unstored.add(a, [bytes(1)])
  const [due] = unstored.takeDue(() => false)
  assert.equal(due?.entry, a)
  assert.equal(unstored.size, 0, 'nothing waits')
  assert.equal(unstored.has('a'), true, 'but storage does not hold it yet')
  assert.equal(a.storing, 1)
  unstored.add(a, [bytes(2)])
  assert.deepEqual([...unstored.records()].map((e) => e.id), ['a'], 'listed once')
  unstored.done([a])
  assert.equal(a.storing, 0)
  assert.equal(unstored.has('a'), true, 'its newer update still waits')
  unstored.take(a)
  assert.equal(unstored.has('a'), false)
  unstored.cancel()
})
