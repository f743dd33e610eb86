/**
 * Insert throughput against OrbitDB 4, one awaited write at a time.
 *
 * - OrbitDB: a documents database (`orbitdb.open(name, { type: 'documents' })`)
 *   on Helia + libp2p (TCP 127.0.0.1, gossipsub) with LevelDB storage
 *   (`bench/lib/orbitdb.ts`); `await db.put({ _id, ...todo })` per record.
 * - Kadmium with a peer: `nodePeer` (TCP 127.0.0.1, gossipsub, kad-dht,
 *   LevelDB), `createDatabase({ name, peer })`; `await todos.insert(todo)`
 *   per record. Like the OrbitDB node it replicates, with no other peer
 *   connected: the like-for-like row.
 * - Kadmium without a peer: the same on `levelStorage` alone.
 *
 * Every repetition starts a fresh node and database in a new temp dir
 * (not timed); the variants take turns round by round.
 * @module
 */
import { newId } from '@kadmium/core'
import { openKadmium, todos, type Todo } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { sampleMemory } from '../lib/memory.ts'
import { createOrbitDocuments, startOrbitNode } from '../lib/orbitdb.ts'
import { openShared, startPeer, withCleanup } from '../lib/peers.ts'
import { findRow, fmt, target, throughputRow, type ResultRow, type Sample, type TargetResult } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { withTempDir } from '../lib/tempdir.ts'
import { rate, timeOps } from '../lib/timing.ts'
import { guard } from '../lib/wait.ts'
import { QUICK_WATCHDOG_MS } from '../lib/budget.ts'

const ORBIT = 'OrbitDB documents put, sequential awaited'
const K_PEER = 'Kadmium insert with nodePeer, sequential awaited'
const K_LOCAL = 'Kadmium insert, LevelDB only, sequential awaited'

async function orbitRun (records: readonly Todo[], log: (line: string) => void): Promise<Sample> {
  return withCleanup(log, async (cleanup) => {
    const node = await startOrbitNode('insert')
    cleanup.add('OrbitDB node', async () => node.close())
    const db = await createOrbitDocuments(node, 'bench-insert')
    const docs = records.map((r) => ({ _id: newId(), ...r }))
    const timed = await timeOps(docs.length, async () => {
      for (const doc of docs) await db.put(doc)
    })
    const sample = { ...timed, ...sampleMemory() }
    const stored = (await db.all()).length
    if (stored !== docs.length) throw new Error(`OrbitDB holds ${stored} documents, ${docs.length} were put`)
    return sample
  })
}

async function kadmiumPeerRun (records: readonly Todo[], log: (line: string) => void): Promise<Sample> {
  return withCleanup(log, async (cleanup) => {
    const peer = await startPeer('insert', cleanup)
    const { todos: collection, settled } = await openShared(peer, cleanup)
    await collection.count()
    const timed = await timeOps(records.length, async () => {
      for (const record of records) await collection.insert(record)
      await settled()
    })
    const sample = { ...timed, ...sampleMemory() }
    const count = await collection.count()
    if (count !== records.length) throw new Error(`inserted ${records.length} records, the collection counts ${count}`)
    return sample
  })
}

async function kadmiumLocalRun (records: readonly Todo[]): Promise<Sample> {
  return withTempDir('orbitdb-insert-local', async (dir) => {
    const { db, todos: collection, settled } = await openKadmium(dir)
    try {
      await collection.count()
      const timed = await timeOps(records.length, async () => {
        for (const record of records) await collection.insert(record)
        await settled()
      })
      return { ...timed, ...sampleMemory() }
    } finally {
      await db.close()
    }
  })
}

export const orbitdbInsert: Scenario = {
  name: 'orbitdb-insert',
  description: 'sequential inserts: Kadmium (with a peer, and LevelDB only) vs OrbitDB 4 documents put (Helia, LevelDB)',
  async run ({ quick, rounds: roundsAsked, log }) {
    const disarm = guard(quick ? QUICK_WATCHDOG_MS : 1_800_000, 'orbitdb-insert')
    const sizes = quick ? [50] : [1_000, 10_000]
    const rows: ResultRow[] = []
    const roundsBySize: Record<number, number> = {}
    for (const [i, n] of sizes.entries()) {
      const rounds = roundsAsked ?? (quick ? 3 : n >= 10_000 ? 2 : 3)
      roundsBySize[n] = rounds
      const records = todos(n)
      const variants: Array<Variant<Sample>> = [
        { name: ORBIT, run: async () => orbitRun(records, log) },
        { name: K_PEER, run: async () => kadmiumPeerRun(records, log) },
        { name: K_LOCAL, run: async () => kadmiumLocalRun(records) }
      ]
      const results = await interleave(variants, {
        rounds,
        warmup: quick || i > 0 ? 0 : 1,
        onSample: (name, round, s) => { log(`orbitdb-insert ${n}: round ${round + 1}/${rounds} ${name}: ${fmt(rate(s))} ops/s`) }
      })
      const orbit = { case: ORBIT, samples: resultsOf(results, ORBIT) }
      rows.push(
        throughputRow(K_PEER, 'kadmium', n, resultsOf(results, K_PEER), orbit),
        throughputRow(K_LOCAL, 'kadmium', n, resultsOf(results, K_LOCAL), orbit),
        throughputRow(ORBIT, 'orbitdb', n, orbit.samples)
      )
    }
    disarm()
    const targets: TargetResult[] = [1_000, 10_000].map((n) =>
      target(`inserts ≥ 15× OrbitDB, both with a peer (${fmt(n)} documents)`, findRow(rows, K_PEER, 'kadmium', n)?.ratio?.median, 15, 'higher', '×'))
    return {
      params: { sizes, rounds: roundsBySize, orbitdb: '@orbitdb/core 4, helia 6, documents database, LevelDB (blockstore-level + OrbitDB level stores)' },
      rows,
      targets,
      notes: [
        'K/B here is Kadmium ÷ OrbitDB, paired by round. Each repetition writes into a fresh node and database; starting and closing them is not timed.',
        'OrbitDB signs every entry (its identity key) and hashes it into an IPFS block; Kadmium signs the envelopes it publishes (none here: no peer subscribes) and puts records in the DHT in the background.',
        'Kadmium\'s LevelDB storage resolves a write once it is in its journal and hands it to LevelDB on the next turn; Kadmium\'s clock stops once LevelDB holds every record.'
      ]
    }
  }
}
