/**
 * Apply-time budgets: one author's live updates cannot take more than their
 * share of a peer's time; others' updates still arrive.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createDatabase, memoryStorage, type RejectedEvent } from '@kadmium/core'
import { ApplyBudget, DEFAULT_APPLY_BUDGET_MS } from '../../src/sync/apply-budget.ts'
import { ApplyMeter } from '../../src/store/apply-meter.ts'
import { Todo } from '../helpers/schemas.ts'
import { withBatch } from '../helpers/storage.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, createTestPeer, closedAfterFile, NO_TIMERS } from './helpers.ts'

const { peers, dbs } = closedAfterFile()

test('a budget is spent per author and per window, and reported once a window', () => {
  const budget = new ApplyBudget(10, 1000)
  assert.equal(budget.exhausted('a', 0), false)
  budget.charge('a', 6, 0)
  assert.equal(budget.exhausted('a', 1), false)
  budget.charge('a', 6, 2)
  assert.equal(budget.exhausted('a', 3), true)
  assert.equal(budget.exhausted('b', 3), false, 'another author has its own budget')
  assert.equal(budget.shouldReport('a', 4), true)
  assert.equal(budget.shouldReport('a', 5), false)
  assert.equal(budget.exhausted('a', 1001), false, 'a new window')
})

test('a meter counts only the time between start and stop', async () => {
  const meter = new ApplyMeter()
  meter.stop() // (stopped: nothing to add)
  meter.start()
  const busyUntil = performance.now() + 20
  while (performance.now() < busyUntil) { /* computing */ }
  meter.start() // (already counting: no restart)
  meter.stop()
  const counted = meter.ms
  assert.ok(counted >= 20 && counted < 1000, `the busy section counted (${counted} ms)`)
  await sleep(30) // a wait between sections
  assert.equal(meter.ms, counted, 'a wait while stopped is not counted')
  meter.start()
  await sleep(10)
  assert.ok(meter.ms >= counted + 5, 'an open section counts up to now')
})

test('an author over its apply budget is dropped and reported; another author\'s updates still arrive; catch-up repairs', { timeout: 60_000 }, async () => {
  const replication = NO_TIMERS
  const [pa, pb, pc] = await Promise.all([createTestPeer(), createTestPeer(), createTestPeer()])
  peers.push(pa, pb, pc)
  const a = await createDatabase({ name: 'throttle', peer: pa, replication })
  // b lets each author use 1 ms of apply time per 10 s.
  const b = await createDatabase({ name: 'throttle', peer: pb, replication: { ...replication, applyBudget: 1 } })
  const c = await createDatabase({ name: 'throttle', peer: pc, replication })
  dbs.push(a, b, c)
  const rejected: RejectedEvent[] = []
  b.on('rejected', (e) => rejected.push(e))
  await connect(pa, pb)
  await connect(pc, pb)
  await waitFor(() => b.status.peers === 2, 'a and c on b\'s topic', 10_000)
  const ta = a.collection('todos', { schema: Todo })
  const tb = b.collection('todos', { schema: Todo })
  const tc = c.collection('todos', { schema: Todo })

  const ids: string[] = []
  const burstStarted = performance.now()
  for (let i = 0; i < 200; i++) ids.push(await ta.insert({ title: `burst ${i}`, done: false }))
  await waitFor(() => rejected.some((e) => e.reason.startsWith('PeerThrottledError') && e.peer === pa.libp2p.peerId.toString()), 'a throttled at b')
  // Once a 10 s window: a burst that a slow machine stretches over several windows is reported in each.
  const windows = Math.ceil((performance.now() - burstStarted) / 10_000) + 1
  const reports = rejected.filter((e) => e.reason.startsWith('PeerThrottledError')).length
  assert.ok(reports >= 1 && reports <= windows, `reported once a window (${reports} reports in at most ${windows} windows)`)
  assert.ok(await tb.count() < 200, 'some of a\'s burst was dropped')

  const fromC = await tc.insert({ title: 'from c', done: false })
  await waitFor(async () => (await tb.get(fromC))?.title === 'from c', 'c\'s write at b')

  await b.sync()
  await waitFor(async () => await tb.count() === 201, 'catch-up brings what was dropped', 15_000)
})

test('a receiver with slow storage keeps up with an honest writer: not throttled, nothing dropped', { timeout: 90_000 }, async () => {
  const [pa, pb] = await Promise.all([createTestPeer(), createTestPeer()])
  peers.push(pa, pb)
  // b's storage takes 5 ms to commit a batch (an IndexedDB transaction's commit, a slow disk).
  const inner = memoryStorage()
  const storage = withBatch(inner, async (ops) => { await sleep(5); await inner.batch(ops) })
  // Waiting for storage must not count as apply time: it did, and throttled the writer. (The
  // budget is twice the default: the writer shares this thread, and a loaded machine inflates
  // the time counted; counted waits would still take over three times as much.)
  const a = await createDatabase({ name: 'slow-disk', peer: pa, replication: NO_TIMERS })
  const b = await createDatabase({ name: 'slow-disk', peer: pb, storage, replication: { ...NO_TIMERS, applyBudget: 2 * DEFAULT_APPLY_BUDGET_MS } })
  dbs.push(a, b)
  const rejected: RejectedEvent[] = []
  b.on('rejected', (e) => rejected.push(e))
  await connect(pa, pb)
  await waitFor(() => a.status.peers === 1 && b.status.peers === 1, 'a and b on the topic', 10_000)
  const ta = a.collection('todos', { schema: Todo })
  const tb = b.collection('todos', { schema: Todo })
  // Sequential inserts, each its own envelope with a record and an index update. b's index
  // updates must share commits: one 5 ms commit each piled up past the 1,024 envelopes a peer
  // applies at once, and b dropped the rest.
  const n = 2_000
  for (let i = 0; i < n; i++) await ta.insert({ title: `record ${i}`, done: false })
  await waitFor(async () => await tb.count() === n, 'every record at b', 60_000)
  assert.deepEqual(rejected, [], 'nothing throttled')
  assert.equal(b.status.droppedEnvelopes, 0, 'nothing dropped')
})
