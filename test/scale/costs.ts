/**
 * What peers cost over a stretch of a run, from two readings of every
 * peer's usage (CPU time, bytes on its interface, memory): per peer and
 * in total. Pure arithmetic, unit-tested.
 * @module
 */
import { summarize, type Summary } from './measure.ts'
import type { Usage } from './scale-node.ts'

/** What the peers cost between two readings. */
export interface Costs {
  /** Peers read both times (a peer killed or started in between is left out). */
  readonly peers: number
  /** Wall time between the readings (s, the mean over peers). */
  readonly seconds: number
  /** Per peer: its CPU use, in % of one core. */
  readonly cpuPercent: Summary
  /** CPU time of all peers together (s). */
  readonly cpuSeconds: number
  /** Bytes all peers sent (each is received by one other peer); undefined on loopback (no interface of their own). */
  readonly bytesSent: number | undefined
  /** Per peer: bytes sent plus received, per second; undefined on loopback. */
  readonly bytesPerSecond: Summary | undefined
}

/** The costs between readings `before` and `after` (peer id → usage). */
export function costs (before: ReadonlyMap<string, Usage>, after: ReadonlyMap<string, Usage>): Costs {
  const cpu: number[] = []
  const traffic: number[] = []
  let seconds = 0
  let cpuSeconds = 0
  let sent = 0
  let peers = 0
  let measured = true
  for (const [peer, end] of after) {
    const start = before.get(peer)
    if (start === undefined) continue
    const s = Math.max(0.001, (end.at - start.at) / 1000)
    const used = Math.max(0, end.cpuMicros - start.cpuMicros) / 1e6
    peers++
    seconds += s
    cpuSeconds += used
    cpu.push(100 * used / s)
    if (start.net === undefined || end.net === undefined) {
      measured = false
      continue
    }
    const tx = end.net.txBytes - start.net.txBytes
    sent += tx
    traffic.push((tx + end.net.rxBytes - start.net.rxBytes) / s)
  }
  return {
    peers,
    seconds: peers === 0 ? 0 : seconds / peers,
    cpuPercent: summarize(cpu),
    cpuSeconds,
    bytesSent: measured && peers > 0 ? sent : undefined,
    bytesPerSecond: measured && peers > 0 ? summarize(traffic) : undefined
  }
}

/**
 * What a stretch of work cost beyond the idle rate (`idle`: costs of a
 * quiet stretch of the same peers): total CPU seconds and bytes sent,
 * less what the peers spend idle over as long.
 */
export function beyondIdle (work: Costs, idle: Costs): { readonly cpuSeconds: number, readonly bytesSent: number | undefined } {
  const idleShare = idle.seconds > 0 ? work.seconds / idle.seconds : 0
  const peersShare = idle.peers > 0 ? work.peers / idle.peers : 0
  const cpuSeconds = Math.max(0, work.cpuSeconds - idle.cpuSeconds * idleShare * peersShare)
  const bytesSent = work.bytesSent === undefined || idle.bytesSent === undefined
    ? undefined
    : Math.max(0, work.bytesSent - idle.bytesSent * idleShare * peersShare)
  return { cpuSeconds, bytesSent }
}

/** What one peer spent between two readings. */
export interface PeerSpend {
  readonly seconds: number
  readonly cpuSeconds: number
  /** Sent + received; undefined on loopback. */
  readonly bytes: number | undefined
}

/** Each peer's spend between readings `before` and `after` (peers read both times). */
export function spends (before: ReadonlyMap<string, Usage>, after: ReadonlyMap<string, Usage>): Map<string, PeerSpend> {
  const out = new Map<string, PeerSpend>()
  for (const [peer, end] of after) {
    const start = before.get(peer)
    if (start === undefined) continue
    const bytes = start.net === undefined || end.net === undefined ? undefined : end.net.txBytes + end.net.rxBytes - start.net.txBytes - start.net.rxBytes
    out.set(peer, { seconds: Math.max(0.001, (end.at - start.at) / 1000), cpuSeconds: Math.max(0, end.cpuMicros - start.cpuMicros) / 1e6, bytes })
  }
  return out
}

/** A peer's rate at rest: CPU seconds and bytes (sent + received) a second. */
export interface RestRate {
  readonly cpuPerSecond: number
  readonly bytesPerSecond: number | undefined
}

/** A peer's rate over a stretch at rest (its spend then). */
export function restRate (rest: PeerSpend): RestRate {
  return { cpuPerSecond: rest.cpuSeconds / rest.seconds, bytesPerSecond: rest.bytes === undefined ? undefined : rest.bytes / rest.seconds }
}

/** A spend less what the peer spends at rest over as long (never below zero). */
export function beyondRest (spend: PeerSpend, rest: RestRate): { readonly cpuSeconds: number, readonly bytes: number | undefined } {
  return {
    cpuSeconds: Math.max(0, spend.cpuSeconds - rest.cpuPerSecond * spend.seconds),
    bytes: spend.bytes === undefined || rest.bytesPerSecond === undefined ? undefined : Math.max(0, spend.bytes - rest.bytesPerSecond * spend.seconds)
  }
}

/** What writes cost their writers and each peer that received them, beyond rest. */
export interface WriteCost {
  readonly writes: number
  /** The writers together, per write (their DHT puts, sending the gossip). */
  readonly writer: { readonly cpuSeconds: number, readonly bytes: number | undefined }
  /** Each receiving peer (not a writer), per write it received: applying, storing, forwarding it. */
  readonly receiver: { readonly cpuSeconds: Summary, readonly bytes: Summary | undefined }
}

/**
 * The cost of `writes` writes made by `writers`, from every peer's
 * spend: the writers' beyond their rate at rest per write, and each other
 * peer's beyond its rate at rest per write it received (`received(peer)`;
 * peers that received none, or whose rate at rest is unknown, are left out).
 */
export function writeCost (spent: ReadonlyMap<string, PeerSpend>, writers: ReadonlySet<string>, writes: number, received: (peer: string) => number, restOf: (peer: string) => RestRate | undefined): WriteCost {
  let writerCpu = 0
  let writerBytes: number | undefined = 0
  const cpu: number[] = []
  const traffic: number[] = []
  let measured = true
  for (const [peer, spend] of spent) {
    const rest = restOf(peer)
    if (rest === undefined) continue
    const beyond = beyondRest(spend, rest)
    if (beyond.bytes === undefined) measured = false
    if (writers.has(peer)) {
      writerCpu += beyond.cpuSeconds
      writerBytes = writerBytes === undefined || beyond.bytes === undefined ? undefined : writerBytes + beyond.bytes
      continue
    }
    const count = received(peer)
    if (count === 0) continue
    cpu.push(beyond.cpuSeconds / count)
    if (beyond.bytes !== undefined) traffic.push(beyond.bytes / count)
  }
  const per = Math.max(1, writes)
  return {
    writes,
    writer: { cpuSeconds: writerCpu / per, bytes: writerBytes === undefined || !measured ? undefined : writerBytes / per },
    receiver: { cpuSeconds: summarize(cpu), bytes: measured ? summarize(traffic) : undefined }
  }
}

/** Memory of every peer now: RSS, and the private part of it (bytes). */
export function memory (usage: Iterable<Usage>): { readonly rss: Summary, readonly privateBytes: Summary } {
  const all = [...usage]
  return { rss: summarize(all.map((u) => u.rss)), privateBytes: summarize(all.map((u) => u.privateBytes)) }
}
