/**
 * Gossip, measured: writes to databases, paced, and when each reached
 * each subscriber (their change event: live gossip, or a catch-up that
 * came first), read from the subscribers' processes afterwards.
 * @module
 */
import { costs, restRate, spends, writeCost, type Costs, type WriteCost } from './costs.ts'
import { delivery, type Delivery, type SentWrite } from './measure.ts'
import type { ScalePeer } from './peers.ts'
import type { Usage } from './scale-node.ts'
import type { Swarm } from './swarm.ts'

/** A database of the run and who has it open. */
export interface DatabaseSpec {
  /** Its label in each peer's process. */
  readonly label: string
  readonly name: string
  readonly members: readonly ScalePeer[]
}

/** One write to make. */
export interface PlannedWrite {
  readonly db: DatabaseSpec
  readonly writer: ScalePeer
  readonly id: string
}

/** What a round of writes came to. */
export interface GossipResult {
  /** Delivered within {@link GossipOptions.windowMs} of the write: gossip. */
  readonly delivery: Delivery
  /** Delivered before the run stopped waiting (catch-up included). */
  readonly eventually: Delivery
  /** Writes whose insert failed (by error name). */
  readonly failed: Readonly<Record<string, number>>
  /** What the peers spent from the first write until every subscriber had every write (or the wait ended). */
  readonly costs: Costs
  /** What a write cost its writer and each subscriber, beyond each peer's rate at rest just before (when the round measured it). */
  readonly cost?: WriteCost
}

/** Pacing and bounds of a round. */
export interface GossipOptions {
  /** Wait between steps (ms): the load a run puts on the network. */
  readonly gapMs: number
  /** A write that reaches a subscriber later than this (ms) counts as not delivered by gossip. */
  readonly windowMs: number
  /** Longest wait for every subscriber to hold every write (ms). */
  readonly eventuallyMs: number
  /**
   * Given, the round first measures each peer at rest this long (ms), and
   * prices a write for its writer and for each subscriber beyond that.
   */
  readonly baselineMs?: number
}

/**
 * Makes the writes of each step at once, steps `gapMs` apart, then waits
 * for every live subscriber to hold the writes of its database, and reads
 * when each arrived.
 */
export async function gossipRound (swarm: Swarm, steps: ReadonlyArray<readonly PlannedWrite[]>, options: GossipOptions): Promise<GossipResult> {
  const baseline = options.baselineMs === undefined ? undefined : await swarm.usage()
  if (options.baselineMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.baselineMs))
  const before = await swarm.usage()
  const sent: Array<SentWrite & { readonly db: DatabaseSpec }> = []
  const failed: Record<string, number> = {}
  for (const [i, step] of steps.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, options.gapMs))
    await Promise.all(step.map(async ({ db, writer, id }) => {
      const to = db.members.filter((m) => m !== writer && m.alive).map((m) => m.id)
      const result = await writer.request('write', { label: db.label, id, text: `note ${id}`, n: i }).catch((error: unknown) => ({ at: Date.now(), error: String(error) })) as { at: number, error?: string }
      if (result.error !== undefined) failed[result.error] = (failed[result.error] ?? 0) + 1
      else sent.push({ id, at: result.at, to, db })
    }))
  }
  const arrivals = new Map<string, Map<string, number>>()
  const databases = new Set(sent.map((w) => w.db))
  await Promise.all([...databases].flatMap((db) => {
    const ids = sent.filter((w) => w.db === db).map((w) => w.id)
    return db.members.filter((m) => m.alive).map(async (member) => {
      await member.request('waitFor', { label: db.label, ids, timeoutMs: options.eventuallyMs }, options.eventuallyMs + 30_000).catch(() => {})
      const seen = await member.request('arrivals', db.label).catch(() => ({})) as Record<string, number>
      const mine = arrivals.get(member.id) ?? new Map<string, number>()
      for (const [id, at] of Object.entries(seen)) mine.set(id, at)
      arrivals.set(member.id, mine)
    })
  }))
  const after = await swarm.usage()
  const writers = new Set(steps.flatMap((step) => step.map((w) => w.writer.id)))
  const received = (peer: string): number => sent.filter((w) => w.to.includes(peer)).length
  return {
    delivery: delivery(sent, arrivals, options.windowMs),
    eventually: delivery(sent, arrivals, Infinity),
    failed,
    costs: costs(before, after),
    ...(baseline !== undefined ? { cost: priced(baseline, before, after, writers, sent.length, received) } : {})
  }
}

/** What writes cost each peer beyond its rate at rest between `baseline` and `before`. */
function priced (baseline: ReadonlyMap<string, Usage>, before: ReadonlyMap<string, Usage>, after: ReadonlyMap<string, Usage>, writers: ReadonlySet<string>, writes: number, received: (peer: string) => number): WriteCost {
  const rest = spends(baseline, before)
  return writeCost(spends(before, after), writers, writes, received, (peer) => {
    const spend = rest.get(peer)
    return spend === undefined ? undefined : restRate(spend)
  })
}
