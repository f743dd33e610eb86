/**
 * Catch-up of a fresh peer over TCP loopback.
 *
 * - Kadmium: peer A (`nodePeer`, LevelDB) holds N records (filled before
 *   A goes online, so A has no DHT puts queued). Each repetition starts a
 *   fresh peer B (new identity and data directory), opens the database on
 *   it, and times from B's dial of A until B's `sync` 'done' event for A and
 *   `count() === N`. Opening B and closing it are not timed.
 * - Baseline: two bare libp2p nodes (TCP, noise, yamux, identify — the
 *   transport stack of `nodePeer`). A' holds the same N records as raw Yjs
 *   updates in classic-level; a fresh B' (new node, new LevelDB) dials A'
 *   on one protocol stream, A' reads its LevelDB and writes every
 *   `[id, update]` length-prefixed on that stream (256 a write), B' applies
 *   each update to a `Y.Doc` (guid: the id) and stores it in LevelDB
 *   batches of 500.
 *   Timed from the dial until B' has stored the last batch; the time until
 *   the last message arrived is reported too (the transfer alone).
 *
 * The baseline does what an app on raw Yjs + libp2p needs at the least to
 * copy N documents to a new peer and keep them; Kadmium in addition
 * exchanges digests (so that either side sends only what the other lacks),
 * waits for identify, stores index, rows and digests, and reports progress.
 * @module
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createDatabase } from '@kadmium/core'
import { databaseDirectoryName, type NodePeer } from '@kadmium/node'
import { levelStorage } from '@kadmium/node/level'
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import * as Y from 'yjs'
import { BASELINE_PREFIX, BASELINE_PREFIX_END, baselineKey, baselinePopulate, COLLECTION, DB_NAME, insertConcurrently, openRawLevel, todos, todoSchema, type RawLevel } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { bounded, QUIET_REPLICATION, waitFor, watchdog, withSandbox, type BareNode, type NetSandbox } from '../lib/net.ts'
import { findRow, fmt, target, valueRow, type ResultRow, type TargetResult } from '../lib/report.ts'
import { frame, unframe } from '../lib/raw-frames.ts'
import type { Scenario } from '../lib/scenario.ts'
import { summarize } from '../lib/stats.ts'
import { QUICK_WATCHDOG_MS } from '../lib/budget.ts'

const PROTOCOL = '/kadmium-bench/raw-sync/1.0.0'
const MAX_MESSAGE = 4 * 1024 * 1024
/** Updates per write on the baseline's stream. */
const WRITE_BATCH = 256
/** Records per LevelDB batch on the baseline's receiver. */
const STORE_BATCH = 500
const SESSION_MS = 120_000

const K_CASE = 'dial → sync done, count() = N'
const B_CASE = 'raw stream: dial → all stored'
const B_RECEIVED = 'raw stream: dial → all received'
const K_RATE = 'records/s on B'
const B_RATE = 'records/s on B (raw, stored)'
const K_START = 'dial → sync session start'
const K_COLD = 'first catch-up after A opened (cold A, once)'

/** One repetition. */
interface CatchUp {
  /** Dial to done, in ms. */
  readonly ms: number
  /** Dial to connected, in ms. */
  readonly dialMs: number
  /** Kadmium: dial to the session's 'start' event; baseline: dial to the last update received. */
  readonly midMs: number
}

/** A' serves its LevelDB: a count, then every record. */
async function serveRaw (stream: Stream, level: RawLevel): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
  const range = { gte: BASELINE_PREFIX, lt: BASELINE_PREFIX + BASELINE_PREFIX_END }
  let n = 0
  for await (const _ of level.keys(range)) n++
  const header = new Uint8Array(4)
  new DataView(header.buffer).setUint32(0, n)
  await lp.write(header)
  let batch: Uint8Array[] = []
  for await (const [key, value] of level.iterator(range)) {
    batch.push(frame(key.slice(BASELINE_PREFIX.length), value))
    if (batch.length >= WRITE_BATCH) {
      await lp.writeV(batch)
      batch = []
    }
  }
  if (batch.length > 0) await lp.writeV(batch)
  await stream.close()
}

