/**
 * Hostile updates: the time Kadmium takes to refuse a crafted Yjs update,
 * and why it must refuse it.
 *
 * - Kadmium, refuse: `db.applyRemoteUpdate({ collection, target: 'record',
 *   id, update })` with a crafted update of about 3 MiB (four families:
 *   appends of one client that each split another client's item further
 *   left, the same with the split item written as a chain, one client
 *   writing many values of one map key without origin, many clients
 *   writing one map key without origin), timed until it rejects with
 *   `MalformedUpdateError`. The update guard walks the bytes before Yjs
 *   sees them, in time linear in their length (it stops at the first
 *   thing it refuses); the database must be left unchanged.
 * - Raw Yjs, crafted: `Y.applyUpdate` of a small (6 KB) crafted update of
 *   the first family into a new `Y.Doc`, beside an honest update of the
 *   same number of items (1,000 array items of one client): what a peer
 *   without the guard pays. (Larger crafted updates take Yjs minutes to
 *   hours: the work grows with the square of their size.)
 * - Raw Yjs, at the limit: `Y.applyUpdate` of the largest many-clients
 *   update the guard accepts (700 clients writing one map key without
 *   origin): Yjs must stay fast on everything the guard lets through.
 *
 * Everything runs in memory (`memoryStorage`): the guard runs before
 * storage is touched.
 * @module
 */
import * as Y from 'yjs'
import { createDatabase, memoryStorage, newId } from '@kadmium/core'
import { COLLECTION, todoSchema } from '../lib/fixtures.ts'
import { manyClientsMapFamily, mapFamily, splitFamily } from '@kadmium/core/testing'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { fmt, findRow, target, valueRow, type ResultRow } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { median } from '../lib/stats.ts'

const MIB = 1024 * 1024
/** Size the crafted updates Kadmium refuses are built for (they come out at 3–3.5 MiB): the largest the guard's tests use. */
const CRAFTED_BYTES = 3 * MIB
/** Clients writing one map key in the largest such update the guard accepts (its default `maxSamePlacePairs` allows about 700). */
const AT_LIMIT_CLIENTS = 700
/** Items of the small crafted update raw Yjs applies (about 6 KB). */
const SMALL_ITEMS = 1000

/** A crafted family: its name, its update, and what the guard says about it. */
interface Family {
  readonly case: string
  readonly items: number
  readonly update: Uint8Array
  readonly reason: RegExp
}

function families (bytes: number): Family[] {
  const split = Math.floor(bytes / 6)
  const chained = Math.floor(bytes / 11)
  const map = Math.floor(bytes / 8)
  const clients = Math.floor(bytes / 18)
  return [
    { case: 'refuse: appends splitting another client\'s item', items: split, update: splitFamily(split), reason: /appends item .* not to the right/ },
    { case: 'refuse: the same, the split item a chain', items: chained, update: splitFamily(chained, true), reason: /appends item .* not to the right/ },
    { case: 'refuse: one client, many values of one map key', items: map, update: mapFamily(map), reason: /writes 3 items at the same place/ },
    { case: 'refuse: many clients on one map key', items: clients, update: manyClientsMapFamily(clients), reason: /pairs of items of different clients claim the same place/ }
  ]
}

/** Milliseconds `Y.applyUpdate` of `update` takes on a new document. */
function yjsApplyMs (update: Uint8Array): number {
  const doc = new Y.Doc()
  const start = performance.now()
  Y.applyUpdate(doc, update)
  const ms = performance.now() - start
  doc.destroy()
  return ms
}

/** An honest update of `n` array items of one client: the crafted small update's counterpart. */
function honestArray (n: number): Uint8Array {
  const doc = new Y.Doc()
  doc.getArray('a').insert(0, Array.from({ length: n }, () => null))
  return Y.encodeStateAsUpdate(doc)
}

const RAW_CRAFTED = `raw Yjs apply: crafted ${SMALL_ITEMS.toLocaleString('en-US')} appends splitting another client's item`
const RAW_HONEST = `raw Yjs apply: honest update of ${SMALL_ITEMS.toLocaleString('en-US')} array items`
const RAW_LIMIT = `raw Yjs apply: ${AT_LIMIT_CLIENTS} clients on one map key (the most the guard accepts)`

