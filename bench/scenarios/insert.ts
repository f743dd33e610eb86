/**
 * Local insert throughput on LevelDB.
 *
 * - Kadmium, sequential: one `await todos.insert(...)` at a time (the fair
 *   comparison with the baseline).
 * - Kadmium, concurrent: `Promise.all` over chunks of 100 inserts, which
 *   Kadmium group-commits into few LevelDB batches.
 * - Baseline: raw Yjs on the same LevelDB: per record a new `Y.Doc`, the
 *   fields set in a `Y.Map`, the update encoded, one awaited `db.put`.
 *
 * Every repetition starts from a fresh, empty database in a new temp dir.
 * @module
 */
import { baselineInsert, insertConcurrently, openKadmium, openRawLevel, todos, type Todo } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { sampleMemory } from '../lib/memory.ts'
import { findRow, fmt, target, throughputRow, type ResultRow, type Sample, type TargetResult } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { withTempDir } from '../lib/tempdir.ts'
import { rate, timeOps } from '../lib/timing.ts'
import { OverBudget, sizeBudgetMs, withinBudget } from '../lib/budget.ts'

export const CHUNK = 100
const SEQUENTIAL = 'insert, sequential awaited'
const CONCURRENT = `insert, concurrent (chunks of ${CHUNK})`
const BASELINE = 'insert, Y.Doc + awaited put'

async function kadmiumRun (records: readonly Todo[], concurrent: boolean): Promise<Sample> {
  return withTempDir('insert', async (dir) => {
    const { db, todos: collection, settled } = await openKadmium(dir)
    try {
      await collection.count() // the collection index is loaded before the clock starts
      const timed = await timeOps(records.length, async () => {
        if (concurrent) {
          await insertConcurrently(collection, records, CHUNK)
        } else {
          for (const record of records) await collection.insert(record)
        }
        await settled()
      })
      const sample = { ...timed, ...sampleMemory() }
      const count = await collection.count()
      if (count !== records.length) throw new Error(`inserted ${records.length} records, the collection counts ${count}`)
      return sample
    } finally {
      await db.close()
    }
  })
}

async function baselineRun (records: readonly Todo[]): Promise<Sample> {
  return withTempDir('insert-baseline', async (dir) => {
    const db = await openRawLevel(dir)
    try {
      const timed = await timeOps(records.length, async () => { await baselineInsert(db, records) })
      return { ...timed, ...sampleMemory() }
    } finally {
      await db.close()
    }
  })
}

export const insert: Scenario = {
  name: 'insert',
  description: 'local inserts on LevelDB: Kadmium sequential and concurrent vs raw Yjs + one awaited put per record',
  async run ({ quick, rounds: roundsAsked, log }) {
    const sizes = quick ? [1_000] : [1_000, 10_000, 100_000]
    const rows: ResultRow[] = []
    const roundsBySize: Record<number, number> = {}
    const abandoned: string[] = []
    for (const [i, n] of sizes.entries()) {
      // 100,000 records: one round (minutes per variant).
      const rounds = roundsAsked ?? (quick ? 3 : n >= 100_000 ? 1 : 5)
      roundsBySize[n] = rounds
      const records = todos(n)
      const variants: Array<Variant<Sample>> = [
        { name: SEQUENTIAL, run: async () => kadmiumRun(records, false) },
        { name: BASELINE, run: async () => baselineRun(records) },
        { name: CONCURRENT, run: async () => kadmiumRun(records, true) }
      ]
      let results: Map<string, Sample[]>
      try {
        results = await withinBudget(`insert ${fmt(n)}`, sizeBudgetMs(quick, n), async () => interleave(variants, {
          rounds,
          warmup: i === 0 ? 1 : 0,
          onSample: (name, round, s) => { log(`insert ${n}: round ${round + 1}/${rounds} ${name}: ${fmt(rate(s))} ops/s`) }
        }))
      } catch (error) {
        if (!(error instanceof OverBudget)) throw error
        abandoned.push(error.message)
        log(error.message)
        break
      }
      const baseline = { case: BASELINE, samples: resultsOf(results, BASELINE) }
      rows.push(
        throughputRow(SEQUENTIAL, 'kadmium', n, resultsOf(results, SEQUENTIAL), baseline),
        throughputRow(CONCURRENT, 'kadmium', n, resultsOf(results, CONCURRENT), baseline),
        throughputRow(BASELINE, 'baseline', n, baseline.samples)
      )
    }
    const targets: TargetResult[] = []
    for (const n of [1_000, 10_000]) {
      const seq = findRow(rows, SEQUENTIAL, 'kadmium', n)
      targets.push(
        target(`sequential inserts ≥ 0.8× baseline (${fmt(n)} records)`, seq?.ratio?.median, 0.8, 'higher', '×'),
        target(`sequential inserts ≥ 5,000/s (${fmt(n)} records)`, seq?.summary.median, 5000, 'higher', 'ops/s')
      )
    }
    return {
      params: { sizes, rounds: roundsBySize, chunk: CHUNK },
      rows,
      targets,
      notes: [
        'Each repetition inserts into a fresh, empty LevelDB; open and close are not timed.',
        'Kadmium\'s LevelDB storage resolves a write once it is in its journal (one synchronous append) and hands it to LevelDB on the next turn; the clock stops once LevelDB holds every record, so Kadmium\'s rows include the whole write.',
        `The concurrent row is compared with the same sequential baseline; Kadmium group-commits the inserts issued while a batch is being stored.`,
        ...abandoned.map((a) => `${a} (larger sizes skipped).`)
      ]
    }
  }
}
