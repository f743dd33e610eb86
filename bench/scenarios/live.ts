/**
 * Live query update latency: from the call that writes a change until the
 * subscription's callback has the new result.
 *
 * The live query is Q1 (`{ where: { done: false }, orderBy: 'title',
 * limit: 50 }`) over N records. Each sample flips `done` of a record so
 * that it leaves the window (then, next sample, re-enters it): every
 * sample changes the window, so every sample calls back.
 *
 * - local: `todos.update(id, ...)` on a LevelDB database without a peer;
 *   the subscription is on the same database.
 * - remote: two `nodePeer`s on TCP 127.0.0.1 hold the same N records;
 *   peer A updates, peer B's subscription calls back (gossip, apply, query).
 * - baseline (local): raw Yjs as an app would do it without Kadmium: a
 *   `Y.Doc` per record in memory, an observer per document that updates a
 *   plain row and recomputes the window (filter, sort, slice), calling back
 *   when it changed.
 *
 * Samples run one after another (each waits for its callback), after
 * warm-up samples that are not kept.
 * @module
 */
import * as Y from 'yjs'
import { BASELINE_ROOT, COLLECTION, insertConcurrently, openKadmium, todos as makeTodos, type Todo } from '../lib/fixtures.ts'
import { connectPeers, openShared, startPeer, withCleanup } from '../lib/peers.ts'
import { fmt, valueRow, type ResultRow } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { percentile } from '../lib/stats.ts'
import { withTempDir } from '../lib/tempdir.ts'
import { bounded, guard, sleep, until } from '../lib/wait.ts'
import { Q1 } from './find.ts'
import { QUICK_WATCHDOG_MS } from '../lib/budget.ts'

const LOCAL = 'local: update() → live query callback'
const REMOTE = 'remote: update() on A → live query callback on B'
const BASELINE = 'raw Yjs: transact → observer recomputes window → callback'

type Window = ReadonlyArray<{ readonly id: string }>

/**
 * Measures `samples` (+ `warmup`) window changes: `write(id, done)` flips a
 * record, and the subscription given to `subscribe` must then call back
 * with a window that does (not) hold it.
 */
async function measure (
  subscribe: (callback: (rows: Window) => void) => () => void,
  write: (id: string, done: boolean) => Promise<unknown>,
  samples: number,
  warmup: number
): Promise<number[]> {
  let current: Window = []
  let waiting: { readonly id: string, readonly present: boolean, readonly start: number, readonly resolve: (ms: number) => void } | undefined
  const stop = subscribe((rows) => {
    current = rows
    if (waiting !== undefined && rows.some((r) => r.id === waiting?.id) === waiting.present) {
      const w = waiting
      waiting = undefined
      w.resolve(performance.now() - w.start)
    }
  })
  try {
    await until('the live query\'s first result', () => current.length > 0, 30_000)
    const latencies: number[] = []
    let out = ''
    for (let i = 0; i < samples + warmup; i++) {
      // Even samples take the first record of the window out; odd ones put it back.
      const leaving = i % 2 === 0
      const id = leaving ? (current[0] as { readonly id: string }).id : out
      out = id
      const arrived = new Promise<number>((resolve) => {
        waiting = { id, present: !leaving, start: performance.now(), resolve }
      })
      const written = write(id, leaving)
      const ms = await bounded(arrived, 30_000, `sample ${i}: the live query to call back`)
      await written
      if (i >= warmup) latencies.push(ms)
    }
    return latencies
  } finally {
    stop()
  }
}

async function localRun (n: number, samples: number, warmup: number): Promise<number[]> {
  return withTempDir('live', async (dir) => {
    const { db, todos } = await openKadmium(dir)
    try {
      await insertConcurrently(todos, makeTodos(n))
      return await measure(
        (callback) => todos.subscribe(Q1, callback),
        async (id, done) => todos.update(id, (t) => { t.done = done }),
        samples, warmup)
    } finally {
      await db.close()
    }
  })
}

async function remoteRun (n: number, samples: number, warmup: number, log: (line: string) => void): Promise<number[]> {
  return withCleanup(log, async (cleanup) => {
    const a = await startPeer('live-a', cleanup)
    const b = await startPeer('live-b', cleanup)
    const da = await openShared(a, cleanup)
    const db = await openShared(b, cleanup)
    await insertConcurrently(da.todos, makeTodos(n))
    await connectPeers(b, a)
    await until(`${n} records on B`, async () => await db.todos.count() === n, 120_000)
    // Live updates need B in A's gossipsub mesh for the topic: write on A until B sees a write live.
    const [probe] = await da.todos.find({ limit: 1 })
    if (probe === undefined) throw new Error('no record to probe with')
    let seen = -1
    const stopProbe = db.todos.subscribe(probe.id, (row) => { seen = row?.priority ?? -1 })
    try {
      let value = probe.priority
      await until('B to receive live updates from A', async () => {
        value = (value + 1) % 5
        const wanted = value
        await da.todos.update(probe.id, (t) => { t.priority = wanted })
        const deadline = performance.now() + 300
        while (seen !== wanted && performance.now() < deadline) await sleep(5)
        return seen === wanted
      }, 30_000, 0)
    } finally {
      stopProbe()
    }
    return measure(
      (callback) => db.todos.subscribe(Q1, callback),
      async (id, done) => da.todos.update(id, (t) => { t.done = done }),
      samples, warmup)
  })
}

