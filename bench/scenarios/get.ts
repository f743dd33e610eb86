/**
 * Reads of one record by id on LevelDB, over an open database.
 *
 * - Kadmium: `await todos.get(id)`, right after opening the database (each
 *   id read once: from storage), then the same ids again (from memory).
 * - Baseline: raw Yjs on the same LevelDB: `await db.get(key)`, the update
 *   applied to a new `Y.Doc`, its fields read out as a plain (frozen) row.
 *
 * Ids are read in a scrambled order (the same for both sides), so that
 * successive reads do not hit neighbouring keys; each round reads for a
 * fixed time. Each size's databases are filled once (not timed); Kadmium's
 * is reopened every round (not timed), the baseline's stays open (it
 * keeps nothing in memory).
 * @module
 */
import { BASELINE_ROOT, baselineKey, baselinePopulate, decodeRecord, insertConcurrently, openKadmium, openRawLevel, todos, type Todo } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { sampleMemory } from '../lib/memory.ts'
import { fmt, throughputRow, type ResultRow, type Sample } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { makeTempDir, removeTempDir } from '../lib/tempdir.ts'
import { rate, timeFor } from '../lib/timing.ts'
import { runSize, stderrLog } from '../lib/budget.ts'

const KADMIUM = 'get(id) after open, each id once'
const AGAIN = 'get(id), the same ids again'

interface GetRound {
  /** Reads of ids not read since the database opened. */
  readonly first: Sample
  /** The same ids read again. */
  readonly again: Sample
}
const BASELINE = 'db.get + Y.Doc + fields (baseline)'

/** The order ids are read in: a fixed stride through them, coprime with their count. */
function scrambled (n: number): number[] {
  let stride = Math.floor(n * 0.618) | 1
  const gcd = (a: number, b: number): number => b === 0 ? a : gcd(b, a % b)
  while (gcd(stride, n) !== 1) stride += 2
  return Array.from({ length: n }, (_, i) => (i * stride) % n)
}

/** What one size's measuring takes (JSON: it may cross a process boundary). */
export interface GetSizeArgs {
  readonly n: number
  readonly rounds: number
  readonly warmup: number
  readonly readMs: number
}

/** Fills fresh databases with `n` records and measures reads; resolves the size's rows. */
export async function getSize ({ n, rounds, warmup, readMs }: GetSizeArgs): Promise<ResultRow[]> {
  const log = stderrLog
  const records = todos(n)
  const order = scrambled(n)
  const kDir = makeTempDir('get')
  const bDir = makeTempDir('get-baseline')
  const b = await openRawLevel(bDir)
  try {
    log(`get ${fmt(n)}: filling the databases`)
    const filled = await openKadmium(kDir)
    const kIds = await insertConcurrently(filled.todos, records, n >= 100_000 ? 500 : 100)
    await filled.db.close()
    const bIds = await baselinePopulate(b, records)
    let bNext = 0
    const variants: Array<Variant<GetRound>> = [
      {
        name: KADMIUM,
        run: async () => {
          // A fresh open, so that the first reads go to storage; then the same ids again.
          const k = await openKadmium(kDir)
          try {
            const read = async (i: number): Promise<void> => {
              const id = kIds[order[i % n] as number] as string
              const row = await k.todos.get(id)
              if (row === undefined) throw new Error(`record ${id} is missing`)
            }
            const first = await timeFor(readMs, read, 10)
            const memory = sampleMemory()
            const again = await timeFor(0, read, first.ops)
            return { first: { ...first, ...memory }, again: { ...again, ...memory } }
          } finally {
            await k.db.close()
          }
        }
      },
      {
        name: BASELINE,
        run: async () => {
          const timed = await timeFor(readMs, async () => {
            const id = bIds[order[bNext++ % n] as number] as string
            const bytes = await b.get(baselineKey(id))
            if (bytes === undefined) throw new Error(`baseline record ${id} is missing`)
            const doc = decodeRecord(bytes)
            Object.freeze({ ...doc.getMap(BASELINE_ROOT).toJSON() as Todo, id })
            doc.destroy()
          }, 10)
          const sample = { ...timed, ...sampleMemory() }
          return { first: sample, again: sample }
        }
      }
    ]
    const results = await interleave(variants, {
      rounds,
      warmup,
      onSample: (name, round, r) => { log(`get ${fmt(n)}: round ${round + 1}/${rounds} ${name}: ${fmt(rate(r.first))} reads/s`) }
    })
    const baseline = { case: BASELINE, samples: resultsOf(results, BASELINE).map((r) => r.first) }
    const kadmium = resultsOf(results, KADMIUM)
    return [
      throughputRow(KADMIUM, 'kadmium', n, kadmium.map((r) => r.first), baseline),
      throughputRow(AGAIN, 'kadmium', n, kadmium.map((r) => r.again), baseline),
      throughputRow(BASELINE, 'baseline', n, baseline.samples)
    ]
  } finally {
    await b.close()
    await removeTempDir(kDir)
    await removeTempDir(bDir)
  }
}

export const get: Scenario = {
  name: 'get',
  description: 'reads by id on LevelDB: Kadmium get() vs raw Yjs db.get + decode',
  async run ({ quick, rounds: roundsAsked, log }) {
    const sizes = quick ? [1_000] : [1_000, 10_000, 100_000]
    const readMs = quick ? 100 : 1_000
    const rows: ResultRow[] = []
    const roundsBySize: Record<number, number> = {}
    const abandoned: string[] = []
    for (const [i, n] of sizes.entries()) {
      const rounds = roundsAsked ?? (quick ? 3 : n >= 100_000 ? 3 : 5)
      roundsBySize[n] = rounds
      // Full runs measure each size in a process of its own, killed if it overruns its budget.
      const args: GetSizeArgs = { n, rounds, warmup: i === 0 && !quick ? 1 : 0, readMs }
      const sized = await runSize(import.meta.url, 'getSize', args, quick, 'get', abandoned, log)
      if (sized === undefined) break
      rows.push(...sized)
    }
    return {
      params: { sizes, rounds: roundsBySize, readMs },
      rows,
      targets: [],
      notes: [
        `Reads per second, ${readMs} ms of reads per round, ids in a scrambled order. K/B compares both Kadmium rows with the baseline's reads.`,
        'Full runs measure each size in a fresh process (no JIT or heap carried over from the smaller sizes).',
        ...abandoned.map((a) => `${a} (larger sizes skipped).`)
      ]
    }
  }
}
