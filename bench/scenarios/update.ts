/**
 * Local update throughput on LevelDB, over records that exist.
 *
 * - Kadmium, sequential: `await todos.update(id, t => { t.done = !t.done })`
 *   for every record, one at a time, in insertion order.
 * - Kadmium, concurrent: the same in `Promise.all` chunks of 100.
 * - Baseline: raw Yjs on the same LevelDB, per record: `await db.get`,
 *   `Y.applyUpdate` into a new `Y.Doc`, flip `done` in its `Y.Map`, encode
 *   the state, one awaited `db.put`.
 *
 * Each size's databases are filled once (not timed) and stay open; every
 * round flips every record once. With the default cache of 1,000 documents,
 * 10,000 records in order means Kadmium loads every document from storage.
 * @module
 */
import * as Y from 'yjs'
import { BASELINE_ROOT, baselineKey, baselinePopulate, decodeRecord, insertConcurrently, openKadmium, openRawLevel, todos, type KadmiumTodos, type RawLevel } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { sampleMemory } from '../lib/memory.ts'
import { fmt, throughputRow, type ResultRow, type Sample } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { makeTempDir, removeTempDir } from '../lib/tempdir.ts'
import { rate, timeOps } from '../lib/timing.ts'
import { OverBudget, sizeBudgetMs, withinBudget } from '../lib/budget.ts'

const CHUNK = 100
const SEQUENTIAL = 'update, sequential awaited'
const CONCURRENT = `update, concurrent (chunks of ${CHUNK})`
const BASELINE = 'update, get + Y.Doc + awaited put'

async function kadmiumRun (k: KadmiumTodos, ids: readonly string[], concurrent: boolean): Promise<Sample> {
  const flip = (t: { done: boolean }): void => { t.done = !t.done }
  const timed = await timeOps(ids.length, async () => {
    if (concurrent) {
      for (let i = 0; i < ids.length; i += CHUNK) await Promise.all(ids.slice(i, i + CHUNK).map(async (id) => k.todos.update(id, flip)))
    } else {
      for (const id of ids) await k.todos.update(id, flip)
    }
    await k.settled()
  })
  return { ...timed, ...sampleMemory() }
}

async function baselineRun (db: RawLevel, ids: readonly string[]): Promise<Sample> {
  const timed = await timeOps(ids.length, async () => {
    for (const id of ids) {
      const key = baselineKey(id)
      const bytes = await db.get(key)
      if (bytes === undefined) throw new Error(`baseline record ${id} is missing`)
      const doc = decodeRecord(bytes)
      const map = doc.getMap<unknown>(BASELINE_ROOT)
      doc.transact(() => { map.set('done', map.get('done') !== true) })
      await db.put(key, Y.encodeStateAsUpdate(doc))
      doc.destroy()
    }
  })
  return { ...timed, ...sampleMemory() }
}

export const update: Scenario = {
  name: 'update',
  description: 'local updates of existing records on LevelDB: Kadmium vs raw Yjs get + apply + put',
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
      const kDir = makeTempDir('update')
      const bDir = makeTempDir('update-baseline')
      const k = await openKadmium(kDir)
      const b = await openRawLevel(bDir)
      let overrun = false
      try {
        const [kIds, bIds, results] = await withinBudget(`update ${fmt(n)}`, sizeBudgetMs(quick, n), async () => {
          log(`update ${n}: filling the databases`)
          const kIds = await insertConcurrently(k.todos, records)
          const bIds = await baselinePopulate(b, records)
          const variants: Array<Variant<Sample>> = [
            { name: SEQUENTIAL, run: async () => kadmiumRun(k, kIds, false) },
            { name: BASELINE, run: async () => baselineRun(b, bIds) },
            { name: CONCURRENT, run: async () => kadmiumRun(k, kIds, true) }
          ]
          return [kIds, bIds, await interleave(variants, {
            rounds,
            warmup: i === 0 ? 1 : 0,
            onSample: (name, round, s) => { log(`update ${n}: round ${round + 1}/${rounds} ${name}: ${fmt(rate(s))} ops/s`) }
          })] as const
        })
        if (bIds.length !== kIds.length) throw new Error('the databases hold different numbers of records')
        const baseline = { case: BASELINE, samples: resultsOf(results, BASELINE) }
        rows.push(
          throughputRow(SEQUENTIAL, 'kadmium', n, resultsOf(results, SEQUENTIAL), baseline),
          throughputRow(CONCURRENT, 'kadmium', n, resultsOf(results, CONCURRENT), baseline),
          throughputRow(BASELINE, 'baseline', n, baseline.samples)
        )
        const row = await k.todos.get(kIds[0] as string)
        if (row === undefined) throw new Error('an updated record is missing')
      } catch (error) {
        if (!(error instanceof OverBudget)) throw error
        overrun = true
        abandoned.push(error.message)
        log(error.message)
      } finally {
        // Abandoned work still uses the databases: leave them (the exit hook removes the directories).
        if (!overrun) {
          await k.db.close()
          await b.close()
          await removeTempDir(kDir)
          await removeTempDir(bDir)
        }
      }
      if (overrun) break
    }
    return {
      params: { sizes, rounds: roundsBySize, chunk: CHUNK },
      rows,
      targets: [],
      notes: [
        'Databases are filled once per size (not timed) and stay open; each round flips `done` on every record once, in insertion order.',
        'Kadmium keeps at most 1,000 documents cached (the default cacheSize), so at 10,000 records every update loads its document from storage.',
        'Kadmium\'s LevelDB storage resolves a write once it is in its journal and hands it to LevelDB on the next turn; the clock stops once LevelDB holds every update.',
        ...abandoned.map((a) => `${a} (larger sizes skipped).`)
      ]
    }
  }
}