export const guard: Scenario = {
  name: 'guard',
  description: 'time to refuse a crafted hostile update of about 3 MiB (the update guard), and what raw Yjs pays applying crafted updates',
  async run ({ quick, rounds: roundsAsked, log }) {
    const rounds = roundsAsked ?? (quick ? 3 : 9)
    const crafted = families(CRAFTED_BYTES)
    const small = splitFamily(SMALL_ITEMS)
    const honest = honestArray(SMALL_ITEMS)
    const atLimit = manyClientsMapFamily(AT_LIMIT_CLIENTS)
    const db = await createDatabase({ name: 'bench-guard', storage: memoryStorage() })
    try {
      const todos = db.collection(COLLECTION, { schema: todoSchema })
      const id = newId()
      /** Offers `family`'s update as a peer's; resolves the time until it was refused. */
      const refuse = async (family: Family): Promise<number> => {
        const start = performance.now()
        try {
          await db.applyRemoteUpdate({ collection: COLLECTION, target: 'record', id, update: family.update })
        } catch (error) {
          const ms = performance.now() - start
          if (!(error instanceof Error) || error.name !== 'MalformedUpdateError' || !family.reason.test(error.message)) throw error
          return ms
        }
        throw new Error(`${family.case}: the crafted update was accepted`)
      }
      const variants: Array<Variant<number>> = [
        ...crafted.map((f) => ({ name: f.case, run: async () => refuse(f) })),
        { name: RAW_CRAFTED, run: async () => yjsApplyMs(small) },
        { name: RAW_HONEST, run: async () => yjsApplyMs(honest) },
        { name: RAW_LIMIT, run: async () => yjsApplyMs(atLimit) }
      ]
      const results = await interleave(variants, {
        rounds,
        warmup: 1,
        onSample: (name, round, ms) => { log(`guard: round ${round + 1}/${rounds} ${name}: ${fmt(ms)} ms`) }
      })
      if (await todos.count() !== 0 || await todos.get(id) !== undefined) throw new Error('a refused update changed the database')

      const rows: ResultRow[] = [
        ...crafted.map((f) => valueRow(`${f.case} (${fmt(f.update.length / MIB, 1)} MiB)`, 'kadmium', f.items, 'ms', 'lower', resultsOf(results, f.case))),
        valueRow(`${RAW_CRAFTED} (${fmt(small.length / 1024, 1)} KB)`, 'baseline', SMALL_ITEMS, 'ms', 'lower', resultsOf(results, RAW_CRAFTED)),
        valueRow(`${RAW_HONEST} (${fmt(honest.length / 1024, 1)} KB)`, 'baseline', SMALL_ITEMS, 'ms', 'lower', resultsOf(results, RAW_HONEST)),
        valueRow(RAW_LIMIT, 'baseline', AT_LIMIT_CLIENTS, 'ms', 'lower', resultsOf(results, RAW_LIMIT))
      ]
      const slowest = Math.max(...crafted.map((f) => median(resultsOf(results, f.case))))
      const craftedMs = median(resultsOf(results, RAW_CRAFTED))
      const honestMs = median(resultsOf(results, RAW_HONEST))
      return {
        params: {
          rounds,
          craftedBytes: Object.fromEntries(crafted.map((f) => [f.case, f.update.length])),
          smallCraftedBytes: small.length,
          honestBytes: honest.length,
          atLimitClients: AT_LIMIT_CLIENTS,
          atLimitBytes: atLimit.length
        },
        rows,
        targets: [
          target('a crafted update of about 3 MiB refused in ≤ 2,000 ms (the slowest of 4 families)', slowest, 2000, 'lower', 'ms'),
          target(`raw Yjs applies the largest many-clients update the guard accepts (${AT_LIMIT_CLIENTS} clients on one key) in ≤ 1,000 ms`, findRow(rows, RAW_LIMIT, 'baseline', AT_LIMIT_CLIENTS)?.summary.median, 1000, 'lower', 'ms')
        ],
        notes: [
          'Kadmium rows: `db.applyRemoteUpdate` of a crafted update until it rejects with MalformedUpdateError (the update guard refuses it before Yjs sees it); "records" is the number of items in the update. The database is checked unchanged afterwards.',
          `Raw Yjs applied the ${fmt(small.length / 1024, 1)} KB crafted update in ${fmt(craftedMs)} ms, ${fmt(craftedMs / honestMs, 0)}× the honest update of as many items (${fmt(honestMs)} ms): the crafted update's cost grows with the square of its size, so at 3 MiB it would hold a peer for minutes or more.`,
          `The at-limit update: ${AT_LIMIT_CLIENTS} clients each writing one value of one map key without origin, integrated in the slowest order (${fmt(atLimit.length / 1024, 1)} KB); the guard accepts it, and raw Yjs must apply it quickly.`
        ]
      }
    } finally {
      await db.close()
    }
  }
}
