import { decode, encode } from 'cborg'
import { isBytes } from '../bytes.ts'
import { MalformedUpdateError } from '../errors.ts'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, signedBytes, verifySignature, type Signer } from '../security/identity.ts'
import type { Sealer } from '../security/sealer.ts'

/** Size of one block at most: below kad-dht's 4 MiB message limit, with room for framing. */
export const MAX_BLOCK_BYTES = 1024 * 1024
/** Parts (merged Yjs updates) one head may name at most. */
export const MAX_HEAD_PARTS = 64
/** Blocks one part may span at most (64 MiB). */
export const MAX_PART_BLOCKS = 64
/** Largest head accepted. */
const MAX_HEAD_BYTES = 256 * 1024
/**
 * States up to this size travel inside the head instead of as blocks: a
 * small record is then one DHT value, read and written with one query.
 */
export const MAX_INLINE_BYTES = 16 * 1024
const DOMAIN = 'kadmium/head/2'

/**
 * A head: the parts whose merge is a record's state. Each part is one Yjs
 * update, stored as the concatenation of the blocks it lists (by SHA-256),
 * so that updates larger than a DHT message can be stored.
 *
 * Wire form (CBOR): `{ v: 2, k: author key, s: signature, p: payload, e?: true }`
 * where `p` is the CBOR bytes of `[parts, inline]` — `parts` a list of
 * `[hash, hash, ...]` (each hash 32 bytes), `inline` null or a state of at
 * most 16 KiB carried in the head itself (small records need no block) —
 * or, with `e: true`, those bytes sealed with the database's key.
 * The author signs `signedBytes('kadmium/head/2', dhtKey, p)`: a head
 * cannot be moved to another record, and the DHT validator checks the
 * signature of every head it stores.
 */
export interface Head {
  readonly parts: ReadonlyArray<readonly Uint8Array[]>
  /** A (small) state carried in the head, merged with the parts'. */
  readonly inline?: Uint8Array | undefined
}

/** A head whose signature verified; its parts may still be sealed. */
export interface SignedHead {
  /** The author's raw Ed25519 public key. */
  readonly author: Uint8Array
  /** The (possibly sealed) parts bytes. */
  readonly p: Uint8Array
  /** Whether `p` is sealed. */
  readonly sealed: boolean
}

/** Encodes and signs a head for the DHT key `key` (sealing its parts when a sealer is given). */
export async function encodeHead (key: Uint8Array, head: Head, signer: Signer, sealer?: Sealer): Promise<Uint8Array> {
  const plain = encode([head.parts, head.inline ?? null])
  const p = sealer === undefined ? plain : await sealer.seal(plain, key)
  const s = await signer.sign(signedBytes(DOMAIN, key, p))
  return encode({ v: 2, k: signer.publicKey, s, p, ...(sealer === undefined ? {} : { e: true }) })
}

/**
 * Decodes a head and checks its signature for the DHT key `key`; the parts
 * of an unsealed head are checked too.
 * @throws {MalformedUpdateError} the bytes are not a well-formed head
 * @throws {SignatureError} the signature does not verify
 */
export async function verifyHead (key: Uint8Array, bytes: Uint8Array): Promise<SignedHead> {
  if (bytes.length > MAX_HEAD_BYTES) throw new MalformedUpdateError(`a head is at most ${MAX_HEAD_BYTES} bytes`)
  const v = cbor(bytes) as { v?: unknown, k?: unknown, s?: unknown, p?: unknown, e?: unknown }
  if (typeof v !== 'object' || v === null || v.v !== 2) throw new MalformedUpdateError('a head must be { v: 2, k, s, p }')
  if (!(isBytes(v.k)) || v.k.length !== PUBLIC_KEY_BYTES) throw new MalformedUpdateError('a head names its author\'s 32-byte key')
  if (!(isBytes(v.s)) || v.s.length !== SIGNATURE_BYTES) throw new MalformedUpdateError('a head signature is 64 bytes')
  if (!(isBytes(v.p)) || (v.e !== undefined && v.e !== true)) throw new MalformedUpdateError('a head holds its parts as bytes')
  await verifySignature(v.k, signedBytes(DOMAIN, key, v.p), v.s)
  const sealed = v.e === true
  if (!sealed) decodeParts(v.p)
  return { author: v.k, p: v.p, sealed }
}

/**
 * The parts of a verified head (opening them with the sealer when sealed).
 * @throws {MalformedUpdateError} the parts do not decode, or sealed parts in an unencrypted database (or the reverse)
 * @throws {DecryptionError} sealed parts do not open with this key
 */
export async function headParts (key: Uint8Array, head: SignedHead, sealer?: Sealer): Promise<Head> {
  if (head.sealed !== (sealer !== undefined)) throw new MalformedUpdateError(head.sealed ? 'a sealed head in an unencrypted database' : 'a plain head in an encrypted database')
  return decodeParts(sealer === undefined ? head.p : await sealer.open(head.p, key))
}

function decodeParts (bytes: Uint8Array): Head {
  const payload = cbor(bytes)
  if (!Array.isArray(payload) || payload.length !== 2) throw new MalformedUpdateError('a head holds [parts, inline]')
  const [parts, inline] = payload as unknown[]
  if (inline !== null && (!(isBytes(inline)) || inline.length > MAX_INLINE_BYTES)) {
    throw new MalformedUpdateError(`an inline state is at most ${MAX_INLINE_BYTES} bytes`)
  }
  const least = inline === null ? 1 : 0
  if (!Array.isArray(parts) || parts.length < least || parts.length > MAX_HEAD_PARTS) {
    throw new MalformedUpdateError(`a head names ${least} to ${MAX_HEAD_PARTS} parts`)
  }
  for (const part of parts as unknown[]) {
    if (!Array.isArray(part) || part.length === 0 || part.length > MAX_PART_BLOCKS) {
      throw new MalformedUpdateError(`a head part lists 1 to ${MAX_PART_BLOCKS} blocks`)
    }
    for (const hash of part as unknown[]) {
      if (!(isBytes(hash)) || hash.length !== 32) throw new MalformedUpdateError('a block hash is 32 bytes')
    }
  }
  return { parts: parts as Uint8Array[][], ...(isBytes(inline) ? { inline } : {}) }
}

function cbor (bytes: Uint8Array): unknown {
  try {
    return decode(bytes)
  } catch (cause) {
    throw new MalformedUpdateError('a head does not decode', { cause })
  }
}
