/**
 * The gossip envelope: one message on a database's topic, carrying one or
 * more Yjs updates. Wire form, CBOR:
 *
 * ```
 * { b: body, a?: author public key, s?: signature over b }   (signatures: the security work)
 * body = { v: 1, db: address, f: sender peer id, n: 8-byte nonce,
 *          e: [[collection, target (0 record | 1 index), id | null, update | null], ...] }
 * ```
 * An entry whose update is `null` is a hint: the update was too large for
 * gossip; fetch it from the sender with the catch-up protocol.
 * @module
 */
import { decode, encode } from 'cborg'
import { MalformedMessageError } from '../errors.ts'

/** Largest envelope accepted or sent (gossipsub caps a message at 4 MiB with its framing). */
export const MAX_ENVELOPE_BYTES = 3 * 1024 * 1024
/** Envelopes are filled up to about this size; more updates go into the next one. */
export const TARGET_ENVELOPE_BYTES = 512 * 1024
/** Entries one envelope may carry at most. */
export const MAX_ENVELOPE_ENTRIES = 10_000

/** One update in an envelope. */
export interface EnvelopeEntry {
  readonly collection: string
  readonly target: 'record' | 'index'
  /** The record id, for `target: 'record'`. */
  readonly id?: string
  /** The Yjs update; `undefined` for a hint (too large for gossip). */
  readonly update?: Uint8Array
}

/** A decoded envelope. */
export interface Envelope {
  /** The database address. */
  readonly db: string
  /** The peer id of the sender. */
  readonly from: string
  readonly entries: readonly EnvelopeEntry[]
}

/** Encodes an envelope (with a fresh nonce, so that equal contents still make distinct messages). */
export function encodeEnvelope (envelope: Envelope): Uint8Array {
  const body = encode({
    v: 1,
    db: envelope.db,
    f: envelope.from,
    n: crypto.getRandomValues(new Uint8Array(8)),
    e: envelope.entries.map((e) => [e.collection, e.target === 'record' ? 0 : 1, e.id ?? null, e.update ?? null])
  })
  return encode({ b: body })
}

/** The encoded size of one entry, near enough to fill envelopes. */
export function entrySize (entry: EnvelopeEntry): number {
  return 16 + entry.collection.length + (entry.id?.length ?? 0) + (entry.update?.length ?? 0)
}

/**
 * Decodes and checks an envelope from the network.
 * @throws {MalformedMessageError} anything off: size, shape, types
 */
export function decodeEnvelope (bytes: Uint8Array): Envelope {
  if (bytes.length > MAX_ENVELOPE_BYTES) throw new MalformedMessageError(`an envelope of ${bytes.length} bytes exceeds ${MAX_ENVELOPE_BYTES}`)
  const outer = cbor(bytes) as { b?: unknown }
  if (typeof outer !== 'object' || outer === null || !(outer.b instanceof Uint8Array)) throw new MalformedMessageError('an envelope must be { b: body }')
  const body = cbor(outer.b) as { v?: unknown, db?: unknown, f?: unknown, n?: unknown, e?: unknown }
  if (typeof body !== 'object' || body === null || body.v !== 1) throw new MalformedMessageError('an envelope body must have v: 1')
  if (typeof body.db !== 'string' || typeof body.f !== 'string' || !(body.n instanceof Uint8Array)) {
    throw new MalformedMessageError('an envelope body needs db, f and n')
  }
  if (!Array.isArray(body.e) || body.e.length === 0 || body.e.length > MAX_ENVELOPE_ENTRIES) {
    throw new MalformedMessageError(`an envelope carries 1 to ${MAX_ENVELOPE_ENTRIES} entries`)
  }
  const entries: EnvelopeEntry[] = (body.e as unknown[]).map((raw) => {
    if (!Array.isArray(raw) || raw.length !== 4) throw new MalformedMessageError('an entry is [collection, target, id, update]')
    const [collection, target, id, update] = raw as unknown[]
    if (typeof collection !== 'string' || (target !== 0 && target !== 1)) throw new MalformedMessageError('an entry needs a collection and a target')
    if (target === 0 ? typeof id !== 'string' : id !== null) throw new MalformedMessageError('a record entry needs an id; an index entry none')
    if (update !== null && !(update instanceof Uint8Array)) throw new MalformedMessageError('an update must be bytes or null')
    return {
      collection,
      target: target === 0 ? 'record' : 'index',
      ...(typeof id === 'string' ? { id } : {}),
      ...(update instanceof Uint8Array ? { update } : {})
    }
  })
  return { db: body.db, from: body.f, entries }
}

function cbor (bytes: Uint8Array): unknown {
  try {
    return decode(bytes)
  } catch (cause) {
    throw new MalformedMessageError('not CBOR', { cause })
  }
}
