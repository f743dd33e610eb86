/**
 * Replication to a peer that opens the database afterwards (a late
 * joiner), against OrbitDB 4, over TCP 127.0.0.1.
 *
 * - OrbitDB: peer A (Helia + libp2p + OrbitDB, LevelDB; `bench/lib/orbitdb.ts`)
 *   holds a documents database of N documents, written before B exists.
 *   Each repetition starts a fresh peer B (new identity and directory;
 *   not timed), then times: B dials A, opens the database by its address
 *   (`orbitdb.open(address)`: the manifest comes over bitswap), and waits
 *   until it holds all N documents (see `waitForDocuments`: the time is
 *   taken at the `update` event, or poll, after which `all()` counted N).
 * - Kadmium: peer A (`nodePeer`, LevelDB) holds N records, written before
 *   B exists (a fresh A each repetition, filled before the clock starts,
 *   so that A has no DHT puts running from an earlier B). A fresh peer B
 *   then, timed: dials A, opens the database by its address
 *   (`createDatabase({ address, peer })`: the manifest comes from A, asked directly, or the DHT),
 *   and waits until `todos.count()` is N (polled every 5 ms).
 *
 * The absolute catch-up targets (1,000 ≤ 250 ms, 10,000 ≤ 2 s) are the
 * `replicate` scenario's (by name, from dial to sync done); this one has
 * the ratio to OrbitDB.
 * @module
 */
import { newId } from '@kadmium/core'
import { insertConcurrently, todos, type Todo } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { createOrbitDocuments, startOrbitNode, waitForDocuments, type OrbitNode } from '../lib/orbitdb.ts'
import { connectPeers, openShared, startPeer, withCleanup } from '../lib/peers.ts'
import { fmt, target, valueRow, type ResultRow, type TargetResult } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { pairedRatio } from '../lib/stats.ts'
import { guard, until } from '../lib/wait.ts'
import { QUICK_WATCHDOG_MS } from '../lib/budget.ts'

const ORBIT = 'OrbitDB: dial, open(address), all N documents'
const KADMIUM = 'Kadmium: dial, open by address, count() = N'

async function orbitRound (a: OrbitNode, address: string, n: number, log: (line: string) => void): Promise<number> {
  return withCleanup(log, async (cleanup) => {
    const b = await startOrbitNode('late-joiner')
    cleanup.add('OrbitDB node B', async () => b.close())
    const start = performance.now()
    await b.libp2p.dial(a.libp2p.getMultiaddrs(), { signal: AbortSignal.timeout(10_000) })
    const db = await b.orbitdb.open<Todo & { _id: string }>(address)
    const doneAt = await waitForDocuments(db, n, n >= 10_000 ? 600_000 : 120_000)
    return doneAt - start
  })
}

async function kadmiumRound (records: readonly Todo[], log: (line: string) => void): Promise<number> {
  return withCleanup(log, async (cleanup) => {
    const a = await startPeer('writer', cleanup)
    const writer = await openShared(a, cleanup)
    await insertConcurrently(writer.todos, records)
    const b = await startPeer('late-joiner', cleanup)
    const start = performance.now()
    await connectPeers(b, a)
    const reader = await openShared(b, cleanup, { address: writer.db.address })
    await until(`${records.length} records on the late joiner`, async () => await reader.todos.count() === records.length, 120_000)
    return performance.now() - start
  })
}

export const orbitdbReplicate: Scenario = {
  name: 'orbitdb-replicate',
  description: 'warm process, repeated rounds: a late joiner started inside the long-running bench process opens a database of N records by address and catches up: Kadmium vs OrbitDB 4, TCP loopback (a fresh process: cold-join)',
  async run ({ quick, rounds: roundsAsked, log }) {
    const disarm = guard(quick ? QUICK_WATCHDOG_MS : 2_700_000, 'orbitdb-replicate')
    const sizes = quick ? [50] : [1_000, 10_000]
    const rows: ResultRow[] = []
    const roundsBySize: Record<number, number> = {}
    const speedups: Record<number, number> = {}
    for (const [i, n] of sizes.entries()) {
      const rounds = roundsAsked ?? (quick ? 3 : n >= 10_000 ? 2 : 3)
      roundsBySize[n] = rounds
      const records = todos(n)
      await withCleanup(log, async (cleanup) => {
        const a = await startOrbitNode('writer')
        cleanup.add('OrbitDB node A', async () => a.close())
        const db = await createOrbitDocuments(a, 'bench-replicate')
        log(`orbitdb-replicate ${n}: writing ${fmt(n)} OrbitDB documents on A`)
        for (const record of records) await db.put({ _id: newId(), ...record })
        const variants: Array<Variant<number>> = [
          { name: ORBIT, run: async () => orbitRound(a, db.address, n, log) },
          { name: KADMIUM, run: async () => kadmiumRound(records, log) }
        ]
        const results = await interleave(variants, {
          rounds,
          warmup: quick || i > 0 ? 0 : 1,
          onSample: (name, round, ms) => { log(`orbitdb-replicate ${n}: round ${round + 1}/${rounds} ${name}: ${fmt(ms)} ms`) }
        })
        const orbit = resultsOf(results, ORBIT)
        const kadmium = resultsOf(results, KADMIUM)
        speedups[n] = pairedRatio(orbit, kadmium).median
        rows.push(
          valueRow(KADMIUM, 'kadmium', n, 'ms', 'lower', kadmium, { case: ORBIT, values: orbit }),
          valueRow(ORBIT, 'orbitdb', n, 'ms', 'lower', orbit)
        )
      })
    }
    disarm()
    const targets: TargetResult[] = [1_000, 10_000].map((n) =>
      target(`late joiner catches up ≥ 20× faster than OrbitDB (${fmt(n)} records)`, speedups[n], 20, 'higher', '×'))
    return {
      params: { sizes, rounds: roundsBySize, speedupOverOrbitDB: speedups },
      rows,
      targets,
      notes: [
        'Warm figures: A and B both run inside the one long-running bench process, which repeats the rounds (modules loaded, code JIT-compiled by the earlier rounds); no process starts in the timed part. What a fresh app process meets is the cold-join scenario.',
        'Times run from B\'s dial of A until B holds every record; starting B and filling A are not timed. K/B is Kadmium ÷ OrbitDB (lower is better for Kadmium).',
        `Kadmium faster by (OrbitDB ÷ Kadmium, paired): ${sizes.map((n) => `${fmt(n)}: ${fmt(speedups[n] ?? NaN, 1)}×`).join(', ')}.`,
        'OrbitDB\'s time is taken when its `update` event (or a poll) saw all N documents, not when the `all()` that counted them returned (seconds at 10,000).'
      ]
    }
  }
}
