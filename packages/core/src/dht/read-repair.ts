/**
 * Read repair: what a whole read of a record puts back into the DHT. When
 * a replica lacked some author's newest head, the heads are put back as
 * they are (still signed by their authors); when many authors' heads hold
 * the record and none of them holds everything (or, for a deleted record,
 * no tombstone is among the newest), the reader adds a head of its own
 * with the merge (or a tombstone), so that servers evicting the oldest
 * authors lose nothing.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import { bytesEqual } from '../util/hash.ts'
import { coversAll } from './covers.ts'
import { MAX_SET_HEADS, TOMBSTONE, type RecordContent, type SignedHead } from './head.ts'
import type { FoundHead } from './head-read.ts'
import { headSet } from './head-set.ts'
import type { WrittenHead } from './head-write.ts'
import { putValue } from './kad-calls.ts'
import type { MergedRead } from './record-read.ts'

/**
 * A read whose heads reach this many authors (half of what a head set
 * keeps) and none of which holds everything puts a head with the merged
 * state: servers evict the oldest authors beyond `MAX_SET_HEADS`.
 */
export const COMPACT_AT = MAX_SET_HEADS / 2

/** What a read repair needs of the DHT store. */
export interface RepairContext {
  readonly dht: KadDHT
  /** This store's author (its own heads are never put back as "others"). */
  readonly author: Uint8Array
  /** Whether this store's heads for the collection would be accepted. */
  readonly mayWrite: boolean
  /** Whether this store wrote a head of the record since the read began (then it adds no merged head: its own may hold more). */
  readonly wroteSince: () => boolean
  /** Writes this store's head of `content` with `others` in one head set. */
  readonly write: (hk: Uint8Array, content: RecordContent, others: readonly SignedHead[], signal: () => AbortSignal) => Promise<WrittenHead>
  /** Runs the merged head's write under the record's lock (or at once, if the caller holds it). */
  readonly locked: <T>(work: () => Promise<T>) => Promise<T>
}

/**
 * Repairs the DHT after the whole read `merged` of the head key `hk`.
 * @returns the acknowledgements of the repair's put, or `undefined` if none was needed (or the merged head was skipped)
 */
export async function repairRead (ctx: RepairContext, hk: Uint8Array, merged: MergedRead, signal: () => AbortSignal): Promise<number | undefined> {
  const { read, state, rejected, deleted } = merged
  const covered = deleted ? tombstoneAmongNewest(read.heads) : coversAll(read, rejected, state)
  const compact = read.heads.length >= COMPACT_AT && ctx.mayWrite && !covered
  if (!read.disagreed && !compact) return undefined
  const heads = read.heads.map((h) => h.signed)
  if (!compact) return await putValue(ctx.dht, hk, headSet(heads), signal())
  return await ctx.locked(async () => {
    if (ctx.wroteSince()) return undefined
    const written = await ctx.write(hk, deleted ? TOMBSTONE : state, heads.filter((h) => !bytesEqual(h.author, ctx.author)), signal)
    return Math.min(written.acknowledged, await written.rest)
  })
}

/** Whether a tombstone is among the newest `COMPACT_AT` heads (by time): that many more authors must write before servers could evict it. */
function tombstoneAmongNewest (heads: readonly FoundHead[]): boolean {
  const newest = [...heads].sort((a, b) => b.signed.t - a.signed.t).slice(0, COMPACT_AT)
  return newest.some((h) => h.head.deleted === true)
}
