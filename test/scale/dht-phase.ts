/**
 * The DHT, measured: what each DHT server holds and how many of each
 * key's k closest peers hold it, and lookups traced hop by hop, one at a
 * time across the network (so that the bytes the network sent meanwhile
 * are the lookups').
 * @module
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { costs, spends, type Costs } from './costs.ts'
import type { LookupResult } from './dht-probe.ts'
import { coverage, kadId, summarize, type Coverage, type DhtPeer, type Summary } from './measure.ts'
import type { ScalePeer } from './peers.ts'
import type { Swarm } from './swarm.ts'

/** kad-dht's k: the replication factor and bucket size. */
export const K = 20
/** Bound of one traced lookup (ms). */
const LOOKUP_TIMEOUT_MS = 30_000

/** What the DHT servers hold. */
export interface Holdings {
  /** DHT key (hex) → peer ids holding it. */
  readonly held: Map<string, Set<string>>
  /** Per peer: records held. */
  readonly records: Summary
  /** Per peer: bytes of records held. */
  readonly bytes: Summary
  /** Per peer: provider entries held. */
  readonly providers: Summary
  /** Per key: bytes stored under it (the largest copy). */
  readonly valueBytes: Summary
  readonly coverage: Coverage
}

/** Reads what every live peer's DHT server holds, and the coverage of every key by its k closest live peers. */
export async function holdings (swarm: Swarm): Promise<Holdings> {
  const live = swarm.live
  const all = await Promise.all(live.map(async (p) => await p.request('held') as { records: Array<{ key: string, bytes: number }>, providers: number }))
  const held = new Map<string, Set<string>>()
  const size = new Map<string, number>()
  all.forEach((h, i) => {
    for (const { key, bytes } of h.records) {
      const by = held.get(key) ?? new Set<string>()
      by.add((live[i] as ScalePeer).id)
      held.set(key, by)
      size.set(key, Math.max(size.get(key) ?? 0, bytes))
    }
  })
  return {
    held,
    records: summarize(all.map((h) => h.records.length)),
    bytes: summarize(all.map((h) => h.records.reduce((sum, r) => sum + r.bytes, 0))),
    providers: summarize(all.map((h) => h.providers)),
    valueBytes: summarize([...size.values()]),
    coverage: coverage(held, dhtPeers(live), K)
  }
}

/** The live peers' positions in the key space. */
export function dhtPeers (peers: readonly ScalePeer[]): DhtPeer[] {
  return peers.map((p) => ({ id: p.id, kadId: kadId(peerIdFromString(p.id).toMultihash().bytes) }))
}

/** Lookups of one kind, summarized. */
export interface LookupStats {
  readonly count: number
  /** Lookups that failed, ran out of time or (`get`) found no value. */
  readonly failed: number
  readonly ms: Summary
  /** `get`: ms to the first answer carrying the value. */
  readonly firstValueMs: Summary
  /** Hops (see `lookupHops`): the longest chain of answers. */
  readonly depth: Summary
  /** `get`: the hop of the first answer carrying the value. */
  readonly valueHop: Summary
  readonly queried: Summary
  /** log2 of the peers in the network, to compare hops with. */
  readonly log2n: number
  /** What the network spent meanwhile (lookups run one at a time). */
  readonly costs: Costs
  /**
   * What one lookup cost the peer that made it: its CPU and its bytes
   * (sent + received: every request and answer of its lookups passes its
   * interface), beyond what the median other peer spent meanwhile.
   */
  readonly querier: { readonly cpuSeconds: number, readonly bytes: number | undefined }
}

/** Summarizes traced lookups made in a network of `n` peers. */
export function lookupStats (results: readonly LookupResult[], n: number, spent: Costs, querier: LookupStats['querier']): LookupStats {
  const ok = (r: LookupResult): boolean => r.error === undefined && (r.kind === 'closest' || r.found > 0)
  return {
    count: results.length,
    failed: results.filter((r) => !ok(r)).length,
    ms: summarize(results.filter(ok).map((r) => r.ms)),
    firstValueMs: summarize(results.flatMap((r) => r.firstValueMs === undefined ? [] : [r.firstValueMs])),
    depth: summarize(results.filter(ok).map((r) => r.hops.depth)),
    valueHop: summarize(results.flatMap((r) => r.hops.valueHop === undefined ? [] : [r.hops.valueHop])),
    queried: summarize(results.map((r) => r.hops.queried)),
    log2n: Math.log2(n),
    costs: spent,
    querier
  }
}

/**
 * Each of `from` looks up `count` keys, one lookup at a time across the
 * network: `closest` random keys, or `get` record keys it does not hold
 * (drawn with `pick` from `held`).
 */
export async function lookups (swarm: Swarm, from: readonly ScalePeer[], kind: 'closest' | 'get', count: number, held: ReadonlyMap<string, ReadonlySet<string>>, pick: (n: number) => number): Promise<LookupStats> {
  const keys = [...held.keys()]
  const results: LookupResult[] = []
  const cpu: number[] = []
  const traffic: number[] = []
  const first = await swarm.usage()
  let before = first
  for (const peer of from) {
    if (!peer.alive) continue
    let made = 0
    for (let i = 0; i < count; i++) {
      let key: string | undefined
      if (kind === 'get') {
        // A key the peer does not hold itself; in a network of k peers or fewer, every peer holds every key.
        const others = keys.filter((k) => held.get(k)?.has(peer.id) !== true)
        const pool = others.length > 0 ? others : keys
        if (pool.length === 0) break
        key = pool[pick(pool.length)]
      }
      results.push(await peer.request('lookup', { kind, key, timeoutMs: LOOKUP_TIMEOUT_MS }, LOOKUP_TIMEOUT_MS + 30_000) as LookupResult)
      made++
    }
    const after = await swarm.usage()
    const spent = spends(before, after)
    before = after
    const mine = spent.get(peer.id)
    if (mine === undefined || made === 0) continue
    const others = [...spent].filter(([id]) => id !== peer.id).map(([, s]) => s)
    const cpuRate = median(others.map((s) => s.cpuSeconds / s.seconds))
    cpu.push(Math.max(0, mine.cpuSeconds - cpuRate * mine.seconds) / made)
    if (mine.bytes !== undefined) {
      const byteRate = median(others.map((s) => (s.bytes ?? 0) / s.seconds))
      traffic.push(Math.max(0, mine.bytes - byteRate * mine.seconds) / made)
    }
  }
  const mean = (xs: number[]): number => xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length
  return lookupStats(results, swarm.live.length, costs(first, before), { cpuSeconds: mean(cpu), bytes: traffic.length === 0 ? undefined : mean(traffic) })
}

function median (xs: readonly number[]): number {
  return summarize(xs).p50
}
