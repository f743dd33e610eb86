import { decode, encode } from 'cborg'
import { MalformedUpdateError } from '../errors.ts'

/** Size of one block at most: below kad-dht's 4 MiB message limit, with room for framing. */
export const MAX_BLOCK_BYTES = 1024 * 1024
/** Parts (merged Yjs updates) one head may name at most. */
export const MAX_HEAD_PARTS = 64
/** Blocks one part may span at most (64 MiB). */
export const MAX_PART_BLOCKS = 64

/**
 * A head: the parts whose merge is a record's state. Each part is one Yjs
 * update, stored as the concatenation of the blocks it lists (by SHA-256),
 * so that updates larger than a DHT message can be stored.
 *
 * Wire form (CBOR): `{ v: 1, parts: [[hash, hash, ...], ...] }` with each
 * hash 32 bytes. Signatures are added by the security work (`sig`, `key`).
 */
export interface Head {
  readonly parts: ReadonlyArray<readonly Uint8Array[]>
}

/** Encodes a head for the DHT. */
export function encodeHead (head: Head): Uint8Array {
  return encode({ v: 1, parts: head.parts })
}

/**
 * Decodes and checks a head.
 * @throws {MalformedUpdateError} the bytes are not a well-formed head
 */
export function decodeHead (bytes: Uint8Array): Head {
  let value: unknown
  try {
    value = decode(bytes)
  } catch (cause) {
    throw new MalformedUpdateError('a head does not decode', { cause })
  }
  const v = value as { v?: unknown, parts?: unknown }
  if (typeof value !== 'object' || value === null || v.v !== 1 || !Array.isArray(v.parts)) {
    throw new MalformedUpdateError('a head must be { v: 1, parts: [...] }')
  }
  if (v.parts.length === 0 || v.parts.length > MAX_HEAD_PARTS) throw new MalformedUpdateError(`a head names 1 to ${MAX_HEAD_PARTS} parts`)
  for (const part of v.parts as unknown[]) {
    if (!Array.isArray(part) || part.length === 0 || part.length > MAX_PART_BLOCKS) {
      throw new MalformedUpdateError(`a head part lists 1 to ${MAX_PART_BLOCKS} blocks`)
    }
    for (const hash of part as unknown[]) {
      if (!(hash instanceof Uint8Array) || hash.length !== 32) throw new MalformedUpdateError('a block hash is 32 bytes')
    }
  }
  return { parts: v.parts as Uint8Array[][] }
}
