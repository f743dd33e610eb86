/**
 * A flood: one peer publishes 10,000 messages a second for 10 seconds on
 * a database's topic — well-signed writes, forged signatures and garbage,
 * mixed. The honest peer's memory stays bounded, honest writes from
 * another peer keep arriving during the flood, and the records it held are
 * unchanged. The adversary runs in a worker thread (see `flood-worker.ts`),
 * so that the heap measured here is the honest peers'.
 */
import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import { after, test } from 'node:test'
import { waitFor } from '../helpers/wait.ts'
import { Arena, assertKept, snapshot, stillReplicates, type FloodResult, type Honest } from './harness.ts'
import { HeapProbe, mb } from './heap-probe.ts'

const arena = new Arena()
const workers: Worker[] = []
after(async () => {
  for (const worker of workers) await worker.terminate()
  await arena.close()
})

const PER_SECOND = 10_000
const SECONDS = 10
/** Most the honest peers' live heap (sampled after full GCs) may grow during the flood. */
const HEAP_BOUND = 300e6
/** Longest an honest write may take to arrive during the flood (ms). */
const HONEST_BOUND = 5000

test('a flood of 10,000 messages a second for 10 s: memory bounded, honest writes still arrive, records unchanged', { timeout: 60_000 }, async () => {
  const [a, b] = await arena.honest(2, { tcp: true }) as [Honest, Honest]
  const address = a.db.address
  for (let i = 0; i < 5; i++) await stillReplicates(b, a, `before the flood ${i}`)
  const before = await snapshot(a)
  a.log.clear()

  const target = a.peer.libp2p.getMultiaddrs().find((m) => m.toString().includes('/tcp/'))
  assert.ok(target !== undefined)
  const worker = new Worker(new URL('./flood-worker.ts', import.meta.url), { workerData: { target: target.toString(), address, perSecond: PER_SECOND, seconds: SECONDS } })
  workers.push(worker)
  type Report = { made?: number } & Partial<FloodResult>
  const reports: Report[] = []
  const failures: Error[] = []
  worker.on('message', (m: Report) => { reports.push(m) })
  worker.on('error', (error: Error) => { failures.push(error) })
  const check = (): void => { if (failures[0] !== undefined) throw failures[0] }
  await waitFor(() => reports.length > 0 || failures.length > 0, 'the adversary to make its messages', 30_000)
  check()

  const probe = new HeapProbe()
  worker.postMessage('go')
  const latencies: number[] = []
  // Meanwhile b writes every 250 ms; each write must reach a in time.
  for (let k = 0; reports.length < 2 && failures.length === 0; k++) {
    const started = Date.now()
    await stillReplicates(b, a, `during the flood ${k}`, HONEST_BOUND)
    latencies.push(Date.now() - started)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  check()
  const heap = probe.stop()
  const result = reports[1] as FloodResult

  const names = [...a.log.byName].map(([name, n]) => `${name} ${n}`).join(', ')
  console.log(`# flood: ${result.sent} messages in ${result.ms} ms = ${result.rate}/s from a worker thread (${result.failed} publishes failed; made in ${reports[0]?.made} ms)`)
  console.log(`# flood: honest heap ${mb(heap.baseline)} -> live at most ${mb(heap.live)} (+${mb(heap.live - heap.baseline)}), peak with garbage ${mb(heap.peak)} -> ${mb(heap.after)} after`)
  console.log(`# flood: ${latencies.length} honest writes arrived during it, in ${Math.min(...latencies)}..${Math.max(...latencies)} ms (median ${[...latencies].sort((x, y) => x - y)[latencies.length >> 1]}); a refused ${a.log.total} (${names})`)

  assert.ok(result.sent >= PER_SECOND * SECONDS * 0.9, `the adversary sent ${result.sent}`)
  // Each honest write arrived within HONEST_BOUND (stillReplicates waits no longer), one after the other.
  assert.ok(latencies.length >= 2, `honest writes kept arriving (${latencies.length})`)
  assert.ok(heap.live - heap.baseline < HEAP_BOUND, `the live heap grew ${mb(heap.live - heap.baseline)} (bound ${mb(HEAP_BOUND)})`)
  // Refused: garbage and bad signatures; and, once its valid envelopes took their share of apply time, the flooder itself.
  assert.ok(a.log.total > 0 && [...a.log.byName.keys()].every((n) => ['MalformedMessageError', 'SignatureError', 'PeerThrottledError'].includes(n)), names)
  await assertKept(a, before)
  await stillReplicates(b, a, 'after the flood')
})
