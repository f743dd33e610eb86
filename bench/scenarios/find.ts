/**
 * Query throughput on LevelDB.
 *
 * Per round, each side opens its database afresh and is timed for:
 * - load: open, read every record, and answer the first query (records/s);
 * - Q1 `{ where: { done: false }, orderBy: 'title', limit: 50 }`, repeated;
 * - Q2 an equality query `{ where: { title } }` (one hit), repeated, over
 *   a different title each time.
 *
 * Kadmium runs `todos.find(...)`. The baseline is what an app on raw Yjs
 * would write: scan LevelDB, decode every `Y.Doc`, keep the fields as plain
 * objects, and answer queries with `filter`, `sort` and `slice`.
 * @module
 */
import type * as Y from 'yjs'
import { BASELINE_PREFIX, BASELINE_PREFIX_END, BASELINE_ROOT, baselinePopulate, decodeRecord, insertConcurrently, openKadmium, openRawLevel, todos, type Todo } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { sampleMemory } from '../lib/memory.ts'
import { fmt, throughputRow, type ResultRow, type Sample } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { makeTempDir, removeTempDir } from '../lib/tempdir.ts'
import { rate, timeFor } from '../lib/timing.ts'
import { runSize, stderrLog } from '../lib/budget.ts'

export const Q1 = { where: { done: false }, orderBy: 'title', limit: 50 } as const
const LOAD = 'open + load + first Q1'
const LOAD_BASELINE = 'open + scan + decode + first Q1'
const Q1_CASE = 'Q1 done=false, orderBy title, limit 50'
const Q2_CASE = 'Q2 title = x (1 hit)'
const B = ' (baseline: plain rows)'

interface FindRound {
  readonly load: Sample
  readonly q1: Sample
  readonly q2: Sample
}

type PlainRow = Todo & { readonly id: string }

