/**
 * Churn, measured: a share of the peers is killed at once (SIGKILL: gone
 * without a goodbye, as devices are), the network goes on — writes and
 * their delivery to the subscribers still up, record lookups, durable
 * writes, what the k closest live peers still hold — and the killed peers
 * start again on their data directories and catch up.
 * @module
 */
import { holdings, lookups, type LookupStats } from './dht-phase.ts'
import { gossipRound, type DatabaseSpec, type GossipOptions, type GossipResult } from './gossip-phase.ts'
import { summarize, type Coverage, type Summary } from './measure.ts'
import type { ScalePeer } from './peers.ts'
import type { Swarm } from './swarm.ts'
import type { Random } from '../chaos/random.ts'

/** What one round of churn came to. */
export interface ChurnRound {
  readonly round: number
  /** Peers killed. */
  readonly killed: number
  /** Writes made while they were down, and their delivery to the subscribers still up. */
  readonly gossip: GossipResult
  /** Reads of records from the peers still up, by key, while some holders were down. */
  readonly get: LookupStats
  /** Keys and how many of their k closest live peers held them while the killed peers were down. */
  readonly coverage: Coverage
  /** Durable writes (see `durable`) made meanwhile. */
  readonly durable: DurableStats
  /** Per killed peer: ms from its new process's spawn to its node listening again. */
  readonly restartMs: Summary
  /** Per killed peer: ms from its node listening again (databases reopened) to holding every write made while it was down. */
  readonly catchUpMs: Summary
  /** Killed peers that held every such write before the bound. */
  readonly caughtUp: number
}

/** Durable writes, summarized. */
export interface DurableStats {
  readonly count: number
  readonly replicas: number
  /** Writes that did not reach `replicas` DHT peers in time (by error name). */
  readonly failed: Readonly<Record<string, number>>
  readonly ms: Summary
}

/** Makes `count` durable writes in `db` (one at a time, each by a random live member), each waiting for `replicas` DHT peers. */
export async function durableWrites (db: DatabaseSpec, count: number, replicas: number, random: Random, prefix: string): Promise<DurableStats & { readonly ids: string[] }> {
  const ms: number[] = []
  const failed: Record<string, number> = {}
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const writer = random.pick(db.members.filter((m) => m.alive))
    const id = `${prefix}-${i}`
    const result = await writer.request('write', { label: db.label, id, text: `durable ${id}`, n: i, replicas }, 90_000)
      .catch((error: unknown) => ({ ms: 0, error: String(error) })) as { ms: number, error?: string }
    if (result.error !== undefined) failed[result.error] = (failed[result.error] ?? 0) + 1
    else ms.push(result.ms)
    ids.push(id)
  }
  return { count, replicas, failed, ms: summarize(ms), ids }
}

/** The run's databases, and how to reopen a restarted peer's. */
export interface ChurnSetup {
  readonly swarm: Swarm
  readonly wide: DatabaseSpec
  /** The databases `peer` had open (to reopen them after its restart). */
  readonly databasesOf: (peer: ScalePeer) => readonly DatabaseSpec[]
  /** Peers that may be killed (the bootstrap peers are kept: newcomers join through them). */
  readonly candidates: readonly ScalePeer[]
  readonly bootstrap: () => readonly string[]
  readonly random: Random
}

/** Kills `fraction` of the peers, measures the network without them, starts them again and measures their catch-up. */
export async function churnRound (setup: ChurnSetup, round: number, fraction: number, writes: number, gossip: GossipOptions, held: ReadonlyMap<string, ReadonlySet<string>>): Promise<ChurnRound> {
  const { swarm, wide, random } = setup
  const total = swarm.live.length
  const pool = [...setup.candidates.filter((p) => p.alive)]
  const victims: ScalePeer[] = []
  while (victims.length < Math.min(pool.length, Math.round(fraction * total))) victims.push(...pool.splice(random.int(pool.length), 1))
  await Promise.all(victims.map(async (v) => { await v.kill() }))

  const steps = Array.from({ length: writes }, (_, i) => [{ db: wide, writer: random.pick(wide.members.filter((m) => m.alive)), id: `churn${round}-${i}` }])
  const delivered = await gossipRound(swarm, steps, gossip)
  const readers = Array.from({ length: Math.min(5, swarm.live.length) }, () => random.pick(swarm.live))
  const get = await lookups(swarm, readers, 'get', 4, held, (n) => random.int(n))
  const durable = await durableWrites(wide, 3, 3, random, `churn${round}-durable`)
  const { coverage } = await holdings(swarm)

  const ids = [...steps.map(([w]) => (w as { id: string }).id), ...durable.ids]
  const restartMs: number[] = []
  const catchUpMs: number[] = []
  let caughtUp = 0
  await swarm.inWaves(victims, async (peer) => {
    const started = await peer.start(setup.bootstrap())
    restartMs.push(started.loadMs + started.nodeMs)
    const ready = Date.now()
    for (const db of setup.databasesOf(peer)) await peer.request('open', { label: db.label, target: { name: db.name }, openTimeout: 60_000 })
    const { at } = await peer.request('waitFor', { label: wide.label, ids, timeoutMs: 120_000 }, 180_000) as { at: number | undefined }
    if (at !== undefined) {
      caughtUp++
      catchUpMs.push(at - ready)
    }
  })
  return { round, killed: victims.length, gossip: delivered, get, coverage, durable, restartMs: summarize(restartMs), catchUpMs: summarize(catchUpMs), caughtUp }
}
