import { decode, encode } from 'cborg'
import { isBytes } from '../util/bytes.ts'
import { MalformedUpdateError } from '../errors.ts'
import { toHex } from '../util/hash.ts'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, signedBytes, verifySignature, type Signer } from '../access/identity.ts'
import type { Sealer } from '../access/sealer.ts'
import { headClock } from './head-clock.ts'
import { verifiedBefore, rememberVerified } from './verified-cache.ts'

/** Size of one block at most: below kad-dht's 4 MiB message limit, with room for framing. */
export const MAX_BLOCK_BYTES = 1024 * 1024
/** Parts (merged Yjs updates) one head may name at most. */
export const MAX_HEAD_PARTS = 64
/** Blocks one part may span at most (64 MiB). */
export const MAX_PART_BLOCKS = 64
/** Largest head accepted. */
export const MAX_HEAD_BYTES = 256 * 1024
/**
 * States up to this size travel inside the head instead of as blocks: a
 * small record is then one DHT value, read and written with one query.
 */
export const MAX_INLINE_BYTES = 16 * 1024
/** Heads (one per author) a head set holds at most. */
export const MAX_SET_HEADS = 16
/** Largest head set: well below kad-dht's 4 MiB message. */
export const MAX_SET_BYTES = 1024 * 1024
/** Format version of heads and head sets (3, before heads carried the deleted marker, is refused). */
const VERSION = 4
const DOMAIN = 'kadmium/head/4'

/** What a head says of a deleted record: nothing but that (see {@link TOMBSTONE}). */
export interface Tombstone {
  readonly deleted: true
}

/**
 * The content of a deleted record's head: the record was deleted, for
 * good. Given to `putRecord` (or returned by its load function) instead of
 * a state.
 */
export const TOMBSTONE: Tombstone = Object.freeze({ deleted: true })

/** A record's content in the DHT: its state (a full Yjs update), or {@link TOMBSTONE}. */
export type RecordContent = Uint8Array | Tombstone

/** Whether `content` is the deleted marker (else it is a state). */
export function isTombstone (content: RecordContent): content is Tombstone {
  return !(content instanceof Uint8Array)
}

/**
 * A head: the parts whose merge is one author's state of a record. Each
 * part is one Yjs update, stored as the concatenation of the blocks it
 * lists (by SHA-256), so that updates larger than a DHT message can be
 * stored — or, for a record its author deleted, the deleted marker and no
 * state.
 *
 * Wire form (CBOR): `{ v: 4, k: author key, t: time, s: signature, p: payload, e?: true }`
 * where `p` is the CBOR bytes of `[parts, inline, deleted]` — `parts` a list of
 * `[hash, hash, ...]` (each hash 32 bytes), `inline` null or a state of at
 * most 16 KiB carried in the head itself (small records need no block),
 * `deleted` a boolean: `true` (a tombstone) with no parts and no inline
 * state, the record deleted for good —
 * or, with `e: true`, those bytes sealed with the database's key (so the
 * marker is sealed too). `t` (a
 * non-negative integer, the author's clock in ms, increasing) orders one
 * author's heads; it is signed but never sealed, so that DHT servers can
 * keep each author's newest head even in an encrypted database.
 * The author signs `signedBytes('kadmium/head/4', dhtKey, t as 8 bytes, p)`:
 * a head cannot be moved to another record nor re-dated, and the DHT
 * validator checks the signature of every head it stores.
 *
 * The DHT value under a head key is one head, or a **head set**
 * `{ v: 4, h: [head bytes, ...] }`: up to 16 heads of distinct authors
 * (see `head-set.ts`), which Kadmium's DHT servers keep merged.
 */
export interface Head {
  readonly parts: ReadonlyArray<readonly Uint8Array[]>
  /** A (small) state carried in the head, merged with the parts'. */
  readonly inline?: Uint8Array | undefined
  /** The author deleted the record: the head names no state. */
  readonly deleted?: boolean | undefined
}

/** A head decoded (and, from {@link verifyHead}, its signature checked); its parts may still be sealed. */
export interface SignedHead {
  /** The author's raw Ed25519 public key. */
  readonly author: Uint8Array
  /** The author's clock when it signed: a newer head of one author holds its older ones. */
  readonly t: number
  /** The (possibly sealed) parts bytes. */
  readonly p: Uint8Array
  /** Whether `p` is sealed. */
  readonly sealed: boolean
  /** The head's bytes as signed and stored (an entry of a head set). */
  readonly bytes: Uint8Array
  /** The signature. */
  readonly s: Uint8Array
}

/**
 * Encodes and signs a head for the DHT key `key` (sealing its parts when a
 * sealer is given), dated `t`: by default the next tick of this process's
 * head clock, so an author's heads are ordered.
 */
export async function encodeHead (key: Uint8Array, head: Head, signer: Signer, sealer?: Sealer, t: number = headClock.next()): Promise<Uint8Array> {
  const deleted = head.deleted === true
  if (deleted && (head.parts.length > 0 || head.inline !== undefined)) throw new MalformedUpdateError('a deleted record\'s head names no state')
  const plain = encode([head.parts, head.inline ?? null, deleted])
  const p = sealer === undefined ? plain : await sealer.seal(plain, key)
  const s = await signer.sign(signedBytes(DOMAIN, key, timeBytes(t), p))
  return encode({ v: VERSION, k: signer.publicKey, t, s, p, ...(sealer === undefined ? {} : { e: true }) })
}

/**
 * Decodes one head without checking its signature (DHT servers merging
 * values their validator already checked). The parts of an unsealed head
 * are checked.
 * @throws {MalformedUpdateError} the bytes are not a well-formed head
 */
