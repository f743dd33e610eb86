/**
 * Live propagation of one small update between two connected peers.
 *
 * - Kadmium: peers A and B (`nodePeer`, TCP loopback, LevelDB) with the
 *   database open and connected; B subscribes to a record. A sample: A runs
 *   `update(id, t => { t.title = 'p<n>' })`; timed from that call until B's
 *   `subscribe` callback sees the new title. After each sample A's queued
 *   DHT put (every write is put in the background) is waited for, so that
 *   it does not spill into the next sample.
 * - Baseline "bare nodes": two bare libp2p nodes with gossipsub configured
 *   like `nodePeer`'s (StrictNoSign, same mesh degrees and scoring),
 *   connected; publish of random bytes of the size of Kadmium's envelope
 *   until the other node's `message` event.
 * - Baseline "same peers": the same raw publish on another topic of A's
 *   and B's own gossipsub: the same libp2p stack Kadmium runs on, without
 *   Kadmium.
 *
 * Publishing starts only once both sides see each other subscribed (for
 * Kadmium: `db.status.peers >= 1` on both). Then 20 paused samples of
 * Kadmium and of bare gossipsub show a process that just started; then
 * every variant runs 2,000 unmeasured samples back to back (JIT warm-up,
 * see `WARM_SAMPLES`). Every measured sample of every variant follows the
 * same 150 ms of quiet (see `PAUSE_MS`). Each round takes `perRound`
 * samples of every variant, the variants' order rotating between rounds.
 * @module
 */
import { createDatabase, type Database } from '@kadmium/core'
import type { NodePeer } from '@kadmium/node'
import type { GossipSub } from '@libp2p/gossipsub'
import { COLLECTION, DB_NAME, todo, todoSchema, type Todos } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { bounded, connect, meshPeers, payloadTag, percentile, QUIET_REPLICATION, taggedPayload, waitFor, watchdog, withSandbox } from '../lib/net.ts'
import { findRow, fmt, target, valueRow, type ResultRow } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { setTimeout as sleep } from 'node:timers/promises'
import { QUICK_WATCHDOG_MS } from '../lib/budget.ts'

const RAW_TOPIC = '/kadmium-bench/propagation'
const SAMPLE_MS = 5_000

const K_CASE = 'update → remote subscribe callback'
const BARE_CASE = 'raw gossipsub, bare nodes'
const SAME_CASE = 'raw gossipsub, same peers'

/** A message awaited by a sample: resolved with the arrival time. */
interface Pending {
  readonly key: string | number
  readonly resolve: (at: number) => void
}

/** One side of a measurement: publish sample `seq`, resolve when it arrived. */
type Probe = (seq: number) => Promise<number>

/** Waits for messages tagged by {@link taggedPayload} on a raw topic. */
function rawProbe (from: GossipSub, to: GossipSub, size: () => number): Probe {
  let pending: Pending | undefined
  to.addEventListener('message', (event) => {
    if (event.detail.topic === RAW_TOPIC && pending !== undefined && payloadTag(event.detail.data) === pending.key) pending.resolve(performance.now())
  })
  return async (seq) => {
    const arrived = new Promise<number>((resolve) => { pending = { key: seq, resolve } })
    const t0 = performance.now()
    await from.publish(RAW_TOPIC, taggedPayload(size(), seq))
    const at = await bounded(arrived, SAMPLE_MS, `raw message ${seq}`)
    pending = undefined
    return at - t0
  }
}

/** Where the time of a Kadmium sample went: ms from the update call to each step (medians are reported). */
interface Stages {
  /** A's `update()` resolved: the write is durable on A. */
  written: number[]
  /** A's gossipsub `publish` called on the database topic. */
  published: number[]
  /** B's gossipsub delivered the envelope (after Kadmium's topic validator). */
  delivered: number[]
}

