/**
 * A scale report's per-unit costs (what `project` scales), each beyond
 * what the peers spend at rest: a lookup's bytes and CPU per peer queried
 * (from the peer that made it, against the median other peer meanwhile);
 * a write's bytes and CPU for its writer and for each subscriber (from the
 * bursts, which have one writer per database: the median subscriber); a
 * database at rest per connected peer of it.
 * @module
 */
import type { Costs } from './costs.ts'
import type { UnitCosts } from './projection.ts'
import type { ScaleReport } from './scale.ts'

/** What a report's per-unit costs are, with the check the small databases give. */
export interface MeasuredUnits extends UnitCosts {
  /** Bytes a write costs a subscriber of a small database (the wide database's is `writeBytes.perSubscriber`). */
  readonly smallPerSubscriberBytes: number
}

/** The per-unit costs a report measured (traffic is zero for a loopback run: it has no interfaces to count). */
export function unitCosts (r: ScaleReport): MeasuredUnits {
  const closest = r.dht.closest
  const queried = Math.max(1, closest.queried.mean)
  const o = r.options
  const groups = r.databases.groups.count
  const written = 1 + groups + o.wideWrites + o.burstWrites + (o.groupWrites + Math.max(1, Math.round(o.burstWrites / 4))) * groups + o.durableWrites
  const wide = r.gossip.wideBurst.cost
  const small = r.gossip.groupsBurst.cost
  const perSecond = (c: Costs): number => c.bytesPerSecond?.mean ?? 0
  // At rest with both databases open, beyond no database, over the peers of both connected.
  const connected = r.databases.wide.peers.mean + r.databases.groups.peers.mean
  return {
    n: r.peers,
    hops: closest.depth.mean,
    queried: closest.queried.mean,
    bytesPerQuery: (closest.querier.bytes ?? 0) / queried,
    // The querier's side, doubled for the answering side's.
    cpuPerQuery: 2 * closest.querier.cpuSeconds / queried,
    headBytes: r.dht.holdings.valueBytes.p50,
    keysPerRecord: r.dht.holdings.coverage.keys / written,
    writeBytes: { fixed: wide?.writer.bytes ?? 0, perSubscriber: wide?.receiver.bytes?.p50 ?? 0 },
    writeCpu: { fixed: wide?.writer.cpuSeconds ?? 0, perSubscriber: wide?.receiver.cpuSeconds.p50 ?? 0 },
    smallPerSubscriberBytes: small?.receiver.bytes?.p50 ?? 0,
    bare: { bytesPerSecond: perSecond(r.idle.bare.costs), cpuPercent: r.idle.bare.costs.cpuPercent.mean },
    databaseIdle: { fixed: 0, perConnectedPeer: connected > 0 ? Math.max(0, perSecond(r.idle.groups.costs) - perSecond(r.idle.bare.costs)) / connected : 0 },
    memoryBytes: r.end.memory.privateBytes.mean
  }
}
