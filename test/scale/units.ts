/**
 * A scale report's per-unit costs (what `project` scales), each what the
 * peers spent beyond their rate at rest over the same stretch: a lookup's
 * bytes and CPU per peer queried; a write's bytes and CPU, split into its
 * DHT puts (paid once, from the lookup's measured cost) and the rest per
 * subscriber (from the burst of writes to the wide database, and for a
 * check from the bursts to the small ones); a database at rest per
 * connected peer of it.
 * @module
 */
import { beyondIdle, type Costs } from './costs.ts'
import type { GossipResult } from './gossip-phase.ts'
import { K, type UnitCosts } from './projection.ts'
import type { ScaleReport } from './scale.ts'

/** What a report's per-unit costs are, with the check the small databases give. */
export interface MeasuredUnits extends UnitCosts {
  /** Bytes per subscriber of a write, from the small databases' burst (the wide database's is `writeBytes.perSubscriber`). */
  readonly smallPerSubscriberBytes: number
}

/** One write's cost beyond rest, and the subscribers it reached (mean). */
function perWrite (round: GossipResult, rest: Costs): { readonly subscribers: number, readonly bytes: number, readonly cpu: number } {
  const writes = Math.max(1, round.delivery.writes)
  const spent = beyondIdle(round.costs, rest)
  return { subscribers: Math.max(1, round.delivery.expected / writes), bytes: (spent.bytesSent ?? 0) / writes, cpu: spent.cpuSeconds / writes }
}

/** The per-unit costs a report measured (traffic is zero for a loopback run: it has no interfaces to count). */
export function unitCosts (r: ScaleReport): MeasuredUnits {
  const rest = r.idle.groups.costs
  const closest = r.dht.closest
  const queries = Math.max(1, closest.count * closest.queried.mean)
  const lookup = beyondIdle(closest.costs, rest)
  const bytesPerQuery = (lookup.bytesSent ?? 0) / queries
  const cpuPerQuery = lookup.cpuSeconds / queries
  const headBytes = r.dht.holdings.valueBytes.p50
  const o = r.options
  const groups = r.databases.groups.count
  const written = 1 + groups + o.wideWrites + o.burstWrites + (o.groupWrites + Math.max(1, Math.round(o.burstWrites / 4))) * groups + o.durableWrites
  const keysPerRecord = r.dht.holdings.coverage.keys / written
  // A write's DHT puts: per key, a lookup, then a PUT_VALUE (echoed back) to each of the k closest.
  const putBytes = closest.queried.mean * bytesPerQuery + 2 * Math.min(K, r.peers - 1) * headBytes
  const fixedBytes = keysPerRecord * putBytes
  const fixedCpu = keysPerRecord * closest.queried.mean * cpuPerQuery
  const wide = perWrite(r.gossip.wideBurst, rest)
  const small = perWrite(r.gossip.groupsBurst, rest)
  const perSecond = (c: Costs): number => c.bytesPerSecond?.mean ?? 0
  // At rest with both databases open, beyond no database, over the peers of both connected.
  const connected = r.databases.wide.peers.mean + r.databases.groups.peers.mean
  return {
    n: r.peers,
    hops: closest.depth.mean,
    queried: closest.queried.mean,
    bytesPerQuery,
    cpuPerQuery,
    headBytes,
    keysPerRecord,
    writeBytes: { fixed: fixedBytes, perSubscriber: Math.max(0, wide.bytes - fixedBytes) / wide.subscribers },
    writeCpu: { fixed: fixedCpu, perSubscriber: Math.max(0, wide.cpu - fixedCpu) / wide.subscribers },
    smallPerSubscriberBytes: Math.max(0, small.bytes - fixedBytes) / small.subscribers,
    bare: { bytesPerSecond: perSecond(r.idle.bare.costs), cpuPercent: r.idle.bare.costs.cpuPercent.mean },
    databaseIdle: { fixed: 0, perConnectedPeer: connected > 0 ? Math.max(0, perSecond(r.idle.groups.costs) - perSecond(r.idle.bare.costs)) / connected : 0 },
    memoryBytes: r.end.memory.privateBytes.mean
  }
}