/** Kadmium: A's update of the record until B's subscription sees it, then A's DHT put settles. */
function kadmiumProbe (peerA: NodePeer, peerB: NodePeer, dbA: Database, a: Todos, b: Todos, id: string): { probe: Probe, warm: Probe, stop: () => void, stages: Stages } {
  let pending: Pending | undefined
  const stages: Stages = { written: [], published: [], delivered: [] }
  let marks: { published?: number, delivered?: number } = {}
  const topic = `/kadmium/db/${dbA.address}`
  // Diagnostics only: see when A publishes and when B's gossipsub delivers (both look the method up on the instance).
  const pubsubA = peerA.libp2p.services.pubsub
  const publish = pubsubA.publish.bind(pubsubA)
  pubsubA.publish = async (t: string, data?: Uint8Array) => {
    if (t === topic) marks.published ??= performance.now()
    return publish(t, data)
  }
  peerB.libp2p.services.pubsub.addEventListener('message', (event) => {
    if (event.detail.topic === topic) marks.delivered ??= performance.now()
  })
  const stop = b.subscribe(id, (row) => {
    if (pending !== undefined && row?.title === pending.key) pending.resolve(performance.now())
  })
  /** Sample `seq`: when the update was called, when B's callback saw it, when A's update resolved. */
  const send = async (seq: number): Promise<{ t0: number, at: number, written: number }> => {
    const title = `p${seq}`
    const arrived = new Promise<number>((resolve) => { pending = { key: title, resolve } })
    marks = {}
    const t0 = performance.now()
    await a.update(id, (t) => { t.title = title })
    const written = performance.now()
    const at = await bounded(arrived, SAMPLE_MS, `update ${seq} to reach B`)
    pending = undefined
    return { t0, at, written }
  }
  const probe: Probe = async (seq) => {
    const { t0, at, written } = await send(seq)
    stages.written.push(written - t0)
    stages.published.push((marks.published ?? NaN) - t0)
    stages.delivered.push((marks.delivered ?? NaN) - t0)
    await waitFor('A\'s DHT put of the update', () => dbA.status.pendingWrites === 0, 20_000, 20)
    return at - t0
  }
  // Back to back, A's DHT puts coalescing meanwhile (for the JIT warm-up).
  const warm: Probe = async (seq) => {
    const { t0, at } = await send(seq)
    return at - t0
  }
  return { probe, warm, stop, stages }
}

/**
 * Quiet time before every sample of every variant. Kadmium's samples are
 * separated by the wait for A's background DHT put (≥ 100 ms); without
 * the same pause the raw samples would run back to back, with warm caches
 * and awake threads, and look several times faster than after a pause
 * (on this machine raw gossipsub takes ~0.2 ms back to back, ~0.45 ms
 * 5 ms apart, ~0.75 ms 150 ms apart). Edits from a user are sparse too.
 */
const PAUSE_MS = 150

/**
 * Samples of every variant run back to back, unmeasured, before the
 * measured rounds: V8 optimizes a function only after it ran a good many
 * times, and a long-running app's write and receive paths are optimized
 * code, not the first hundred calls' interpreted code. The 150 ms pause
 * before each measured sample still leaves CPU caches cold. The samples
 * taken before the warm-up are reported too.
 */
const WARM_SAMPLES = 2_000
/** Paused samples of Kadmium and bare gossipsub taken before the warm-up (the figures of a process that just started). */
const EARLY_SAMPLES = 20

/** Runs `count` samples one after the other, each after {@link PAUSE_MS} of quiet. */
async function samples (probe: Probe, count: number, next: () => number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    await sleep(PAUSE_MS)
    out.push(await probe(next()))
  }
  return out
}

async function openDb (peer: NodePeer): Promise<{ db: Database, todos: Todos }> {
  const db = await createDatabase({ name: DB_NAME, peer, replication: QUIET_REPLICATION })
  return { db, todos: db.collection(COLLECTION, { schema: todoSchema }) }
}

