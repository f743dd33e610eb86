/**
 * Cold start: a fresh process opens a database that already holds N
 * records on disk and answers its first query.
 *
 * The databases are filled here (not measured); each measurement then
 * runs in a fresh Node process, modules already imported, and times from
 * `createDatabase` on the existing LevelDB directory until the first
 * `find(Q1)` (`{ where: { done: false }, orderBy: 'title', limit: 50 }`)
 * returns:
 *
 * - Kadmium, storage only: `createDatabase({ name, storage: levelStorage(dir) })`.
 * - Kadmium, a peer: `nodePeer({ dataDir })` is started first (timed on
 *   its own row), then `createDatabase({ name, peer })` on the peer's
 *   existing database directory (replication starts with it; no other
 *   peer is around).
 * - Baseline: raw Yjs on classic-level: open, scan and decode every
 *   record into plain rows, answer Q1 with filter/sort/slice.
 *
 * The OS page cache is warm (the files were just written): this is the
 * CPU side of a cold start, not the disk's.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createDatabase } from '@kadmium/core'
import { databaseDirectoryName, nodePeer } from '@kadmium/node'
import { BASELINE_PREFIX, BASELINE_PREFIX_END, BASELINE_ROOT, baselinePopulate, COLLECTION, DB_NAME, decodeRecord, insertConcurrently, openKadmium, openRawLevel, todos, todoSchema, type Todo } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { runIsolated } from '../lib/isolate.ts'
import { QUIET } from '../lib/peers.ts'
import { fmt, valueRow, type ResultRow } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { kadmiumStorage, openKadmiumStorage } from '../lib/storage.ts'
import { makeTempDir, removeTempDir } from '../lib/tempdir.ts'
import { Q1 } from './find.ts'

/** What a measuring process takes. */
export interface ColdArgs {
  /** The database's LevelDB directory (storage only, baseline). */
  readonly dir: string
  /** The peer's data directory (peer variant). */
  readonly peerDir: string
  readonly records: number
}

/** What a measuring process reports, in ms. */
export interface ColdResult {
  /** createDatabase (or open) until the first query returned. */
  readonly ms: number
  /** createDatabase alone (or the baseline's open). */
  readonly openMs: number
  /** nodePeer() start, for the peer variant. */
  readonly peerStartMs?: number
}

function expectedQ1 (n: number): number {
  return Math.min(Q1.limit, n - Math.ceil(n / 3))
}

/** Child process: Kadmium on LevelDB storage alone. */
export async function coldStorage ({ dir, records }: ColdArgs): Promise<ColdResult> {
  await kadmiumStorage()
  const start = performance.now()
  const db = await createDatabase({ name: DB_NAME, storage: await openKadmiumStorage(dir) })
  const opened = performance.now()
  const rows = await db.collection(COLLECTION, { schema: todoSchema }).find(Q1)
  const ms = performance.now() - start
  if (rows.length !== expectedQ1(records)) throw new Error(`Q1 returned ${rows.length} rows`)
  await db.close()
  return { ms, openMs: opened - start }
}

/** Child process: Kadmium with a nodePeer on the peer's existing data directory. */
export async function coldPeer ({ peerDir, records }: ColdArgs): Promise<ColdResult> {
  const peerStart = performance.now()
  const peer = await nodePeer({ dataDir: peerDir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, network: 'local' })
  const start = performance.now()
  try {
    const db = await createDatabase({ name: DB_NAME, peer, replication: QUIET })
    const opened = performance.now()
    const rows = await db.collection(COLLECTION, { schema: todoSchema }).find(Q1)
    const ms = performance.now() - start
    if (rows.length !== expectedQ1(records)) throw new Error(`Q1 returned ${rows.length} rows`)
    await db.close()
    return { ms, openMs: opened - start, peerStartMs: start - peerStart }
  } finally {
    await peer.close()
  }
}

/** Child process: raw Yjs on classic-level, everything decoded. */
export async function coldBaseline ({ dir, records }: ColdArgs): Promise<ColdResult> {
  const start = performance.now()
  const db = await openRawLevel(dir)
  const opened = performance.now()
  const rows: Array<Todo & { id: string }> = []
  for await (const [key, bytes] of db.iterator({ gte: BASELINE_PREFIX, lt: BASELINE_PREFIX + BASELINE_PREFIX_END })) {
    const doc = decodeRecord(bytes)
    rows.push(Object.freeze({ ...doc.getMap(BASELINE_ROOT).toJSON() as Todo, id: key.slice(BASELINE_PREFIX.length) }))
    doc.destroy()
  }
  const first = rows.filter((r) => !r.done).sort((a, b) => a.title < b.title ? -1 : a.title > b.title ? 1 : a.id < b.id ? -1 : 1).slice(0, Q1.limit)
  const ms = performance.now() - start
  if (first.length !== expectedQ1(records) || rows.length !== records) throw new Error(`baseline read ${rows.length} records`)
  await db.close()
  return { ms, openMs: opened - start }
}