async function baselineRun (sandbox: NetSandbox, a: BareNode, n: number): Promise<CatchUp> {
  const b = await sandbox.bare()
  const level = await openRawLevel(sandbox.path('b-raw'))
  try {
    const t0 = performance.now()
    const stream = await b.dialProtocol(a.getMultiaddrs(), PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    const dialMs = performance.now() - t0
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
    const signal = AbortSignal.timeout(SESSION_MS)
    const header = (await lp.read({ signal })).subarray()
    const total = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(0)
    if (total !== n) throw new Error(`A' announced ${total} records, expected ${n}`)
    let ops: Array<{ type: 'put', key: string, value: Uint8Array }> = []
    let received = 0
    for (let i = 0; i < total; i++) {
      const bytes = (await lp.read({ signal })).subarray()
      const { id, update } = unframe(bytes)
      // A raw-Yjs app applies what it receives (and so finds malformed updates). The record id as guid spares
      // Yjs drawing a random one (~0.3 ms each here: lib0 calls getRandomValues per character), as Kadmium does.
      const doc = new Y.Doc({ guid: id })
      Y.applyUpdate(doc, update)
      doc.destroy()
      ops.push({ type: 'put', key: baselineKey(id), value: update })
      if (ops.length >= STORE_BATCH) {
        await level.batch(ops)
        ops = []
      }
      if (i === total - 1) received = performance.now() - t0
    }
    if (ops.length > 0) await level.batch(ops)
    const ms = performance.now() - t0
    await stream.close()
    return { ms, dialMs, midMs: received }
  } finally {
    await level.close()
    await b.stop()
  }
}

async function kadmiumRun (sandbox: NetSandbox, a: NodePeer, n: number): Promise<CatchUp> {
  const b = await sandbox.peer('b')
  try {
    const db = await createDatabase({ name: DB_NAME, peer: b, replication: QUIET_REPLICATION })
    const collection = db.collection(COLLECTION, { schema: todoSchema })
    const aId = a.peerId.toString()
    let startAt: number | undefined
    let off: (() => void) | undefined
    try {
      await sleep(50) // B's discovery at start (no peers yet) ends
      const done = new Promise<number>((resolve, reject) => {
        off = db.on('sync', (event) => {
          if (event.peer !== aId) return
          if (event.phase === 'start') startAt ??= performance.now()
          else if (event.phase === 'done') resolve(performance.now())
          else if (event.phase === 'error') reject(event.error ?? new Error('sync failed'))
        })
      })
      done.catch(() => {})
      const t0 = performance.now()
      await b.dial(a.multiaddrs[0] ?? '', { signal: AbortSignal.timeout(10_000) })
      const dialMs = performance.now() - t0
      await bounded(done, SESSION_MS, 'the catch-up session to end')
      let count = await collection.count()
      if (count !== n) {
        await waitFor(`B to count ${n} records`, async () => (count = await collection.count()) === n, 10_000)
      }
      const ms = performance.now() - t0
      return { ms, dialMs, midMs: (startAt ?? NaN) - t0 }
    } finally {
      off?.()
      await db.close()
    }
  } finally {
    await b.close()
  }
}

/** Fills A's database while A is offline, then starts A: nothing is queued for the DHT. */
async function startSource (sandbox: NetSandbox, n: number, log: (line: string) => void): Promise<{ peer: NodePeer, close: () => Promise<void> }> {
  const dataDir = sandbox.path('a')
  log(`replicate ${n}: filling A (${fmt(n)} records)`)
  const offline = await createDatabase({ name: DB_NAME, storage: levelStorage(join(dataDir, 'databases', databaseDirectoryName(DB_NAME))) })
  await insertConcurrently(offline.collection(COLLECTION, { schema: todoSchema }), todos(n))
  await offline.close()
  const peer = await sandbox.peer('a', { dataDir })
  const db = await createDatabase({ name: DB_NAME, peer, replication: QUIET_REPLICATION })
  const count = await db.collection(COLLECTION, { schema: todoSchema }).count()
  if (count !== n) throw new Error(`A holds ${count} records, expected ${n}`)
  return { peer, close: async () => db.close() }
}

/** The first catch-up from A right after A opened its database: timed, or why it failed. */
interface Cold {
  readonly ms?: number
  readonly error?: string
  /** Sessions run until one succeeded (each with a fresh B). */
  readonly attempts: number
}

/**
 * The first catch-up session A serves after opening its database loads
 * A's collection index from storage (later sessions find it in memory).
 * Timed here once, apart from the measured rounds; sessions are retried
 * with fresh B peers until one succeeds, so that the rounds find A warm.
 */
async function coldCatchUp (sandbox: NetSandbox, a: NodePeer, n: number, log: (line: string) => void): Promise<Cold> {
  let error: string | undefined
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      const run = await kadmiumRun(sandbox, a, n)
      log(`replicate ${n}: first catch-up from A (cold), attempt ${attempt}: ${fmt(run.ms)} ms`)
      return error === undefined ? { ms: run.ms, attempts: attempt } : { error, attempts: attempt }
    } catch (e) {
      error ??= `${(e as Error).name}: ${(e as Error).message}`
      log(`replicate ${n}: first catch-up from A (cold), attempt ${attempt} failed: ${(e as Error).message}`)
    }
  }
  throw new Error(`no catch-up session from A succeeded in 4 attempts; the first failed with ${error ?? '?'}`)
}

