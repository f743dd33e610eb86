/**
 * Memory of an open database holding 10,000 (and 100,000) records.
 *
 * The databases are filled here (not measured); then each measurement runs
 * in a fresh Node process (`--expose-gc`), so that nothing measured earlier
 * is in its heap: read RSS after a GC, open the database, read every record
 * and run a query, GC again, read RSS. Kadmium and baseline processes
 * alternate.
 *
 * - Kadmium: `todos.find()` (every row) and `todos.find(Q1)`, database open.
 * - Baseline: raw Yjs on the same LevelDB, every record decoded into a
 *   `Y.Doc` kept in a Map (its open records) plus a plain row each, and Q1
 *   as filter/sort.
 * @module
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type * as Y from 'yjs'
import { PREFIX_END } from '@kadmium/core'
import { BASELINE_PREFIX, BASELINE_ROOT, baselinePopulate, decodeRecord, insertConcurrently, openKadmium, openRawLevel, todos, type Todo } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { runInlineModule, runIsolated } from '../lib/isolate.ts'
import { peakRssMB, settledMemory, type MemoryReading } from '../lib/memory.ts'
import { findRow, fmt, target, valueRow, type ResultRow } from '../lib/report.ts'
import { median } from '../lib/stats.ts'
import type { Scenario } from '../lib/scenario.ts'
import { kadmiumStorage } from '../lib/storage.ts'
import { makeTempDir, removeTempDir } from '../lib/tempdir.ts'
import { Q1 } from './find.ts'

/** What a measuring process reports. */
export interface RssMeasurement {
  readonly before: MemoryReading
  readonly after: MemoryReading
  readonly peakRssMB: number
  readonly records: number
}

/** What a measuring process takes. */
export interface RssArgs {
  readonly dir: string
  readonly records: number
}

/** Child process: opens the Kadmium database at `dir`, reads everything, measures. */
export async function measureKadmium ({ dir, records }: RssArgs): Promise<RssMeasurement> {
  await kadmiumStorage() // load @kadmium/node/level before the first reading: modules are not data
  const before = await settledMemory()
  const { db, todos: collection } = await openKadmium(dir)
  const all = await collection.find()
  const open = await collection.find(Q1)
  if (all.length !== records || open.length === 0) throw new Error(`read ${all.length} records, expected ${records}`)
  const after = await settledMemory()
  const result = { before, after, peakRssMB: peakRssMB(), records: all.length }
  await db.close()
  return result
}

/** Child process: opens the baseline database at `dir`, decodes everything into Y.Docs, measures. */
export async function measureBaseline ({ dir, records }: RssArgs): Promise<RssMeasurement> {
  const before = await settledMemory()
  const db = await openRawLevel(dir)
  const docs = new Map<string, Y.Doc>()
  const rows: Array<Todo & { id: string }> = []
  for await (const [key, bytes] of db.iterator({ gte: BASELINE_PREFIX, lt: BASELINE_PREFIX + PREFIX_END })) {
    const id = key.slice(BASELINE_PREFIX.length)
    const doc = decodeRecord(bytes)
    docs.set(id, doc)
    rows.push({ ...doc.getMap(BASELINE_ROOT).toJSON() as Todo, id })
  }
  const open = rows.filter((r) => !r.done).sort((a, b) => a.title < b.title ? -1 : a.title > b.title ? 1 : 0).slice(0, Q1.limit)
  if (rows.length !== records || docs.size !== records || open.length === 0) throw new Error(`read ${rows.length} records, expected ${records}`)
  const after = await settledMemory()
  const result = { before, after, peakRssMB: peakRssMB(), records: rows.length }
  await db.close()
  return result
}

/**
 * The packages a local app on compiled Kadmium loads at run time: the
 * runtime dependencies `@kadmium/core` declares, classic-level (all that
 * `@kadmium/node/level` needs) and zod for the schema (Kadmium's own
 * compiled code adds well under 1 MB). `bench/` runs Kadmium's TypeScript
 * sources through Node's type stripping, which alone holds some 30 MB of RSS.
 */
function runtimePackages (): string[] {
  const deps = new Set<string>(['zod', 'classic-level'])
  const json = JSON.parse(readFileSync(new URL('../../packages/core/package.json', import.meta.url), 'utf8')) as { dependencies?: Record<string, string> }
  for (const name of Object.keys(json.dependencies ?? {})) if (!name.startsWith('@kadmium/')) deps.add(name)
  return [...deps].sort()
}

/** RSS (MB) of a fresh plain-JS process that has imported `packages`, after a GC. */
async function referenceRssMB (packages: readonly string[]): Promise<number> {
  // Packages without a runtime entry (types only) fail to import; that costs nothing anyway.
  const code = `for (const p of ${JSON.stringify(packages)}) { try { await import(p) } catch {} }\n` +
    'globalThis.gc(); await new Promise((r) => setImmediate(r)); globalThis.gc()\nconsole.log(process.memoryUsage().rss / 1048576)'
  const out = await runInlineModule(code, fileURLToPath(new URL('../..', import.meta.url)))
  const mb = Number(out.trim())
  if (!Number.isFinite(mb)) throw new Error(`reference process printed ${out}`)
  return mb
}

