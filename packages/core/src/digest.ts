import { decode, encode } from 'cborg'
import * as Y from 'yjs'
import { sha256 } from './hash.ts'

/**
 * What a replica tells a peer about one document during catch-up: its
 * state vector (which updates it has) and a short hash of the state vector
 * and delete set (so deletions, which do not advance a state vector, also
 * count as a difference).
 */
export interface Digest {
  readonly sv: Uint8Array
  readonly hash: Uint8Array
}

/** Length of a digest hash in bytes. */
export const DIGEST_HASH_BYTES = 8

/** The digest of a document. */
export function docDigest (doc: Y.Doc): Digest {
  const sv = Y.encodeStateVector(doc)
  // An update relative to the document's own state vector holds no
  // structs, only the delete set.
  const deletes = Y.encodeStateAsUpdate(doc, sv)
  const material = new Uint8Array(sv.length + deletes.length)
  material.set(sv)
  material.set(deletes, sv.length)
  return { sv, hash: sha256(material).subarray(0, DIGEST_HASH_BYTES) }
}

/** A record's stored digest, with the keys of its update log (so that loading it needs no scan). */
export interface StoredDigest extends Digest {
  readonly log: readonly string[]
}

/** Encodes a digest for storage, with the record's update-log keys. */
export function encodeDigest (digest: Digest, log: readonly string[]): Uint8Array {
  return encode([digest.sv, digest.hash, log])
}

/** Decodes a stored digest; `undefined` if it is malformed. */
export function decodeDigest (bytes: Uint8Array): StoredDigest | undefined {
  try {
    const value: unknown = decode(bytes)
    if (Array.isArray(value) && value[0] instanceof Uint8Array && value[1] instanceof Uint8Array &&
      Array.isArray(value[2]) && value[2].every((k) => typeof k === 'string')) {
      return { sv: value[0], hash: value[1], log: value[2] }
    }
  } catch {}
  return undefined
}
