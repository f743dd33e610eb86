/**
 * One hash of everything a catch-up session compares: two replicas with
 * the same summary hold the same of every collection (its index and each
 * live record's digest), so a session between them would send nothing.
 * @module
 */
import { encode } from 'cborg'
import type { Replica } from '../replica/replica.ts'
import { sha256 } from '../util/hash.ts'

/** Length of a replica summary in bytes (a SHA-256). */
export const SUMMARY_BYTES = 32

/**
 * The summary of what `source` holds: SHA-256 of the CBOR of each
 * collection (by name) with its index digest's hash and its live records'
 * `[id, digest hash]`, ids in order.
 */
export async function replicaSummary (source: Replica): Promise<Uint8Array> {
  const parts: unknown[] = []
  for (const c of [...await source.collections()].sort()) {
    const index = await source.indexDigest(c)
    const digests = await source.digests(c)
    const records = [...digests.keys()].sort().map((id) => [id, digests.get(id)?.hash])
    parts.push([c, index.hash, records])
  }
  return sha256(encode(parts))
}