const ABSOLUTE = 'RSS, open with every record read'
const ESTIMATE = 'RSS as compiled JS (est.: plain-JS deps + growth)'
const GROWTH = 'RSS growth from opening and reading'
const HEAP = 'JS heap used, open with every record read'

export const rss: Scenario = {
  name: 'rss',
  description: 'memory of an open database of 10,000 and 100,000 records, each measurement in a fresh process',
  async run ({ quick, rounds: roundsAsked, log }) {
    // Quick: a small database, so that the quick run stays short (the 10,000-record target is then not measured).
    const sizes = quick ? [1_000] : [10_000, 100_000]
    const rounds = roundsAsked ?? 3
    const packages = runtimePackages()
    const reference: number[] = []
    for (let round = 0; round < rounds; round++) reference.push(await referenceRssMB(packages))
    log(`rss: plain-JS process with ${packages.join(', ')} loaded: ${reference.map((x) => fmt(x)).join(', ')} MB`)
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
        const self = import.meta.url
        // A measuring process that overruns is killed: the size is reported as not measured.
        const limit = quick ? 60_000 : 300_000
        const variants: Array<Variant<RssMeasurement>> = [
          { name: 'kadmium', run: async () => runIsolated<RssMeasurement>(self, 'measureKadmium', { dir: kDir, records: n } satisfies RssArgs, { timeoutMs: limit }) },
          { name: 'baseline', run: async () => runIsolated<RssMeasurement>(self, 'measureBaseline', { dir: bDir, records: n } satisfies RssArgs, { timeoutMs: limit }) }
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
        const estimate = (list: RssMeasurement[]): number[] => list.map((m, i) => (reference[i] as number) + m.after.rssMB - m.before.rssMB)
        const absolute = (list: RssMeasurement[]): number[] => list.map((m) => m.after.rssMB)
        const growth = (list: RssMeasurement[]): number[] => list.map((m) => m.after.rssMB - m.before.rssMB)
        const heap = (list: RssMeasurement[]): number[] => list.map((m) => m.after.heapUsedMB)
        rows.push(
          valueRow(ABSOLUTE, 'kadmium', n, 'MB', 'lower', absolute(k), { case: ABSOLUTE, values: absolute(b) }),
          valueRow(ABSOLUTE, 'baseline', n, 'MB', 'lower', absolute(b)),
          valueRow(ESTIMATE, 'kadmium', n, 'MB', 'lower', estimate(k)),
          valueRow(GROWTH, 'kadmium', n, 'MB', 'lower', growth(k), { case: GROWTH, values: growth(b) }),
          valueRow(GROWTH, 'baseline', n, 'MB', 'lower', growth(b)),
          valueRow(HEAP, 'kadmium', n, 'MB', 'lower', heap(k), { case: HEAP, values: heap(b) }),
          valueRow(HEAP, 'baseline', n, 'MB', 'lower', heap(b))
        )
        perSize[n] = {
          beforeRssMB: { kadmium: k.map((m) => m.before.rssMB), baseline: b.map((m) => m.before.rssMB) },
          beforeHeapUsedMB: { kadmium: k.map((m) => m.before.heapUsedMB), baseline: b.map((m) => m.before.heapUsedMB) },
          peakRssMB: { kadmium: k.map((m) => m.peakRssMB), baseline: b.map((m) => m.peakRssMB) }
        }
      } finally {
        await removeTempDir(kDir)
        await removeTempDir(bDir)
      }
    }
    return {
      params: { sizes, rounds, runtimePackages: packages, referenceRssMB: reference, perSize },
      rows,
      targets: [target('10,000 open records ≤ 100 MB RSS (as measured, TypeScript sources)', findRow(rows, ABSOLUTE, 'kadmium', 10_000)?.summary.median, 100, 'lower', 'MB')],
      notes: [
        'Each value comes from a fresh process, after a forced GC; "growth" is RSS after minus RSS before opening (modules already loaded).',
        `The "compiled JS" row adds Kadmium's growth to the RSS (${fmt(median(reference))} MB) of a plain-JS process that imported the runtime dependencies of @kadmium/core, classic-level (for @kadmium/node/level) and zod (${packages.length} packages): the bench runs Kadmium from its TypeScript sources, and Node's type stripping alone holds some 30 MB.`,
        'The baseline keeps every record as a Y.Doc plus a plain row; Kadmium keeps its row view (and its cache of up to 1,000 documents).',
        ...abandoned.map((a) => `${a} (larger sizes skipped).`)
      ]
    }
  }
}
