/**
 * DHT keys of Kadmium records. Every key is `/<namespace>/<hex>`, so that
 * kad-dht routes it to the validator and selector of its namespace.
 * @module
 */
import { sha256, toHex } from '../util/hash.ts'

/** Namespace of immutable blocks: the key is the SHA-256 of the value. */
export const BLOCK_NS = 'kadmium-block'
/** Namespace of heads: which blocks make up a record (or a collection index). */
export const HEAD_NS = 'kadmium-head'
/** The kad-dht protocol Kadmium peers speak (not the public IPFS one). */
export const DHT_PROTOCOL = '/kadmium/kad/1.0.0'

const encoder = new TextEncoder()

/** The DHT key of a block, given its hash. */
export function blockKey (hash: Uint8Array): Uint8Array {
  return encoder.encode(`/${BLOCK_NS}/${toHex(hash)}`)
}

/**
 * The DHT key of a record's head, derived from the database address,
 * collection and record id (`null`: the collection index).
 */
export function headKey (address: string, collection: string, id: string | null): Uint8Array {
  const name = encoder.encode(`${address}\u0000${collection}\u0000${id === null ? '\u0000index' : id}`)
  return encoder.encode(`/${HEAD_NS}/${toHex(sha256(name))}`)
}

/** Splits a DHT key into its namespace and hex part; `undefined` if it is not one of ours. */
export function parseKey (key: Uint8Array): { ns: string, hex: string } | undefined {
  const text = new TextDecoder().decode(key)
  const m = /^\/([a-z-]+)\/([0-9a-f]{64})$/.exec(text)
  return m === null ? undefined : { ns: m[1] as string, hex: m[2] as string }
}
