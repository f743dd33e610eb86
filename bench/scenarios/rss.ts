/**
 * Memory of an open database holding 10,000 (and 100,000) records.
 *
 * The databases are filled here (not measured); then each measurement runs
 * in a fresh Node process, `bench/lib/rss-child.js`: plain JavaScript on
 * compiled Kadmium (`dist/`, built here first with `tsc -b`), as an app
 * runs it — a process of Kadmium's TypeScript sources would also hold
 * Node's type stripper (some 30 MB). The process reads its memory after a
 * memory-reducing GC (as V8's memory reducer does in an idle app; a plain
 * `gc()` keeps the pages of a young generation grown to 64 MB pooled), opens
 * the database, reads every record and runs a query, and reads its memory
 * again. Its peak RSS is reported too. Kadmium and baseline processes
 * alternate.
 *
 * - Kadmium: `todos.find()` (every row) and `todos.find(Q1)`, database open.
 * - Baseline: raw Yjs on the same LevelDB, every record decoded into a
 *   `Y.Doc` kept in a Map (its open records) plus a plain row each, and Q1
 *   as filter/sort.
 * @module
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { BASELINE_PREFIX, BASELINE_PREFIX_END, BASELINE_ROOT, baselinePopulate, insertConcurrently, openKadmium, openRawLevel, todos } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { runScript } from '../lib/isolate.ts'
import type { MemoryReading } from '../lib/memory.ts'
import { findRow, fmt, target, valueRow, type ResultRow } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { makeTempDir, removeTempDir } from '../lib/tempdir.ts'
import { Q1 } from './find.ts'

/** What a measuring process reports. */
export interface RssMeasurement {
  readonly before: MemoryReading
  readonly after: MemoryReading
  readonly peakRssMB: number
  readonly records: number
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CHILD = fileURLToPath(new URL('../lib/rss-child.js', import.meta.url))

/** Builds `dist/` from the current sources (incremental: seconds when nothing changed). */
function buildCompiled (): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '-b'], { cwd: ROOT, stdio: 'inherit' })
}

/** Measures `which` on the database at `dir` in a fresh plain-JS process. */
async function measure (which: 'kadmium' | 'baseline', dir: string, records: number, timeoutMs: number): Promise<RssMeasurement> {
  const arg = { dir, records, query: Q1, prefix: BASELINE_PREFIX, prefixEnd: BASELINE_PREFIX_END, root: BASELINE_ROOT }
  return runScript<RssMeasurement>(CHILD, [which, JSON.stringify(arg)], `rss ${which}`, { timeoutMs })
}

const ABSOLUTE = 'RSS, open with every record read'
const PEAK = 'peak RSS while opening and reading'
const GROWTH = 'RSS growth from opening and reading'
const HEAP = 'JS heap used, open with every record read'

export const rss: Scenario = {
  name: 'rss',
  description: 'memory of an open database of 10,000 and 100,000 records, each measurement in a fresh process',
  async run ({ quick, rounds: roundsAsked, log }) {
    // Quick: a small database, so that the quick run stays short (the 10,000-record target is then not measured).
    const sizes = quick ? [1_000] : [10_000, 100_000]
    const rounds = roundsAsked ?? 3
    log('rss: building dist/ (tsc -b)')
    buildCompiled()
    const rows: ResultRow[] = []
    const perSize: Record<number, unknown> = {}
    const abandoned: string[] = []
    for (const n of sizes) {
      const kDir = makeTempDir('rss')
      const bDir = makeTempDir('rss-baseline')
      try {
        log(`rss ${fmt(n)}: filling the databases`)
        const records = todos(n)
        const kadmium = await openKadmium(kDir)
        await insertConcurrently(kadmium.todos, records, n >= 100_000 ? 500 : 100)
        await kadmium.db.close()
        const level = await openRawLevel(bDir)
        await baselinePopulate(level, records)
        await level.close()
        // A measuring process that overruns is killed: the size is reported as not measured.
        const limit = quick ? 60_000 : 300_000
        const variants: Array<Variant<RssMeasurement>> = [
          { name: 'kadmium', run: async () => measure('kadmium', kDir, n, limit) },
          { name: 'baseline', run: async () => measure('baseline', bDir, n, limit) }
        ]
        let results: Map<string, RssMeasurement[]>
        try {
          results = await interleave(variants, {
            rounds,
            warmup: 0,
            onSample: (name, round, m) => { log(`rss ${fmt(n)}: round ${round + 1}/${rounds} ${name}: ${fmt(m.before.rssMB)} → ${fmt(m.after.rssMB)} MB RSS`) }
          })
        } catch (error) {
          const message = `rss ${fmt(n)} records: ${(error as Error).message}`
          abandoned.push(message)
          log(message)
          break
        }
        const k = resultsOf(results, 'kadmium')
        const b = resultsOf(results, 'baseline')
        const absolute = (list: RssMeasurement[]): number[] => list.map((m) => m.after.rssMB)
        const peak = (list: RssMeasurement[]): number[] => list.map((m) => m.peakRssMB)
        const growth = (list: RssMeasurement[]): number[] => list.map((m) => m.after.rssMB - m.before.rssMB)
        const heap = (list: RssMeasurement[]): number[] => list.map((m) => m.after.heapUsedMB)
        rows.push(
          valueRow(ABSOLUTE, 'kadmium', n, 'MB', 'lower', absolute(k), { case: ABSOLUTE, values: absolute(b) }),
          valueRow(ABSOLUTE, 'baseline', n, 'MB', 'lower', absolute(b)),
          valueRow(PEAK, 'kadmium', n, 'MB', 'lower', peak(k), { case: PEAK, values: peak(b) }),
          valueRow(PEAK, 'baseline', n, 'MB', 'lower', peak(b)),
          valueRow(GROWTH, 'kadmium', n, 'MB', 'lower', growth(k), { case: GROWTH, values: growth(b) }),
          valueRow(GROWTH, 'baseline', n, 'MB', 'lower', growth(b)),
          valueRow(HEAP, 'kadmium', n, 'MB', 'lower', heap(k), { case: HEAP, values: heap(b) }),
          valueRow(HEAP, 'baseline', n, 'MB', 'lower', heap(b))
        )
        perSize[n] = {
          beforeRssMB: { kadmium: k.map((m) => m.before.rssMB), baseline: b.map((m) => m.before.rssMB) },
          beforeHeapUsedMB: { kadmium: k.map((m) => m.before.heapUsedMB), baseline: b.map((m) => m.before.heapUsedMB) }
        }
      } finally {
        await removeTempDir(kDir)
        await removeTempDir(bDir)
      }
    }
    return {
      params: { sizes, rounds, perSize },
      rows,
      targets: [target('10,000 open records ≤ 100 MB RSS', findRow(rows, ABSOLUTE, 'kadmium', 10_000)?.summary.median, 100, 'lower', 'MB')],
      notes: [
        'Each value comes from a fresh plain-JavaScript process on compiled Kadmium (dist/, as apps run it; Node\'s type stripping would add some 30 MB), read after a memory-reducing full GC (what V8\'s memory reducer runs in an idle app: a plain gc() keeps the pages of the young generation, grown to 64 MB while reading, pooled and counted in RSS). The peak row is the process\'s largest RSS, young generation included.',
        '"Growth" is RSS after minus RSS before opening (modules already loaded). A local-only Kadmium process loads no libp2p code.',
        'The baseline keeps every record as a Y.Doc plus a plain row; Kadmium keeps its row view (and its cache of up to 1,000 documents).',
        ...abandoned.map((a) => `${a} (larger sizes skipped).`)
      ]
    }
  }
}