export const propagation: Scenario = {
  name: 'propagation',
  description: 'one small update between two connected peers over TCP loopback: Kadmium vs raw gossipsub publish → message',
  async run ({ quick, rounds: roundsAsked, log }) {
    const rounds = roundsAsked ?? (quick ? 3 : 10)
    const perRound = quick ? 5 : 20
    const disarm = watchdog(quick ? QUICK_WATCHDOG_MS : 300_000, 'propagation')
    try {
      return await withSandbox('propagation', log, async (sandbox) => {
        const peerA = await sandbox.peer('a')
        const peerB = await sandbox.peer('b')
        const A = await openDb(peerA)
        const B = await openDb(peerB)
        sandbox.track('database A', async () => A.db.close())
        sandbox.track('database B', async () => B.db.close())
        const kTopic = `/kadmium/db/${A.db.address}`
        const sizes: number[] = []
        peerB.libp2p.services.pubsub.addEventListener('message', (event) => {
          if (event.detail.topic === kTopic) sizes.push(event.detail.data.length)
        })
        for (const p of [peerA, peerB]) p.libp2p.services.pubsub.subscribe(RAW_TOPIC)

        const x = await sandbox.bare({ gossip: true })
        const y = await sandbox.bare({ gossip: true })
        const xs = x.services.pubsub as GossipSub
        const ys = y.services.pubsub as GossipSub
        for (const s of [xs, ys]) s.subscribe(RAW_TOPIC)

        await connect(peerB.libp2p, peerA.libp2p)
        await connect(y, x)
        await waitFor('both Kadmium peers to see each other on the database topic', () => A.db.status.peers >= 1 && B.db.status.peers >= 1)
        await waitFor('raw subscriptions', () => [xs, ys, peerA.libp2p.services.pubsub, peerB.libp2p.services.pubsub].every((s) => s.getSubscribers(RAW_TOPIC).length >= 1))
        // The mesh forms at gossipsub's heartbeat (1 s); floodPublish reaches a subscribed neighbour before that anyway.
        await waitFor('gossipsub meshes', () => [[xs, RAW_TOPIC], [ys, RAW_TOPIC], [peerA.libp2p.services.pubsub, kTopic], [peerB.libp2p.services.pubsub, kTopic]]
          .every(([s, topic]) => meshPeers(s as GossipSub, topic as string) >= 1), 5_000).catch(() => { log('propagation: a mesh did not form within 5 s; measuring anyway') })

        const id = await A.todos.insert(todo(1))
        await waitFor('the record to reach B', async () => (await B.todos.get(id, { network: false })) !== undefined)
        await waitFor('A\'s DHT puts', () => A.db.status.pendingWrites === 0, 20_000)

        let seq = 0
        const next = (): number => ++seq
        const kadmium = kadmiumProbe(peerA, peerB, A.db, A.todos, B.todos, id)
        sandbox.track('subscription', async () => { kadmium.stop() })
        await samples(kadmium.probe, 5, next) // learn the envelope size
        const size = (): number => sizes.length === 0 ? 200 : Math.round(percentile(sizes, 50))
        const bare = rawProbe(xs, ys, size)
        const same = rawProbe(peerA.libp2p.services.pubsub, peerB.libp2p.services.pubsub, size)

        // Before warming up: what a process that just started sees.
        const early = { kadmium: await samples(kadmium.probe, EARLY_SAMPLES, next), bare: await samples(bare, EARLY_SAMPLES, next) }
        const warmSamples = quick ? 100 : WARM_SAMPLES
        const warmStart = performance.now()
        for (const probe of [kadmium.warm, bare, same]) {
          for (let i = 0; i < warmSamples; i++) await probe(next())
        }
        const warmMs = performance.now() - warmStart
        await waitFor('A\'s DHT puts after the warm-up', () => A.db.status.pendingWrites === 0, 20_000)
        log(`propagation: ${warmSamples} samples of each variant back to back (JIT warm-up) in ${fmt(warmMs / 1000)} s`)
        // The stages reported are those of the warm process (the early samples' p50 is reported on its own).
        for (const list of [kadmium.stages.written, kadmium.stages.published, kadmium.stages.delivered]) list.length = 0

        const variants: Array<Variant<number[]>> = [
          { name: K_CASE, run: async () => samples(kadmium.probe, perRound, next) },
          { name: BARE_CASE, run: async () => samples(bare, perRound, next) },
          { name: SAME_CASE, run: async () => samples(same, perRound, next) }
        ]
        const results = await interleave(variants, {
          rounds,
          // The samples that learned the envelope size warmed Kadmium up; a full run warms up a whole round more.
          warmup: quick ? 0 : 1,
          onSample: (name, round, r) => { log(`propagation: round ${round + 1}/${rounds} ${name}: p50 ${fmt(percentile(r, 50))} ms, max ${fmt(Math.max(...r))} ms`) }
        })
        const k = resultsOf(results, K_CASE)
        const b = resultsOf(results, BARE_CASE)
        const s = resultsOf(results, SAME_CASE)
        const p50s = (list: number[][]): number[] => list.map((r) => percentile(r, 50))
        const all = (list: number[][]): number[] => list.flat()
        const p99 = (list: number[][]): number[] => [percentile(all(list), 99)]
        const rows: ResultRow[] = [
          valueRow(`${K_CASE}, p50`, 'kadmium', 1, 'ms', 'lower', p50s(k), { case: `${BARE_CASE}, p50`, values: p50s(b) }),
          valueRow(`${BARE_CASE}, p50`, 'baseline', 1, 'ms', 'lower', p50s(b)),
          valueRow(`${SAME_CASE}, p50`, 'baseline', 1, 'ms', 'lower', p50s(s)),
          valueRow(`${K_CASE}, p99 (pooled)`, 'kadmium', 1, 'ms', 'lower', p99(k), { case: `${BARE_CASE}, p99 (pooled)`, values: p99(b) }),
          valueRow(`${BARE_CASE}, p99 (pooled)`, 'baseline', 1, 'ms', 'lower', p99(b)),
          valueRow(`${SAME_CASE}, p99 (pooled)`, 'baseline', 1, 'ms', 'lower', p99(s))
        ]
        const pooled = { kadmium: all(k), bare: all(b), same: all(s) }
        const kP50 = percentile(pooled.kadmium, 50)
        const bP50 = percentile(pooled.bare, 50)
        return {
          params: {
            rounds,
            perRound,
            samples: pooled.kadmium.length,
            payloadBytes: size(),
            kadmiumStagesMedianMs: {
              written: percentile(kadmium.stages.written, 50),
              published: percentile(kadmium.stages.published, 50),
              delivered: percentile(kadmium.stages.delivered, 50),
              callback: kP50
            },
            pooledMs: Object.fromEntries(Object.entries(pooled).map(([name, v]) => [name, { p50: percentile(v, 50), p90: percentile(v, 90), p99: percentile(v, 99), max: Math.max(...v) }])),
            warmup: { samplesPerVariant: warmSamples, seconds: warmMs / 1000 },
            beforeWarmupP50Ms: { samples: EARLY_SAMPLES, kadmium: percentile(early.kadmium, 50), bare: percentile(early.bare, 50) }
          },
          rows,
          targets: [
            target('propagation p50 ≤ 2× raw gossipsub (bare nodes)', findRow(rows, `${K_CASE}, p50`, 'kadmium', 1)?.ratio?.median, 2, 'lower', '×'),
            target('propagation p99 ≤ 20 ms', findRow(rows, `${K_CASE}, p99 (pooled)`, 'kadmium', 1)?.summary.median, 20, 'lower', 'ms')
          ],
          notes: [
            `${pooled.kadmium.length} samples per variant (${rounds} rounds of ${perRound}); p50 rows: median of each round's p50, K/B paired by round. p99 rows: all samples pooled.`,
            `Pooled p50: Kadmium ${fmt(kP50)} ms, raw bare ${fmt(bP50)} ms (${fmt(kP50 / bP50, 2)}×), raw on the same peers ${fmt(percentile(pooled.same, 50))} ms. Raw payloads: ${size()} random bytes, the median size of Kadmium's envelopes.`,
            `Kadmium, median ms from update(): written on A ${fmt(percentile(kadmium.stages.written, 50))}, published by A ${fmt(percentile(kadmium.stages.published, 50))}, delivered by B's gossipsub ${fmt(percentile(kadmium.stages.delivered, 50))}, B's subscribe callback ${fmt(kP50)}.`,
            'Kadmium samples include writing the update on A and applying it on B (LevelDB both sides); A\'s background DHT put of each update is waited for between samples, not timed.',
            `Every sample of every variant follows ${PAUSE_MS} ms of quiet (Kadmium\'s wait for its DHT put would otherwise leave only its own samples cold).`,
            `Measured after a JIT warm-up of ${warmSamples} unmeasured samples of each variant back to back (${fmt(warmMs / 1000)} s): the steady state of a long-running app. Before it, in the process's first samples: Kadmium p50 ${fmt(percentile(early.kadmium, 50))} ms, raw bare ${fmt(percentile(early.bare, 50))} ms (${fmt(percentile(early.kadmium, 50) / percentile(early.bare, 50), 2)}×, ${EARLY_SAMPLES} samples each).`
          ]
        }
      })
    } finally {
      disarm()
    }
  }
}