export function parseHead (bytes: Uint8Array): SignedHead {
  if (!isBytes(bytes) || bytes.length > MAX_HEAD_BYTES) throw new MalformedUpdateError(`a head is at most ${MAX_HEAD_BYTES} bytes`)
  const v = cbor(bytes) as { v?: unknown, k?: unknown, t?: unknown, s?: unknown, p?: unknown, e?: unknown } | null
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v.v !== VERSION) throw new MalformedUpdateError('a head must be { v: 4, k, t, s, p }')
  if (!isBytes(v.k) || v.k.length !== PUBLIC_KEY_BYTES) throw new MalformedUpdateError('a head names its author\'s 32-byte key')
  if (typeof v.t !== 'number' || !Number.isSafeInteger(v.t) || v.t < 0) throw new MalformedUpdateError('a head\'s time is an integer >= 0')
  if (!isBytes(v.s) || v.s.length !== SIGNATURE_BYTES) throw new MalformedUpdateError('a head signature is 64 bytes')
  if (!isBytes(v.p) || (v.e !== undefined && v.e !== true)) throw new MalformedUpdateError('a head holds its parts as bytes')
  const sealed = v.e === true
  if (!sealed) decodeParts(v.p)
  return { author: v.k, t: v.t, s: v.s, p: v.p, sealed, bytes }
}

/**
 * Decodes one head and checks its signature for the DHT key `key`; the
 * parts of an unsealed head are checked too.
 * @throws {MalformedUpdateError} the bytes are not a well-formed head
 * @throws {SignatureError} the signature does not verify
 */
export async function verifyHead (key: Uint8Array, bytes: Uint8Array): Promise<SignedHead> {
  const head = parseHead(bytes)
  // kad-dht validates a value each time it is stored or read: a head verified once is not verified again.
  if (verifiedBefore(key, bytes)) return head
  await verifySignature(head.author, signedBytes(DOMAIN, key, timeBytes(head.t), head.p), head.s)
  rememberVerified(key, bytes)
  return head
}

/**
 * The heads a DHT value holds (one head, or a head set's entries), as
 * bytes, not yet checked one by one.
 * @throws {MalformedUpdateError} the value is neither a head nor a well-formed head set
 */
export function headEntries (value: Uint8Array): Uint8Array[] {
  if (!isBytes(value) || value.length > MAX_SET_BYTES) throw new MalformedUpdateError(`a head value is at most ${MAX_SET_BYTES} bytes`)
  const v = cbor(value) as { v?: unknown, h?: unknown, k?: unknown } | null
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MalformedUpdateError('a head value is a head or { v: 4, h: [heads] }')
  if (v.h === undefined) return [value]
  if (v.v !== VERSION || !Array.isArray(v.h) || v.h.length === 0 || v.h.length > MAX_SET_HEADS) {
    throw new MalformedUpdateError(`a head set is { v: 4, h: [1 to ${MAX_SET_HEADS} heads] }`)
  }
  const entries = v.h as unknown[]
  for (const entry of entries) if (!isBytes(entry)) throw new MalformedUpdateError('a head set holds heads as bytes')
  return entries as Uint8Array[]
}

/**
 * Checks a whole DHT value under `key`: one head, or a head set whose
 * every head is well-formed and signed, each author at most once. The
 * DHT validator.
 * @throws {MalformedUpdateError} a head or the set is malformed, or an author appears twice
 * @throws {SignatureError} a signature does not verify
 */
export async function verifyHeadValue (key: Uint8Array, value: Uint8Array): Promise<SignedHead[]> {
  const heads: SignedHead[] = []
  const authors = new Set<string>()
  for (const entry of headEntries(value)) {
    const head = await verifyHead(key, entry)
    const author = toHex(head.author)
    if (authors.has(author)) throw new MalformedUpdateError('a head set holds one head per author')
    authors.add(author)
    heads.push(head)
  }
  return heads
}

/** Encodes a head set of (already signed) heads, in the order given. */
export function encodeHeadSet (entries: readonly Uint8Array[]): Uint8Array {
  return encode({ v: VERSION, h: entries })
}

/**
 * The parts of a verified head, and its deleted marker (opening them with the sealer when sealed).
 * @throws {MalformedUpdateError} the parts do not decode, or sealed parts in an unencrypted database (or the reverse)
 * @throws {DecryptionError} sealed parts do not open with this key
 */
export async function headParts (key: Uint8Array, head: SignedHead, sealer?: Sealer): Promise<Head> {
  if (head.sealed !== (sealer !== undefined)) throw new MalformedUpdateError(head.sealed ? 'a sealed head in an unencrypted database' : 'a plain head in an encrypted database')
  return decodeParts(sealer === undefined ? head.p : await sealer.open(head.p, key))
}

function decodeParts (bytes: Uint8Array): Head {
  const payload = cbor(bytes)
  if (!Array.isArray(payload) || payload.length !== 3) throw new MalformedUpdateError('a head holds [parts, inline, deleted]')
  const [parts, inline, deleted] = payload as unknown[]
  if (typeof deleted !== 'boolean') throw new MalformedUpdateError('a head\'s deleted marker is a boolean')
  if (deleted) {
    if (!Array.isArray(parts) || parts.length > 0 || inline !== null) throw new MalformedUpdateError('a deleted record\'s head names no state')
    return { parts: [], deleted: true }
  }
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

/** `t` as 8 big-endian bytes (what the signature covers). */
function timeBytes (t: number): Uint8Array {
  if (!Number.isSafeInteger(t) || t < 0) throw new MalformedUpdateError('a head\'s time is an integer >= 0')
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(t))
  return out
}

function cbor (bytes: Uint8Array): unknown {
  try {
    return decode(bytes)
  } catch (cause) {
    throw new MalformedUpdateError('a head does not decode', { cause })
  }
}
