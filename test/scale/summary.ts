/**
 * A scale report's main figures as a Markdown table (what docs/scaling.md
 * quotes), with the problems the run met.
 * @module
 */
import type { Summary } from './measure.ts'
import type { ScaleReport } from './scale.ts'

const ms = (s: Summary): string => `p50 ${fmt(s.p50)} / p90 ${fmt(s.p90)} / max ${fmt(s.max)} ms`
const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const pct = (x: number): string => `${fmt(100 * x, 1)}%`
const kb = (bytes: number | undefined): string => bytes === undefined ? 'n/a (loopback)' : `${fmt(bytes / 1024, 1)} KiB`
const mb = (bytes: number): string => `${fmt(bytes / 2 ** 20)} MiB`

/** The table's lines, then the problems. */
export function summaryLines (r: ScaleReport): string[] {
  const where = r.network.kind === 'namespaces'
    ? `each peer in its own network namespace on a bridge (public profile, own IPv6 address)`
    : `LOOPBACK (${r.network.fallback}; local profile)`
  const wide = r.gossip.wide
  const groups = r.gossip.groups
  const rows: Array<[string, string]> = [
    ['peers', `${r.peers} processes, ${where}; ${r.machine.cpus} cores${r.options.peerNodeOptions.length > 0 ? `; peers run with ${r.options.peerNodeOptions.join(' ')}` : ''}`],
    ['start: process spawn → modules loaded', ms(r.start.loadMs)],
    ['start: node listening', ms(r.start.nodeMs)],
    ['routing table entries (start / end)', `mean ${fmt(r.start.routingTable.mean, 1)} / ${fmt(r.end.routingTable.mean, 1)}`],
    ['closest-peers lookup: hops (depth), mean / max', `${fmt(r.dht.closest.depth.mean, 2)} / ${r.dht.closest.depth.max} (log2 n = ${fmt(r.dht.closest.log2n, 2)}); ${fmt(r.dht.closest.queried.mean, 1)} peers queried`],
    ['closest-peers lookup: latency', ms(r.dht.closest.ms)],
    ['closest-peers lookup: what it costs the peer that makes it', `${kb(r.dht.closest.querier.bytes)} sent + received, ${fmt(1000 * r.dht.closest.querier.cpuSeconds, 1)} ms CPU`],
    ['record lookup (get): first value / whole walk', `${ms(r.dht.get.firstValueMs)}; ${ms(r.dht.get.ms)}; hop of first value mean ${fmt(r.dht.get.valueHop.mean, 2)}; failed ${r.dht.get.failed}/${r.dht.get.count}`],
    ['DHT keys; of their k closest peers holding each', `${r.dht.holdings.coverage.keys}; mean ${fmt(r.dht.holdings.coverage.ofClosest.mean, 1)}, min ${r.dht.holdings.coverage.ofClosest.min}; all k: ${r.dht.holdings.coverage.complete}; held by none: ${r.dht.holdings.coverage.lost}`],
    ['DHT records held per peer', `mean ${fmt(r.dht.holdings.records.mean, 1)} (${kb(r.dht.holdings.bytes.mean)}), max ${r.dht.holdings.records.max}; provider entries mean ${fmt(r.dht.holdings.providers.mean, 1)}`],
    [`gossip, wide database (${r.databases.wide.subscribers} subscribers): delivered within 10 s`, `${wide.delivery.delivered}/${wide.delivery.expected} (${pct(wide.delivery.ratio)}); eventually ${pct(wide.eventually.ratio)}`],
    ['gossip, wide: latency to each subscriber', ms(wide.delivery.latency)],
    ['gossip, wide: latency to all subscribers (per write)', ms(wide.delivery.toAll)],
    [`gossip, bursts (${r.gossip.wideBurst.delivery.writes} writes to the wide database, ${r.gossip.groupsBurst.delivery.writes} to the small ones, 20 ms apart): delivered within 10 s`, `${pct(r.gossip.wideBurst.delivery.ratio)}, ${pct(r.gossip.groupsBurst.delivery.ratio)}; to all ${ms(r.gossip.wideBurst.delivery.toAll)}`],
    ...writeCostRows(r),
    [`gossip, ${r.databases.groups.count} small databases (${r.databases.groups.subscribers} each): delivered within 10 s`, `${groups.delivery.delivered}/${groups.delivery.expected} (${pct(groups.delivery.ratio)}); to all ${ms(groups.delivery.toAll)}`],
    ['durable write (3 replicas)', `${ms(r.durable.ms)}; failed ${Object.values(r.durable.failed).reduce((a, b) => a + b, 0)}/${r.durable.count}`],
    ['newcomer: spawn → node listening', ms(r.newcomers.nodeMs)],
    ['newcomer: open by address', ms(r.newcomers.openMs)],
    ['newcomer: open → every record', `${ms(r.newcomers.allMs)}; complete ${r.newcomers.complete}/${r.newcomers.count}`],
    ['idle CPU per peer: no database / wide / + small', `${fmt(r.idle.bare.costs.cpuPercent.mean, 2)}% / ${fmt(r.idle.wide.costs.cpuPercent.mean, 2)}% / ${fmt(r.idle.groups.costs.cpuPercent.mean, 2)}% of a core (mean)`],
    ['idle traffic per peer (sent + received)', `${kb(r.idle.bare.costs.bytesPerSecond?.mean)}/s / ${kb(r.idle.wide.costs.bytesPerSecond?.mean)}/s / ${kb(r.idle.groups.costs.bytesPerSecond?.mean)}/s`],
    ['catch-up sessions per peer a minute at rest: wide alone; with a small one (wide + small)', `${fmt(r.idle.wide.sessionsPerPeerMinute, 1)}; ${fmt(r.idle.groups.sessionsByDatabase.wide ?? 0, 1)} + ${fmt(r.idle.groups.sessionsByDatabase.group ?? 0, 1)}`],
    ['machine load (1 min) at the end of each stretch at rest; at the end', `${[r.idle.bare, r.idle.wide, r.idle.groups].map((i) => fmt(i.load, 1)).join(' / ')}; ${fmt(r.end.load[0] ?? 0, 1)}`],
    ...(r.idle.emptyWide === undefined
      ? []
      : [['a database every peer opened and no one wrote to: CPU, traffic, catch-up sessions per peer', `${fmt(r.idle.emptyWide.costs.cpuPercent.mean, 2)}% of a core, ${kb(r.idle.emptyWide.costs.bytesPerSecond?.mean)}/s, ${fmt(r.idle.emptyWide.sessionsPerPeerMinute, 0)} sessions a minute`] as [string, string]]),
    ['memory per peer at the end: RSS / private', `${mb(r.end.memory.rss.mean)} / ${mb(r.end.memory.privateBytes.mean)} (mean), max ${mb(r.end.memory.rss.max)} / ${mb(r.end.memory.privateBytes.max)}`],
    ['connections per peer at the end', `mean ${fmt(r.end.connections.mean, 1)}, max ${r.end.connections.max}`]
  ]
  for (const c of r.churn) {
    rows.push([
      `churn round ${c.round}: ${c.killed} of ${r.peers} killed`,
      `gossip ${pct(c.gossip.delivery.ratio)} within 10 s (to all p50 ${fmt(c.gossip.delivery.toAll.p50)} ms); gets failed ${c.get.failed}/${c.get.count}; ` +
      `k closest live holding each key mean ${fmt(c.coverage.ofClosest.mean, 1)}, held by none ${c.coverage.lost}; durable failed ${Object.values(c.durable.failed).reduce((a, b) => a + b, 0)}/${c.durable.count}; ` +
      `restart ${ms(c.restartMs)}; caught up ${c.caughtUp}/${c.killed}, ${ms(c.catchUpMs)}`
    ])
  }
  const lines = ['| measure | value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)]
  if (r.problems.length > 0) lines.push('', 'problems:', ...r.problems.map((p) => `- ${p}`))
  return lines
}

/** What a write cost, from the bursts (one writer per database). */
function writeCostRows (r: ScaleReport): Array<[string, string]> {
  const row = (what: string, cost: ScaleReport['gossip']['wideBurst']['cost']): Array<[string, string]> => cost === undefined
    ? []
    : [[`a write to ${what}: its writer; each subscriber (median, p90)`, `${kb(cost.writer.bytes)} and ${fmt(1000 * cost.writer.cpuSeconds, 1)} ms CPU; ${kb(cost.receiver.bytes?.p50)} (${kb(cost.receiver.bytes?.p90)}) and ${fmt(1000 * cost.receiver.cpuSeconds.p50, 1)} ms CPU (${fmt(1000 * cost.receiver.cpuSeconds.p90, 1)})`]]
  return [...row(`the wide database (${r.databases.wide.subscribers} peers)`, r.gossip.wideBurst.cost), ...row(`a small database (${r.databases.groups.subscribers} peers)`, r.gossip.groupsBurst.cost)]
}