async function startRawSource (sandbox: NetSandbox, n: number): Promise<BareNode> {
  const level = await openRawLevel(sandbox.path('a-raw'))
  sandbox.track('raw LevelDB of A', async () => level.close(), 'nodes')
  await baselinePopulate(level, todos(n))
  const a = await sandbox.bare()
  await a.handle(PROTOCOL, async (stream) => {
    try {
      await serveRaw(stream, level)
    } catch (error) {
      stream.abort(error as Error)
    }
  })
  return a
}

export const replicate: Scenario = {
  name: 'replicate',
  description: 'a fresh peer catches up N records over TCP loopback: Kadmium sync vs the same updates raw on one libp2p stream',
  async run ({ quick, rounds: roundsAsked, log }) {
    const sizes = quick ? [1_000] : [1_000, 10_000]
    const rounds = roundsAsked ?? (quick ? 3 : 5)
    const disarm = watchdog(quick ? QUICK_WATCHDOG_MS : 600_000, 'replicate')
    const rows: ResultRow[] = []
    const details: Record<string, unknown> = {}
    const colds: Record<string, Cold> = {}
    try {
      for (const [i, n] of sizes.entries()) {
        await withSandbox('replicate', log, async (sandbox) => {
          const source = await startSource(sandbox, n, log)
          try {
            const cold = await coldCatchUp(sandbox, source.peer, n, log)
            colds[String(n)] = cold
            const raw = await startRawSource(sandbox, n)
            const variants: Array<Variant<CatchUp>> = [
              { name: 'kadmium', run: async () => kadmiumRun(sandbox, source.peer, n) },
              { name: 'baseline', run: async () => baselineRun(sandbox, raw, n) }
            ]
            const results = await interleave(variants, {
              rounds,
              // The cold session above already ran the code once; a full run warms up once more.
              warmup: quick || i > 0 ? 0 : 1,
              onSample: (name, round, r) => { log(`replicate ${n}: round ${round + 1}/${rounds} ${name}: ${fmt(r.ms)} ms (dial ${fmt(r.dialMs)} ms, ${name === 'kadmium' ? 'session start' : 'received'} ${fmt(r.midMs)} ms)`) }
            })
            const k = resultsOf(results, 'kadmium')
            const b = resultsOf(results, 'baseline')
            const ms = (list: CatchUp[]): number[] => list.map((r) => r.ms)
            const perSecond = (list: CatchUp[]): number[] => list.map((r) => n / (r.ms / 1000))
            rows.push(
              valueRow(K_CASE, 'kadmium', n, 'ms', 'lower', ms(k), { case: B_CASE, values: ms(b) }),
              valueRow(B_CASE, 'baseline', n, 'ms', 'lower', ms(b)),
              valueRow(B_RECEIVED, 'baseline', n, 'ms', 'lower', b.map((r) => r.midMs)),
              valueRow(K_START, 'kadmium', n, 'ms', 'lower', k.map((r) => r.midMs)),
              valueRow(K_RATE, 'kadmium', n, 'records/s', 'higher', perSecond(k), { case: B_RATE, values: perSecond(b) }),
              valueRow(B_RATE, 'baseline', n, 'records/s', 'higher', perSecond(b))
            )
            if (cold.ms !== undefined) rows.push(valueRow(K_COLD, 'kadmium', n, 'ms', 'lower', [cold.ms]))
            details[String(n)] = {
              dialMs: { kadmium: summarize(k.map((r) => r.dialMs)).median, baseline: summarize(b.map((r) => r.dialMs)).median }
            }
          } finally {
            await source.close()
          }
        })
      }
    } finally {
      disarm()
    }
    const targets: TargetResult[] = [
      target('catch-up of 1,000 records ≤ 250 ms', findRow(rows, K_CASE, 'kadmium', 1_000)?.summary.median, 250, 'lower', 'ms'),
      target('catch-up of 10,000 records ≤ 2,000 ms', findRow(rows, K_CASE, 'kadmium', 10_000)?.summary.median, 2_000, 'lower', 'ms')
    ]
    return {
      params: { sizes, rounds, writeBatch: WRITE_BATCH, storeBatch: STORE_BATCH, coldFirstCatchUp: colds, ...details },
      rows,
      targets,
      notes: [
        ...Object.entries(colds).map(([n, c]) => c.ms !== undefined
          ? `${fmt(Number(n))} records: the first session after A opened its database (A loads its collection index from storage) took ${fmt(c.ms)} ms; the rounds measure A warm.`
          : `${fmt(Number(n))} records: the first session after A opened its database FAILED (${c.error ?? '?'}); session ${c.attempts} succeeded. The rounds measure A warm.`),
        'Every repetition uses a fresh peer B (new identity, new LevelDB); A stays up. Only loopback TCP.',
        'Kadmium: dial of A until B\'s sync "done" event for A and count() = N (the session starts once identify has run).',
        `Baseline: bare libp2p nodes, the same N updates as [id, update] frames on one stream (${WRITE_BATCH} a write); B' applies each to a Y.Doc and stores it in LevelDB batches of ${STORE_BATCH}.`
      ]
    }
  }
}