async function baselineRun (n: number, samples: number, warmup: number): Promise<number[]> {
  const docs = new Map<string, Y.Doc>()
  const rows = new Map<string, Todo & { id: string }>()
  const records = makeTodos(n)
  for (const [i, record] of records.entries()) {
    const id = `r${i}`
    const doc = new Y.Doc({ guid: id })
    const map = doc.getMap<unknown>(BASELINE_ROOT)
    doc.transact(() => { for (const [k, v] of Object.entries(record)) map.set(k, v) })
    docs.set(id, doc)
    rows.set(id, { ...record, id })
  }
  const compare = (x: Todo & { id: string }, y: Todo & { id: string }): number => x.title < y.title ? -1 : x.title > y.title ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0
  const windowOf = (): Window => [...rows.values()].filter((r) => !r.done).sort(compare).slice(0, Q1.limit)
  let listener: ((rows: Window) => void) | undefined
  let window = windowOf()
  for (const [id, doc] of docs) {
    const map = doc.getMap<unknown>(BASELINE_ROOT)
    map.observe(() => {
      rows.set(id, { ...map.toJSON() as Todo, id })
      const next = windowOf()
      if (next.length !== window.length || next.some((r, i) => r !== window[i])) {
        window = next
        listener?.(window)
      }
    })
  }
  try {
    return await measure(
      (callback) => {
        listener = callback
        queueMicrotask(() => { callback(window) })
        return () => { listener = undefined }
      },
      async (id, done) => {
        const doc = docs.get(id) as Y.Doc
        doc.transact(() => { doc.getMap<unknown>(BASELINE_ROOT).set('done', done) })
      },
      samples, warmup)
  } finally {
    for (const doc of docs.values()) doc.destroy()
  }
}

function spread (values: readonly number[]): string {
  return `p50 ${fmt(percentile(values, 50))}, p95 ${fmt(percentile(values, 95))}, p99 ${fmt(percentile(values, 99))} ms`
}

export const live: Scenario = {
  name: 'live',
  description: 'live query update latency: write → subscription callback, locally and from a peer over TCP loopback',
  async run ({ quick, rounds: roundsAsked, log }) {
    const disarm = guard(quick ? QUICK_WATCHDOG_MS : 900_000, 'live')
    const sizes = quick ? [1_000] : [1_000, 10_000]
    const samples = roundsAsked ?? (quick ? 10 : 200)
    const warmup = quick ? 3 : 20
    const rows: ResultRow[] = []
    const percentiles: Record<string, Record<number, { p50: number, p95: number, p99: number }>> = { [LOCAL]: {}, [REMOTE]: {}, [BASELINE]: {} }
    const keep = (kase: string, n: number, values: readonly number[]): void => {
      (percentiles[kase] as Record<number, unknown>)[n] = { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99) }
      log(`live ${n}: ${kase}: ${spread(values)}`)
    }
    for (const n of sizes) {
      const baseline = await baselineRun(n, samples, warmup)
      keep(BASELINE, n, baseline)
      const local = await localRun(n, samples, warmup)
      keep(LOCAL, n, local)
      const remote = await remoteRun(n, samples, warmup, log)
      keep(REMOTE, n, remote)
      rows.push(
        valueRow(LOCAL, 'kadmium', n, 'ms', 'lower', local, { case: BASELINE, values: baseline }),
        valueRow(REMOTE, 'kadmium', n, 'ms', 'lower', remote),
        valueRow(BASELINE, 'baseline', n, 'ms', 'lower', baseline)
      )
    }
    disarm()
    return {
      params: { sizes, samples, warmup, query: Q1, collection: COLLECTION, percentiles },
      rows,
      targets: [],
      notes: [
        `Each row's "rounds" are ${samples} samples (after ${warmup} warm-up samples); min/median/max are over samples. K/B pairs samples by order.`,
        ...sizes.flatMap((n) => [LOCAL, REMOTE, BASELINE].map((kase) => {
          const p = percentiles[kase]?.[n]
          return p === undefined ? '' : `${fmt(n)} records, ${kase}: p50 ${fmt(p.p50)}, p95 ${fmt(p.p95)}, p99 ${fmt(p.p99)} ms`
        })).filter((line) => line !== '')
      ]
    }
  }
}

