/**
 * Messages of the catch-up protocol `/kadmium/sync/1.0.0`, each one
 * length-prefixed CBOR:
 *
 * | message | form | sent |
 * | --- | --- | --- |
 * | hello | `{ t: 'h', v: 2, db, n, p?, e?, s? }` | by the dialer, first (or after a manifest, on its stream): `n` a fresh 16-byte nonce, `p` the key proof of an encrypted database, `e: true` if it holds nothing of the database (the listener then sends no digests and plans at once), `s` the 32-byte summary of what it holds |
 * | ok / error | `{ t: 'o', n, p?, s? }` / `{ t: 'e', reason }` | by the listener, in answer: its own nonce (and proof, and summary); if the hello's summary and the ok's are the same, both sides hold the same and the session ends there, on both sides |
 * | manifest request | `{ t: 'q', db }` | instead of a hello, by a peer opening the database by address |
 * | manifest | `{ t: 'm', m }` | by the listener, in answer, if it holds the database (else an error); the stream stays open a while for the dialer's hello, so that the session rides on it |
 * | digest | `{ t: 'd', c, i?: [sv, hash], r: [[id, sv, hash], ...] }` | both, per collection, in chunks; `i` (the index) in the first chunk |
 * | digest end | `{ t: 'D' }` | both |
 * | plan | `{ t: 'p', n }` | both: how many updates follow |
 * | updates | `{ t: 'u', y, s }`, `y` the CBOR bytes of `[[c, id or null, [update, ...]], ...]` | both; `null` id: the collection index |
 * | big update | `{ t: 'b', y, s }`, `y` the CBOR bytes of `[c, id, k, n, part]` | both: part `k` of `n` of one update too large for a message |
 * | done | `{ t: 'x' }` | both, last |
 *
 * Updates and big-update parts are signed by their sender: `s` is an
 * Ed25519 signature over `signedBytes('kadmium/sync/2', address, nonce,
 * counter, t, y)` where `nonce` is the one the *receiver* sent in its
 * hello/ok and `counter` numbers the sender's signed messages of the
 * session from 0 — so that no signed message can be replayed into another
 * session, reordered, or moved to another database.
 * @module
 */
import { decode, encode } from 'cborg'
import { isBytes } from '../util/bytes.ts'
import { MalformedMessageError } from '../errors.ts'
import type { Digest } from '../store/digest.ts'
import { SUMMARY_BYTES } from './replica-summary.ts'

/** The protocol id. */
export const SYNC_PROTOCOL = '/kadmium/sync/1.0.0'
/** Largest message accepted (the muxer's practical cap is 4 MiB). */
export const MAX_SYNC_MESSAGE_BYTES = 4 * 1024 * 1024
/** Messages are filled up to about this size. */
export const TARGET_SYNC_MESSAGE_BYTES = 1024 * 1024
/** Digest entries per digest message. */
export const DIGEST_CHUNK = 4096
/** Largest single update reassembled from big-update parts. */
export const MAX_BIG_UPDATE_BYTES = 64 * 1024 * 1024
/** Largest manifest accepted. */
export const MAX_MANIFEST_BYTES = 64 * 1024
/** Length of a session nonce. */
export const SESSION_NONCE_BYTES = 16

/** One update set in an updates message: `id` null for the collection index. */
export type SyncItem = readonly [collection: string, id: string | null, updates: readonly Uint8Array[]]

/** A protocol message. */
export type SyncMessage =
  | { readonly t: 'h', readonly v: 2, readonly db: string, readonly n: Uint8Array, readonly p?: Uint8Array, readonly e?: true, readonly s?: Uint8Array }
  | { readonly t: 'o', readonly n: Uint8Array, readonly p?: Uint8Array, readonly s?: Uint8Array }
  | { readonly t: 'e', readonly reason: string }
  | { readonly t: 'q', readonly db: string }
  | { readonly t: 'm', readonly m: Uint8Array }
  | { readonly t: 'd', readonly c: string, readonly i?: Digest, readonly r: ReadonlyArray<readonly [string, Digest]> }
  | { readonly t: 'D' }
  | { readonly t: 'p', readonly n: number }
  | { readonly t: 'u' | 'b', readonly y: Uint8Array, readonly s: Uint8Array }
  | { readonly t: 'x' }

/** Encodes a message. */
export function encodeSyncMessage (message: SyncMessage): Uint8Array {
  switch (message.t) {
    case 'd':
      return encode({ t: 'd', c: message.c, ...(message.i !== undefined ? { i: [message.i.sv, message.i.hash] } : {}), r: message.r.map(([id, d]) => [id, d.sv, d.hash]) })
    default:
      return encode(message)
  }
}

/**
 * Decodes and checks a message from a peer.
 * @throws {MalformedMessageError} anything off
 */
