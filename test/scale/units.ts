/**
 * A scale report's per-unit costs (what `project` scales): a lookup's
 * bytes and CPU per peer queried, a write's bytes and CPU split into a
 * part paid once and a part per subscriber (fitted on the wide database
 * and the small ones), a database's cost at rest split the same way over
 * its connected peers. Every cost is what the peers spent beyond their
 * idle rate over the same stretch.
 * @module
 */
import { beyondIdle, type Costs } from './costs.ts'
import type { GossipResult } from './gossip-phase.ts'
import type { ScaleReport } from './scale.ts'
import type { UnitCosts } from './projection.ts'

/**
 * The line through two measurements (x: subscribers or connected peers,
 * y: a cost): a part paid once and a part per x; where it would make the
 * fixed part negative (noise), all of it per x, through the larger point.
 */
export function split (a: { readonly x: number, readonly y: number }, b: { readonly x: number, readonly y: number }): { readonly fixed: number, readonly per: number } {
  const [lo, hi] = a.x <= b.x ? [a, b] : [b, a]
  if (hi.x > lo.x) {
    const per = (hi.y - lo.y) / (hi.x - lo.x)
    const fixed = lo.y - per * lo.x
    if (per >= 0 && fixed >= 0) return { fixed, per }
  }
  return { fixed: 0, per: hi.x > 0 ? Math.max(0, hi.y) / hi.x : 0 }
}

/** One write's cost, and the subscribers it reached (mean). */
function perWrite (round: GossipResult, idle: Costs): { readonly subscribers: number, readonly bytes: number, readonly cpu: number } {
  const writes = Math.max(1, round.delivery.writes)
  const spent = beyondIdle(round.costs, idle)
  return { subscribers: round.delivery.expected / writes, bytes: (spent.bytesSent ?? 0) / writes, cpu: spent.cpuSeconds / writes }
}

/** The per-unit costs a report measured (traffic is zero for a loopback run: it has no interfaces to count). */
export function unitCosts (r: ScaleReport): UnitCosts {
  const rest = r.idle.groups.costs
  const closest = r.dht.closest
  const queries = Math.max(1, closest.count * closest.queried.mean)
  const lookupSpent = beyondIdle(closest.costs, rest)
  const wide = perWrite(r.gossip.wide, rest)
  const small = perWrite(r.gossip.groups, rest)
  const bytes = split({ x: wide.subscribers, y: wide.bytes }, { x: small.subscribers, y: small.bytes })
  const cpu = split({ x: wide.subscribers, y: wide.cpu }, { x: small.subscribers, y: small.cpu })
  // At rest: the wide database alone over no database, then one small database more.
  const perSecond = (c: Costs): number => c.bytesPerSecond?.mean ?? 0
  const idle = split(
    { x: r.databases.wide.peers.mean, y: perSecond(r.idle.wide.costs) - perSecond(r.idle.bare.costs) },
    { x: r.databases.groups.peers.mean, y: perSecond(r.idle.groups.costs) - perSecond(r.idle.wide.costs) }
  )
  const o = r.options
  const written = 1 + r.databases.groups.count + o.wideWrites + o.groupWrites * r.databases.groups.count + o.durableWrites
  return {
    n: r.peers,
    hops: closest.depth.mean,
    queried: closest.queried.mean,
    bytesPerQuery: (lookupSpent.bytesSent ?? 0) / queries,
    cpuPerQuery: lookupSpent.cpuSeconds / queries,
    headBytes: r.dht.holdings.valueBytes.p50,
    keysPerRecord: r.dht.holdings.coverage.keys / written,
    writeBytes: { fixed: bytes.fixed, perSubscriber: bytes.per },
    writeCpu: { fixed: cpu.fixed, perSubscriber: cpu.per },
    bare: { bytesPerSecond: perSecond(r.idle.bare.costs), cpuPercent: r.idle.bare.costs.cpuPercent.mean },
    databaseIdle: { fixed: idle.fixed, perConnectedPeer: idle.per },
    memoryBytes: r.end.memory.privateBytes.mean
  }
}
