/**
 * The arithmetic of a scale run's measurements, apart from the network so
 * that it is unit-tested: percentiles, a DHT lookup's hops from its query
 * events, which of a key's k closest peers hold it, and gossip delivery.
 * @module
 */
import { createHash } from 'node:crypto'

/** A distribution's summary. */
export interface Summary {
  readonly count: number
  readonly mean: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly min: number
  readonly max: number
}

/** The summary of `values` (nearest-rank percentiles); all zero for none. */
export function summarize (values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, min: 0, max: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number
  const sum = sorted.reduce((a, b) => a + b, 0)
  return { count: sorted.length, mean: sum / sorted.length, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), min: sorted[0] as number, max: sorted[sorted.length - 1] as number }
}

/**
 * One kad-dht query event, as a lookup's trace keeps it: a query sent to
 * a peer, a peer's answer (the closer peers it named, whether it carried
 * the value), or a peer that failed to answer.
 */
export type TraceEvent =
  | { readonly kind: 'send', readonly to: string }
  | { readonly kind: 'response', readonly from: string, readonly closer: readonly string[], readonly value: boolean }
  | { readonly kind: 'error', readonly from: string }

/** The hops of one lookup. */
export interface LookupHops {
  /** The longest chain of answers: a peer from the querier's own routing table is hop 1, one it names hop 2, and so on. */
  readonly depth: number
  /** The hop of the first peer whose answer carried the value (undefined: none did). */
  readonly valueHop: number | undefined
  /** Peers queried. */
  readonly queried: number
  /** Peers that answered. */
  readonly answered: number
}

/**
 * A lookup's hops from its trace: each peer's hop is one more than the
 * hop of the first peer that named it; a peer queried that no answer
 * named came from the querier's routing table (hop 1).
 */
export function lookupHops (trace: readonly TraceEvent[]): LookupHops {
  const hop = new Map<string, number>()
  const queried = new Set<string>()
  let depth = 0
  let answered = 0
  let valueHop: number | undefined
  for (const event of trace) {
    if (event.kind === 'send') {
      queried.add(event.to)
      if (!hop.has(event.to)) hop.set(event.to, 1)
    } else if (event.kind === 'response') {
      const at = hop.get(event.from) ?? 1
      answered++
      depth = Math.max(depth, at)
      if (event.value && valueHop === undefined) valueHop = at
      for (const peer of event.closer) if (!hop.has(peer)) hop.set(peer, at + 1)
    }
  }
  return { depth, valueHop, queried: queried.size, answered }
}

/** A peer's or key's position in the DHT's key space: SHA-256 of the key (a peer: of its id's multihash). */
export function kadId (bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest()
}

/** Compares the XOR distances of `a` and `b` to `target`. */
function xorCompare (target: Buffer, a: Buffer, b: Buffer): number {
  for (let i = 0; i < target.length; i++) {
    const da = (a[i] as number) ^ (target[i] as number)
    const db = (b[i] as number) ^ (target[i] as number)
    if (da !== db) return da - db
  }
  return 0
}

/** A DHT peer: its id and its position. */
export interface DhtPeer {
  readonly id: string
  readonly kadId: Buffer
}

/** The `k` peers of `peers` closest to `target` (XOR distance), closest first. */
export function closestPeers (target: Buffer, peers: readonly DhtPeer[], k: number): DhtPeer[] {
  return [...peers].sort((a, b) => xorCompare(target, a.kadId, b.kadId)).slice(0, k)
}

/** How well the DHT holds its records. */
export interface Coverage {
  /** Keys looked at. */
  readonly keys: number
  /** Per key: how many of its k closest peers hold it. */
  readonly ofClosest: Summary
  /** Per key: how many peers hold it, closest or not. */
  readonly holders: Summary
  /** Keys all k closest peers hold. */
  readonly complete: number
  /** Keys no peer holds. */
  readonly lost: number
}

/**
 * For every key (hex) in `held` (key → the peers holding it), how many of
 * its `k` closest among `peers` hold it; `expected` adds keys that must be
 * there (a key no peer holds counts as lost).
 */
export function coverage (held: ReadonlyMap<string, ReadonlySet<string>>, peers: readonly DhtPeer[], k: number, expected: Iterable<string> = []): Coverage {
  const keys = new Set([...held.keys(), ...expected])
  const ofClosest: number[] = []
  const holders: number[] = []
  let complete = 0
  let lost = 0
  const want = Math.min(k, peers.length)
  for (const key of keys) {
    const by = held.get(key) ?? new Set<string>()
    const closest = closestPeers(kadId(Buffer.from(key, 'hex')), peers, k)
    const count = closest.filter((p) => by.has(p.id)).length
    ofClosest.push(count)
    holders.push(by.size)
    if (count === want) complete++
    if (by.size === 0) lost++
  }
  return { keys: keys.size, ofClosest: summarize(ofClosest), holders: summarize(holders), complete, lost }
}

/** One write a run made, and who should receive it. */
export interface SentWrite {
  readonly id: string
  /** When the writer called insert (ms since 1970). */
  readonly at: number
  /** Peers (ids) subscribed to its database when it was written, the writer left out. */
  readonly to: readonly string[]
}

/** How gossip delivered a run's writes. */
export interface Delivery {
  readonly writes: number
  /** (write, subscriber) pairs expected. */
  readonly expected: number
  /** Pairs delivered within the window. */
  readonly delivered: number
  /** delivered / expected. */
  readonly ratio: number
  /** Per delivered pair: ms from insert to the subscriber's change event. */
  readonly latency: Summary
  /** Per write delivered to every subscriber: ms until the last one had it. */
  readonly toAll: Summary
  /** Writes that reached every subscriber within the window. */
  readonly complete: number
}

/**
 * Delivery of `writes`, from each subscriber's arrival times (peer id →
 * record id → ms since 1970); an arrival later than `windowMs` after the
 * write counts as missed.
 */
export function delivery (writes: readonly SentWrite[], arrivals: ReadonlyMap<string, ReadonlyMap<string, number>>, windowMs: number): Delivery {
  const latencies: number[] = []
  const toAll: number[] = []
  let expected = 0
  for (const write of writes) {
    let last = 0
    let all = true
    for (const peer of write.to) {
      expected++
      const at = arrivals.get(peer)?.get(write.id)
      if (at === undefined || at - write.at > windowMs) {
        all = false
        continue
      }
      const ms = Math.max(0, at - write.at)
      latencies.push(ms)
      last = Math.max(last, ms)
    }
    if (all) toAll.push(last)
  }
  return {
    writes: writes.length,
    expected,
    delivered: latencies.length,
    ratio: expected === 0 ? 1 : latencies.length / expected,
    latency: summarize(latencies),
    toAll: summarize(toAll),
    complete: toAll.length
  }
}