const STORAGE = 'createDatabase(storage) → first find(Q1)'
const PEER = 'createDatabase(peer) → first find(Q1)'
const PEER_START = 'nodePeer() start (before createDatabase)'
const BASELINE = 'open + scan + decode all + Q1 (baseline)'

export const coldStart: Scenario = {
  name: 'cold-start',
  description: 'cold start: a fresh process opens N records on disk until its first find() returns',
  async run ({ quick, rounds: roundsAsked, log }) {
    const sizes = quick ? [1_000] : [10_000, 100_000]
    const rounds = roundsAsked ?? 3
    const rows: ResultRow[] = []
    const openMs: Record<string, Record<number, number[]>> = {}
    const abandoned: string[] = []
    for (const n of sizes) {
      const root = makeTempDir('cold-start')
      try {
        const peerDir = join(root, 'peer')
        const databases = join(peerDir, 'databases')
        mkdirSync(databases, { recursive: true })
        const dir = join(databases, databaseDirectoryName(DB_NAME))
        const bDir = join(root, 'baseline')
        log(`cold-start ${fmt(n)}: filling the databases`)
        const records = todos(n)
        const k = await openKadmium(dir)
        await insertConcurrently(k.todos, records, n >= 100_000 ? 500 : 100)
        await k.db.close()
        const b = await openRawLevel(bDir)
        await baselinePopulate(b, records)
        await b.close()
        const self = import.meta.url
        const storageArgs: ColdArgs = { dir, peerDir, records: n }
        // Each measuring process is killed if it overruns: a cold start of minutes is reported, not waited out.
        const limit = quick ? 60_000 : n >= 100_000 ? 300_000 : 180_000
        const variants: Array<Variant<ColdResult>> = [
          { name: STORAGE, run: async () => runIsolated<ColdResult>(self, 'coldStorage', storageArgs, { timeoutMs: limit }) },
          { name: PEER, run: async () => runIsolated<ColdResult>(self, 'coldPeer', storageArgs, { timeoutMs: limit }) },
          { name: BASELINE, run: async () => runIsolated<ColdResult>(self, 'coldBaseline', { ...storageArgs, dir: bDir }, { timeoutMs: limit }) }
        ]
        let results: Map<string, ColdResult[]>
        try {
          results = await interleave(variants, {
            rounds,
            warmup: 0,
            onSample: (name, round, r) => { log(`cold-start ${fmt(n)}: round ${round + 1}/${rounds} ${name}: ${fmt(r.ms)} ms`) }
          })
        } catch (error) {
          const message = `cold-start ${fmt(n)} records: ${(error as Error).message}`
          abandoned.push(message)
          log(message)
          break
        }
        const storage = resultsOf(results, STORAGE)
        const peer = resultsOf(results, PEER)
        const baseline = resultsOf(results, BASELINE)
        const ms = (list: ColdResult[]): number[] => list.map((r) => r.ms)
        rows.push(
          valueRow(STORAGE, 'kadmium', n, 'ms', 'lower', ms(storage), { case: BASELINE, values: ms(baseline) }),
          valueRow(PEER, 'kadmium', n, 'ms', 'lower', ms(peer), { case: BASELINE, values: ms(baseline) }),
          valueRow(PEER_START, 'kadmium', n, 'ms', 'lower', peer.map((r) => r.peerStartMs ?? NaN)),
          valueRow(BASELINE, 'baseline', n, 'ms', 'lower', ms(baseline))
        )
        for (const [name, list] of [[STORAGE, storage], [PEER, peer], [BASELINE, baseline]] as const) {
          const byName = openMs[name] ?? {}
          byName[n] = list.map((r) => r.openMs)
          openMs[name] = byName
        }
      } finally {
        await removeTempDir(root)
      }
    }
    return {
      params: { sizes, rounds, query: Q1, openMs },
      rows,
      targets: [],
      notes: [
        'Each value comes from a fresh process (modules imported before the clock starts). The OS page cache is warm.',
        'The first query of a collection loads every stored row (CBOR, no Yjs) into the row view; opening builds no record document.',
        ...abandoned.map((a) => `${a} (larger sizes skipped).`)
      ]
    }
  }
}
