/**
 * Crafting hostile bytes for the adversary tests: envelopes signed with a
 * chosen time and counter (or not signed properly at all), the same signed
 * envelope in different bytes, and Yjs updates of a record, whole or
 * damaged. Everything follows the wire formats documented at the top of
 * `src/network/envelope.ts` and `src/network/sync-messages.ts`, written out
 * here rather than through the encoders so that every field can be wrong.
 */
import { encode } from 'cborg'
import * as Y from 'yjs'
import { ENVELOPE_VERSION, type EnvelopeEntry } from '../../src/sync/envelope.ts'
import { signedBytes, type Signer } from '../../src/access/identity.ts'
import { ROOT } from '../../src/model/yjs-mapping.ts'

const encoder = new TextEncoder()
let counter = 1

/** What {@link signEnvelope} may set differently from an honest author. */
export interface EnvelopeOptions {
  /** The author's time (ms since 1970). @default Date.now() */
  readonly ts?: number
  /** The author's counter. @default a fresh one */
  readonly seq?: number
  /** The address the signature covers. @default the address the envelope is for */
  readonly signedFor?: string
  /** The author key sent (whatever key signed). @default the signer's */
  readonly author?: Uint8Array
  /** A signature to send instead of the real one. */
  readonly signature?: Uint8Array
}

/** The CBOR array of an envelope's entries, as the wire has it. */
export function entriesOf (entries: readonly EnvelopeEntry[]): unknown[] {
  return entries.map((e) => [e.collection, e.target === 'record' ? 0 : 1, e.id ?? null, e.update ?? null])
}

/**
 * An envelope `[2, author, signature, body]` for database `address`
 * carrying `entries` (an `EnvelopeEntry[]`, or any value to send as is),
 * signed by `signer` over `signedBytes('kadmium/envelope/2', address, body)`
 * unless `options` say otherwise.
 */
export async function signEnvelope (entries: unknown, signer: Signer, address: string, options: EnvelopeOptions = {}): Promise<Uint8Array> {
  const payload = Array.isArray(entries) && entries.every((e) => typeof e === 'object' && e !== null && 'target' in e) ? entriesOf(entries as EnvelopeEntry[]) : entries
  const body = encode([options.ts ?? Date.now(), options.seq ?? counter++, payload])
  const signature = options.signature ?? await signer.sign(signedBytes('kadmium/envelope/2', encoder.encode(options.signedFor ?? address), body))
  return encode([ENVELOPE_VERSION, options.author ?? signer.publicKey, signature, body])
}

/**
 * The same envelope in other bytes: its outer array header written in the
 * non-minimal two-byte form (`0x98 0x04` for `0x84`), which CBOR decoders
 * accept. Gossipsub names a message by the hash of its bytes, so this one
 * is not a gossip-level duplicate: only Kadmium's replay filter can tell.
 */
export function rewrap (envelope: Uint8Array): Uint8Array {
  if (envelope[0] !== 0x84) throw new Error('not a 4-element CBOR array')
  const out = new Uint8Array(envelope.length + 1)
  out.set([0x98, 0x04])
  out.set(envelope.subarray(1), 2)
  return out
}

/**
 * A Yjs update setting `fields` on a record's root map. With `base` (the
 * record's current state) the update is causally after it: its values win
 * deterministically; the update then holds only the change.
 */
export function recordUpdate (fields: Record<string, unknown>, base?: Uint8Array): Uint8Array {
  const doc = new Y.Doc()
  if (base !== undefined) Y.applyUpdate(doc, base)
  const before = Y.encodeStateVector(doc)
  const map = doc.getMap(ROOT)
  doc.transact(() => {
    for (const [key, value] of Object.entries(fields)) map.set(key, value)
  })
  return Y.encodeStateAsUpdate(doc, before)
}

/**
 * Damaged copies of a valid Yjs update that Yjs cannot decode: cut short
 * at several points (at least one byte is always missing, so the decoder
 * runs off the end).
 */
export function truncations (update: Uint8Array): Uint8Array[] {
  const cuts = new Set([1, 2, 3, Math.floor(update.length / 3), Math.floor(update.length / 2), update.length - 2, update.length - 1])
  return [...cuts].filter((n) => n > 0 && n < update.length).map((n) => update.slice(0, n))
}

/** A 16-byte random nonce, as a session hello carries. */
export function nonce16 (): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16))
}

/** `n` random bytes (any length; `crypto.getRandomValues` fills at most 64 KiB at once). */
export function randomBytes (n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let at = 0; at < n; at += 65_536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65_536)))
  return out
}