function compareRows (a: PlainRow, b: PlainRow): number {
  if (a.title !== b.title) return a.title < b.title ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

async function kadmiumRound (dir: string, titles: readonly string[], n: number, queryMs: number): Promise<FindRound> {
  const start = performance.now()
  const { db, todos: collection } = await openKadmium(dir)
  try {
    const first = await collection.find(Q1)
    const load = { ops: n, ms: performance.now() - start, ...sampleMemory() }
    if (first.length !== Math.min(50, n - Math.ceil(n / 3))) throw new Error(`Q1 returned ${first.length} rows`)
    const q1 = await timeFor(queryMs, async () => collection.find(Q1), 5)
    const q2 = await timeFor(queryMs, async (i) => {
      const rows = await collection.find({ where: { title: titles[i % titles.length] as string } })
      if (rows.length !== 1) throw new Error(`Q2 returned ${rows.length} rows`)
    }, 5)
    const memory = sampleMemory()
    return { load, q1: { ...q1, ...memory }, q2: { ...q2, ...memory } }
  } finally {
    await db.close()
  }
}

async function baselineRound (dir: string, titles: readonly string[], n: number, queryMs: number): Promise<FindRound> {
  const q1 = (rows: readonly PlainRow[]): PlainRow[] => rows.filter((r) => !r.done).sort(compareRows).slice(0, 50)
  const start = performance.now()
  const db = await openRawLevel(dir)
  try {
    const rows: PlainRow[] = []
    for await (const [key, bytes] of db.iterator({ gte: BASELINE_PREFIX, lt: BASELINE_PREFIX + BASELINE_PREFIX_END })) {
      const doc: Y.Doc = decodeRecord(bytes)
      rows.push(Object.freeze({ ...doc.getMap(BASELINE_ROOT).toJSON() as Todo, id: key.slice(BASELINE_PREFIX.length) }))
      doc.destroy()
    }
    const first = q1(rows)
    const load = { ops: n, ms: performance.now() - start, ...sampleMemory() }
    if (first.length !== Math.min(50, n - Math.ceil(n / 3))) throw new Error(`baseline Q1 returned ${first.length} rows`)
    // Async like Kadmium's API, so both pay the same per-call promise overhead.
    const t1 = await timeFor(queryMs, async () => q1(rows), 5)
    const t2 = await timeFor(queryMs, async (i) => {
      const title = titles[i % titles.length]
      const found = rows.filter((r) => r.title === title)
      if (found.length !== 1) throw new Error(`baseline Q2 returned ${found.length} rows`)
    }, 5)
    const memory = sampleMemory()
    return { load, q1: { ...t1, ...memory }, q2: { ...t2, ...memory } }
  } finally {
    await db.close()
  }
}

/** What one size's measuring takes (JSON: it may cross a process boundary). */
export interface FindSizeArgs {
  readonly n: number
  readonly rounds: number
  readonly warmup: number
  readonly queryMs: number
}

/** Fills fresh databases with `n` records and measures loading and queries; resolves the size's rows. */
export async function findSize ({ n, rounds, warmup, queryMs }: FindSizeArgs): Promise<ResultRow[]> {
  const log = stderrLog
  const records = todos(n)
  const titles = records.map((r) => r.title)
  const kDir = makeTempDir('find')
  const bDir = makeTempDir('find-baseline')
  try {
    log(`find ${n}: filling the databases`)
    const kadmium = await openKadmium(kDir)
    await insertConcurrently(kadmium.todos, records, n >= 100_000 ? 500 : 100)
    await kadmium.db.close()
    const level = await openRawLevel(bDir)
    await baselinePopulate(level, records)
    await level.close()
    const variants: Array<Variant<FindRound>> = [
      { name: 'kadmium', run: async () => kadmiumRound(kDir, titles, n, queryMs) },
      { name: 'baseline', run: async () => baselineRound(bDir, titles, n, queryMs) }
    ]
    const results = await interleave(variants, {
      rounds,
      warmup,
      onSample: (name, round, r) => { log(`find ${n}: round ${round + 1}/${rounds} ${name}: load ${fmt(rate(r.load))} records/s, Q1 ${fmt(rate(r.q1))}/s, Q2 ${fmt(rate(r.q2))}/s`) }
    })
    const k = resultsOf(results, 'kadmium')
    const b = resultsOf(results, 'baseline')
    const pick = (list: FindRound[], part: keyof FindRound): Sample[] => list.map((r) => r[part])
    return [
      throughputRow(LOAD, 'kadmium', n, pick(k, 'load'), { case: LOAD_BASELINE, samples: pick(b, 'load') }),
      throughputRow(LOAD_BASELINE, 'baseline', n, pick(b, 'load')),
      throughputRow(Q1_CASE, 'kadmium', n, pick(k, 'q1'), { case: Q1_CASE + B, samples: pick(b, 'q1') }),
      throughputRow(Q1_CASE + B, 'baseline', n, pick(b, 'q1')),
      throughputRow(Q2_CASE, 'kadmium', n, pick(k, 'q2'), { case: Q2_CASE + B, samples: pick(b, 'q2') }),
      throughputRow(Q2_CASE + B, 'baseline', n, pick(b, 'q2'))
    ]
  } finally {
    await removeTempDir(kDir)
    await removeTempDir(bDir)
  }
}

export const find: Scenario = {
  name: 'find',
  description: 'queries on LevelDB: Kadmium find() vs raw Yjs decoded into plain objects + filter/sort',
  async run ({ quick, rounds: roundsAsked, log }) {
    const sizes = quick ? [1_000] : [1_000, 10_000, 100_000]
    const queryMs = quick ? 100 : 500
    const rows: ResultRow[] = []
    const roundsBySize: Record<number, number> = {}
    const abandoned: string[] = []
    for (const [i, n] of sizes.entries()) {
      const rounds = roundsAsked ?? (quick ? 3 : n >= 100_000 ? 3 : 5)
      roundsBySize[n] = rounds
      // Full runs measure each size in a process of its own, killed if it overruns its budget.
      const args: FindSizeArgs = { n, rounds, warmup: i === 0 ? 1 : 0, queryMs }
      const sized = await runSize(import.meta.url, 'findSize', args, quick, 'find', abandoned, log)
      if (sized === undefined) break
      rows.push(...sized)
    }
    return {
      params: { sizes, rounds: roundsBySize, queryMs, q1: Q1, q2: '{ where: { title } } (one hit, a different title each call)' },
      rows,
      targets: [],
      notes: [
        'load is in records/s: open the database, read every record, answer Q1 once (Kadmium builds its row view then).',
        `Q1 and Q2 are queries/s over an open database, each repeated for ${queryMs} ms per round.`,
        'Full runs measure each size in a fresh process (no JIT or heap carried over from the smaller sizes).',
        ...abandoned.map((a) => `${a} (larger sizes skipped).`)
      ]
    }
  }
}