export function decodeSyncMessage (bytes: Uint8Array): SyncMessage {
  let m: Record<string, unknown>
  try {
    m = decode(bytes) as Record<string, unknown>
  } catch (cause) {
    throw new MalformedMessageError('a sync message is not CBOR', { cause })
  }
  if (typeof m !== 'object' || m === null) throw new MalformedMessageError('a sync message is an object')
  switch (m.t) {
    case 'h':
      if (m.v !== 2 || typeof m.db !== 'string' || m.db.length > 512) throw new MalformedMessageError('hello needs v: 2 and db')
      return { t: 'h', v: 2, db: m.db, n: nonceOf(m.n), ...proofOf(m.p), ...(m.e === true ? { e: true } : {}), ...summaryOf(m.s) }
    case 'o':
      return { t: 'o', n: nonceOf(m.n), ...proofOf(m.p), ...summaryOf(m.s) }
    case 'q':
      if (typeof m.db !== 'string' || m.db.length > 512) throw new MalformedMessageError('a manifest request needs db')
      return { t: 'q', db: m.db }
    case 'm':
      if (!isBytes(m.m) || m.m.length > MAX_MANIFEST_BYTES) throw new MalformedMessageError('a manifest is bytes, 64 KiB at most')
      return { t: 'm', m: m.m }
    case 'D': case 'x':
      return { t: m.t }
    case 'e':
      return { t: 'e', reason: typeof m.reason === 'string' ? m.reason.slice(0, 200) : 'unknown' }
    case 'p':
      if (!Number.isSafeInteger(m.n) || (m.n as number) < 0) throw new MalformedMessageError('plan needs a count')
      return { t: 'p', n: m.n as number }
    case 'd': {
      if (typeof m.c !== 'string' || !Array.isArray(m.r) || m.r.length > DIGEST_CHUNK) throw new MalformedMessageError('digest needs c and r')
      const i = m.i === undefined ? undefined : digestOf(m.i)
      const r = (m.r as unknown[]).map((entry) => {
        if (!Array.isArray(entry) || entry.length !== 3 || typeof entry[0] !== 'string') throw new MalformedMessageError('a digest entry is [id, sv, hash]')
        return [entry[0], digestOf(entry.slice(1))] as const
      })
      return { t: 'd', c: m.c, ...(i !== undefined ? { i } : {}), r }
    }
    case 'u': case 'b':
      if (!(isBytes(m.y)) || !(isBytes(m.s)) || m.s.length !== 64) throw new MalformedMessageError('a signed message needs y and s')
      return { t: m.t, y: m.y, s: m.s }
    default:
      throw new MalformedMessageError(`unknown sync message "${typeof m.t === 'string' ? m.t.slice(0, 32) : typeof m.t}"`)
  }
}

/**
 * Decodes the payload of an updates message.
 * @throws {MalformedMessageError} anything off
 */
export function decodeItems (bytes: Uint8Array): SyncItem[] {
  const x = cborOf(bytes)
  if (!Array.isArray(x)) throw new MalformedMessageError('updates are a list')
  return (x as unknown[]).map((item): SyncItem => {
    if (!Array.isArray(item) || item.length !== 3) throw new MalformedMessageError('an item is [c, id, updates]')
    const [c, id, updates] = item as unknown[]
    if (typeof c !== 'string' || (id !== null && typeof id !== 'string') || !Array.isArray(updates) || updates.length > 10_000) {
      throw new MalformedMessageError('an item is [c, id, updates]')
    }
    if (!updates.every((u) => isBytes(u))) throw new MalformedMessageError('updates are bytes')
    return [c, id, updates]
  })
}

/** One part of an update too large for one message. */
export interface BigPart {
  readonly c: string
  readonly id: string | null
  readonly k: number
  readonly n: number
  readonly part: Uint8Array
}

/**
 * Decodes the payload of a big-update message.
 * @throws {MalformedMessageError} anything off
 */
export function decodeBigPart (bytes: Uint8Array): BigPart {
  const v = cborOf(bytes)
  if (!Array.isArray(v) || v.length !== 5) throw new MalformedMessageError('a big-update part is [c, id, k, n, part]')
  const [c, id, k, n, part] = v as unknown[]
  if (typeof c !== 'string' || (id !== null && typeof id !== 'string') || !Number.isSafeInteger(k) || !Number.isSafeInteger(n) ||
    !(isBytes(part)) || (n as number) < 1 || (k as number) < 0 || (k as number) >= (n as number) ||
    (n as number) * MAX_SYNC_MESSAGE_BYTES > MAX_BIG_UPDATE_BYTES * 2) {
    throw new MalformedMessageError('a big-update part is malformed')
  }
  return { c, id, k: k as number, n: n as number, part }
}

function cborOf (bytes: Uint8Array): unknown {
  try {
    return decode(bytes)
  } catch (cause) {
    throw new MalformedMessageError('a sync payload is not CBOR', { cause })
  }
}

function nonceOf (value: unknown): Uint8Array {
  if (!(isBytes(value)) || value.length !== SESSION_NONCE_BYTES) throw new MalformedMessageError(`a session nonce is ${SESSION_NONCE_BYTES} bytes`)
  return value
}

function proofOf (value: unknown): { p?: Uint8Array } {
  if (value === undefined) return {}
  if (!(isBytes(value)) || value.length > 256) throw new MalformedMessageError('a key proof is at most 256 bytes')
  return { p: value }
}

function summaryOf (value: unknown): { s?: Uint8Array } {
  if (value === undefined) return {}
  if (!(isBytes(value)) || value.length !== SUMMARY_BYTES) throw new MalformedMessageError(`a summary is ${SUMMARY_BYTES} bytes`)
  return { s: value }
}

function digestOf (value: unknown): Digest {
  if (!Array.isArray(value) || !(isBytes(value[0])) || !(isBytes(value[1])) || value[1].length > 32 || value[0].length > 64 * 1024) {
    throw new MalformedMessageError('a digest is [sv, hash]')
  }
  return { sv: value[0], hash: value[1] }
}
