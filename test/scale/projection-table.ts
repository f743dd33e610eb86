/**
 * The projection docs/scaling.md shows: two workloads (peers in small
 * team databases; one database every peer has open) at the run's size,
 * 10,000 and 1,000,000 peers, as Markdown, with the limits one database
 * meets as it grows.
 * @module
 */
import { limits, project, type Projection, type UnitCosts, type Workload } from './projection.ts'

/** Peers in small databases: 5 databases of 10 peers each, 1,000 records in each, 100 writes a day. */
export const TEAMS: Workload = Object.freeze({ databasesPerPeer: 5, subscribers: 10, recordsPerDatabase: 1000, writesPerPeerPerDay: 100 })
/** One database every peer has open: 10,000 records, 10 writes per peer a day. */
export const EVERYONE: Workload = Object.freeze({ databasesPerPeer: 1, subscribers: Infinity, recordsPerDatabase: 10_000, writesPerPeerPerDay: 10 })
/** The sizes projected to (beside the run's). */
export const SIZES: readonly number[] = Object.freeze([10_000, 1_000_000])

const num = (x: number, digits = 0): string => Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '∞'
/** Bytes with a binary unit. */
export function bytes (x: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = x
  let u = 0
  while (Math.abs(v) >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${num(v, u === 0 ? 0 : 1)} ${units[u] as string}`
}

/** The rows of one workload's table: measure, then one value per size. */
function rows (p: readonly Projection[]): Array<[string, ...string[]]> {
  const col = (f: (x: Projection) => string): string[] => p.map(f)
  return [
    ['lookup hops (model, calibrated)', ...col((x) => num(x.hops, 2))],
    ['peers queried per lookup', ...col((x) => num(x.queried, 0))],
    ['bytes per lookup', ...col((x) => bytes(x.lookupBytes))],
    ['DHT values stored per peer', ...col((x) => num(x.storedValues))],
    ['DHT bytes stored per peer (head sets)', ...col((x) => bytes(x.storedBytes))],
    ['puts per peer a day (republish + writes)', ...col((x) => num(x.putsPerDay))],
    ['DHT traffic per peer (puts, sent + received)', ...col((x) => `${bytes(x.dhtBytesPerSecond)}/s`)],
    ['discovery traffic per peer', ...col((x) => `${bytes(x.discoveryBytesPerSecond)}/s`)],
    ['writes a second into one database', ...col((x) => num(x.gossip.writesPerSecond, 3))],
    ['network bytes of one write (all subscribers)', ...col((x) => bytes(x.gossip.networkBytesPerWrite))],
    ['gossip per peer: traffic, CPU', ...col((x) => `${bytes(x.gossip.bytesPerSecond)}/s, ${num(x.gossip.cpuPercent, 2)}%`)],
    ['gossip mesh hops to the farthest subscriber', ...col((x) => num(x.gossip.meshHops, 1))],
    ['traffic at rest per peer (node + databases)', ...col((x) => `${bytes(x.idleBytesPerSecond)}/s`)],
    ['connections per peer (capped at 300)', ...col((x) => num(x.connections))],
    ['each of the k peers at a database\'s address: provider entries', ...col((x) => num(x.hotspot.providers))],
    ['… announcements + lookups a second', ...col((x) => num(x.hotspot.requestsPerSecond, 1))],
    ['… one GET_PROVIDERS answer', ...col((x) => bytes(x.hotspot.answerBytes))],
    ['… answers sent, bytes/s; CPU', ...col((x) => `${bytes(x.hotspot.bytesPerSecond)}/s; ${num(x.hotspot.cpuPercent, 1)}%`)],
    ['total traffic per peer', ...col((x) => `${bytes(x.bytesPerSecond)}/s`)]
  ]
}

/** The projection as Markdown: a table per workload, then the limits. */
export function projectionLines (unit: UnitCosts): string[] {
  const sizes = [unit.n, ...SIZES]
  const lines: string[] = []
  for (const [title, workload] of [['Peers in small databases', TEAMS], ['One database every peer has open', EVERYONE]] as const) {
    const p = sizes.map((n) => project(unit, workload, n))
    lines.push(`**${title}** (${workload.databasesPerPeer} database(s) per peer of ${Number.isFinite(workload.subscribers) ? num(workload.subscribers) : 'every'} peers, ${num(workload.recordsPerDatabase)} records each, ${workload.writesPerPeerPerDay} writes per peer a day)`, '')
    lines.push(`| per peer unless said | ${sizes.map((n) => `${num(n)} peers`).join(' | ')} |`, `| --- | ${sizes.map(() => '---:').join(' | ')} |`)
    for (const [label, ...values] of rows(p)) lines.push(`| ${label} | ${values.join(' | ')} |`)
    lines.push('')
  }
  lines.push(`**Limits one database meets as it grows** (its subscribers writing ${EVERYONE.writesPerPeerPerDay} a day each):`, '')
  for (const limit of limits(unit, EVERYONE.writesPerPeerPerDay)) lines.push(`- at ${num(limit.subscribers)} subscribers: ${limit.what}`)
  return lines
}
