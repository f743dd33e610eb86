/**
 * Immutable blocks: a Yjs update is cut into blocks of at most
 * `MAX_BLOCK_BYTES`, each stored under the SHA-256 of its bytes. The list of
 * a part's block hashes is what a head names.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import { concatBytes } from '../util/bytes.ts'
import { RecordTooLargeError } from '../errors.ts'
import { bytesEqual, sha256, toHex } from '../util/hash.ts'
import { MAX_BLOCK_BYTES, MAX_PART_BLOCKS } from './head.ts'
import { blockKey } from './dht-keys.ts'
import { mapLimit } from './map-limit.ts'
import { getFirstValue, startPut } from './kad-calls.ts'

/** A part: the hashes of the blocks whose concatenation is one Yjs update. */
export type Part = readonly Uint8Array[]

/** Largest update one part can hold. */
export const MAX_PART_BYTES = MAX_BLOCK_BYTES * MAX_PART_BLOCKS

/** A stable string naming a part (the hex of its block hashes), to compare and deduplicate parts. */
export function partId (part: Part): string {
  return part.map(toHex).join('.')
}

/**
 * Cuts bytes into blocks of at most `MAX_BLOCK_BYTES` (views, not copies).
 * Empty bytes make one empty block, so that every part names a block.
 * @throws {RecordTooLargeError} more than `MAX_PART_BYTES`
 */
export function splitBlocks (bytes: Uint8Array): Uint8Array[] {
  if (bytes.length > MAX_PART_BYTES) throw new RecordTooLargeError(bytes.length, MAX_PART_BYTES)
  if (bytes.length === 0) return [bytes]
  const blocks: Uint8Array[] = []
  for (let at = 0; at < bytes.length; at += MAX_BLOCK_BYTES) blocks.push(bytes.subarray(at, at + MAX_BLOCK_BYTES))
  return blocks
}

/** How a block or part operation runs its DHT queries. */
export interface BlockQueryOptions {
  /** A fresh signal for each DHT query (its own timeout, and the caller's abort). */
  readonly signal: () => AbortSignal
  /** Block queries in flight at once. */
  readonly concurrency: number
}

/** What {@link putPart} did. */
export interface PutPartResult {
  /** The part: hashes of the blocks, in order. */
  readonly part: Uint8Array[]
  /** Peers that acknowledged every block, at least: the fewest acknowledgements of any block. */
  readonly acknowledged: number
}

/**
 * Stores an update as blocks (each one a DHT put) and returns its part.
 * @throws {RecordTooLargeError} more than `MAX_PART_BYTES`
 */
export async function putPart (dht: KadDHT, bytes: Uint8Array, options: BlockQueryOptions): Promise<PutPartResult> {
  const { part, acknowledged, rest } = await startPart(dht, bytes, options)
  return { part, acknowledged: Math.min(acknowledged, await rest) }
}

/** What {@link startPart} resolves with: {@link PutPartResult}, and the rest of the puts. */
export interface PartProgress extends PutPartResult {
  /** Resolves with the fewest acknowledgements of any block once every block's whole put ended; rejects if one failed. */
  readonly rest: Promise<number>
}

/**
 * Stores an update as blocks and resolves once each block's put reached
 * `need` acknowledgements (or ended short of them), while the rest of the
 * puts go on (`rest`). At most `concurrency` block puts are short of
 * `need` at once. Without `need`, it resolves when every put ended.
 * @throws {RecordTooLargeError} more than `MAX_PART_BYTES`
 */
export async function startPart (dht: KadDHT, bytes: Uint8Array, options: BlockQueryOptions & { readonly need?: number }): Promise<PartProgress> {
  const blocks = splitBlocks(bytes)
  const part = blocks.map((block) => sha256(block))
  const dones: Array<Promise<number>> = []
  let acks: number[]
  try {
    acks = await mapLimit(blocks, options.concurrency, async (block, i) => {
      const put = startPut(dht, blockKey(part[i] as Uint8Array), block, options.signal(), options.need)
      dones.push(put.done)
      return await put.reached
    })
  } catch (error) {
    // The puts already started are left to end on their own (their signals bound them).
    for (const done of dones) done.catch(() => {})
    throw error
  }
  const rest = Promise.all(dones).then((all) => Math.min(...all))
  return { part, acknowledged: Math.min(...acks), rest }
}

/** A cap on the bytes fetched for one record. */
export interface ByteBudget {
  /** Bytes fetched so far; increased as blocks arrive. */
  used: number
  /** The most that may be fetched. */
  readonly limit: number
}

/** Options of {@link getPart}. */
export interface GetPartOptions extends BlockQueryOptions {
  /** Bytes fetched so far and the most that may be (share one budget across a record's parts). */
  readonly budget: ByteBudget
  /** Told about every value a peer served that is not the block asked for. */
  readonly onReject?: (reason: string) => void
}

/**
 * Fetches a part's blocks (the local copy or the first peer that has each),
 * checks every block against its hash, and concatenates them. A value whose
 * hash does not match is refused (reported through `onReject`) and the
 * lookup goes on for a good one.
 * @returns the update, or `undefined` if a block could not be found in time
 * @throws {RecordTooLargeError} the budget ran out
 */
export async function getPart (dht: KadDHT, part: Part, options: GetPartOptions): Promise<Uint8Array | undefined> {
  if (part.length === 0 || part.length > MAX_PART_BLOCKS) return undefined
  const blocks = await mapLimit(part, options.concurrency, async (hash) => {
    const accept = (value: Uint8Array): boolean => {
      if (value.length <= MAX_BLOCK_BYTES && bytesEqual(sha256(value), hash)) return true
      options.onReject?.(`MalformedUpdateError: a peer served bytes that do not match block ${toHex(hash)}`)
      return false
    }
    const block = await getFirstValue(dht, blockKey(hash), accept, options.signal(), (reason, from) => {
      options.onReject?.(`${reason} (block ${toHex(hash)} from peer ${from})`)
    })
    if (block !== undefined) {
      const { budget } = options
      if (budget.used + block.length > budget.limit) throw new RecordTooLargeError(budget.used + block.length, budget.limit)
      budget.used += block.length
    }
    return block
  })
  if (blocks.some((block) => block === undefined)) return undefined
  return concatBytes(blocks as Uint8Array[])
}
