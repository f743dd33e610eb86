/**
 * The gossip envelope: one message on a database's topic, carrying one or
 * more Yjs updates, signed by its author. Wire form, CBOR:
 *
 * ```
 * envelope = [2, author, signature, body]        author: 32-byte Ed25519 public key
 * body     = bytes of CBOR [ts, seq, entries]    ts: ms since 1970; seq: per-author counter
 * entries  = [[collection, target (0 record | 1 index), id | null, update | null], ...]
 *            or, in an encrypted database, the AES-GCM sealed bytes of that array
 * signature = Ed25519 over signedBytes('kadmium/envelope/2', address, body)
 * ```
 * The database address is covered by the signature but not sent: the
 * topic names it, and an envelope moved to another database's topic fails
 * verification. `ts` and `seq` make every envelope distinct and let
 * receivers refuse stale or replayed ones. An entry whose update is `null`
 * is a hint: the update was too large for gossip; fetch it from the author
 * with the catch-up protocol.
 * @module
 */
import { decode, encode } from 'cborg'
import { isBytes } from '../util/bytes.ts'
import { MalformedMessageError } from '../errors.ts'
import { authorId, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, signedBytes, verifySignature, type Signer } from '../access/identity.ts'
import type { Sealer } from '../access/sealer.ts'

const utf8 = new TextEncoder()

/** Largest envelope accepted or sent (gossipsub caps a message at 4 MiB with its framing). */
export const MAX_ENVELOPE_BYTES = 3 * 1024 * 1024
/** Envelopes are filled up to about this size; more updates go into the next one. */
export const TARGET_ENVELOPE_BYTES = 512 * 1024
/** Entries one envelope may carry at most. */
export const MAX_ENVELOPE_ENTRIES = 10_000
/** The envelope format version. */
export const ENVELOPE_VERSION = 2
const DOMAIN = 'kadmium/envelope/2'

/** One update in an envelope. */
export interface EnvelopeEntry {
  readonly collection: string
  readonly target: 'record' | 'index'
  /** The record id, for `target: 'record'`. */
  readonly id?: string
  /** The Yjs update; `undefined` for a hint (too large for gossip). */
  readonly update?: Uint8Array
}

/** An envelope whose structure was checked, not yet its signature. */
export interface RawEnvelope {
  /** The author's raw public key. */
  readonly author: Uint8Array
  readonly signature: Uint8Array
  /** The signed body bytes. */
  readonly body: Uint8Array
  /** When the author sent it (ms since 1970, the author's clock). */
  readonly ts: number
  /** The author's counter. */
  readonly seq: number
  /** Entries, or the sealed bytes of the entries in an encrypted database. */
  readonly entries: readonly EnvelopeEntry[] | Uint8Array
}

/** A verified (and, if need be, decrypted) envelope. */
export interface Envelope {
  /** The author, as a peer id string. */
  readonly from: string
  /** The author's raw public key. */
  readonly author: Uint8Array
  readonly ts: number
  readonly seq: number
  readonly entries: readonly EnvelopeEntry[]
}

/** How envelopes of one database are made and opened. */
export interface EnvelopeContext {
  /** The database address (covered by signatures). */
  readonly address: string
  /** The address as UTF-8, if the caller keeps it (else it is encoded on each call). */
  readonly addressBytes?: Uint8Array | undefined
  /** Encrypts entries, in an encrypted database. */
  readonly sealer?: Sealer | undefined
}

let lastSeq = 0

/** Encodes and signs an envelope (sealing its entries in an encrypted database). */
export async function encodeEnvelope (entries: readonly EnvelopeEntry[], signer: Signer, context: EnvelopeContext): Promise<Uint8Array> {
  const plain = entries.map((e) => [e.collection, e.target === 'record' ? 0 : 1, e.id ?? null, e.update ?? null])
  const address = context.addressBytes ?? utf8.encode(context.address)
  const payload = context.sealer === undefined ? plain : await context.sealer.seal(encode(plain), address)
  lastSeq = (lastSeq + 1) % Number.MAX_SAFE_INTEGER
  const body = encode([Date.now(), lastSeq, payload])
  const signature = await signer.sign(signedBytes(DOMAIN, address, body))
  return encode([ENVELOPE_VERSION, signer.publicKey, signature, body])
}

/** The encoded size of one entry, near enough to fill envelopes. */
export function entrySize (entry: EnvelopeEntry): number {
  return 16 + entry.collection.length + (entry.id?.length ?? 0) + (entry.update?.length ?? 0)
}

/**
 * Decodes and checks an envelope's structure (not its signature: see
 * {@link openEnvelope}).
 * @throws {MalformedMessageError} anything off: size, shape, types
 */
export function decodeEnvelope (bytes: Uint8Array): RawEnvelope {
  if (bytes.length > MAX_ENVELOPE_BYTES) throw new MalformedMessageError(`an envelope of ${bytes.length} bytes exceeds ${MAX_ENVELOPE_BYTES}`)
  const outer = cbor(bytes)
  if (!Array.isArray(outer) || outer.length !== 4 || outer[0] !== ENVELOPE_VERSION) {
    throw new MalformedMessageError(`an envelope is [${ENVELOPE_VERSION}, author, signature, body]`)
  }
  const [, author, signature, body] = outer as unknown[]
  if (!(isBytes(author)) || author.length !== PUBLIC_KEY_BYTES) throw new MalformedMessageError('an envelope author is a 32-byte key')
  if (!(isBytes(signature)) || signature.length !== SIGNATURE_BYTES) throw new MalformedMessageError('an envelope signature is 64 bytes')
  if (!(isBytes(body))) throw new MalformedMessageError('an envelope body is bytes')
  const inner = cbor(body)
  if (!Array.isArray(inner) || inner.length !== 3) throw new MalformedMessageError('an envelope body is [ts, seq, entries]')
  const [ts, seq, payload] = inner as unknown[]
  if (!Number.isSafeInteger(ts) || (ts as number) < 0 || !Number.isSafeInteger(seq) || (seq as number) < 0) {
    throw new MalformedMessageError('an envelope needs a time and a counter')
  }
  const entries = isBytes(payload) ? payload : decodeEntries(payload)
  return { author, signature, body, ts: ts as number, seq: seq as number, entries }
}

/**
 * Verifies an envelope's signature for this database and opens its
 * entries.
 * @throws {SignatureError} the signature does not verify (forged, or of another database)
 * @throws {DecryptionError} sealed entries do not open with this database's key
 * @throws {MalformedMessageError} entries are sealed in an unencrypted database or the reverse, or do not decode
 */
export async function openEnvelope (raw: RawEnvelope, context: EnvelopeContext): Promise<Envelope> {
  const address = context.addressBytes ?? utf8.encode(context.address)
  await verifySignature(raw.author, signedBytes(DOMAIN, address, raw.body), raw.signature)
  let entries: readonly EnvelopeEntry[]
  if (isBytes(raw.entries)) {
    if (context.sealer === undefined) throw new MalformedMessageError('sealed entries in an unencrypted database')
    entries = decodeEntries(cbor(await context.sealer.open(raw.entries, address)))
  } else {
    if (context.sealer !== undefined) throw new MalformedMessageError('plain entries in an encrypted database')
    entries = raw.entries
  }
  return { from: authorId(raw.author), author: raw.author, ts: raw.ts, seq: raw.seq, entries }
}

function decodeEntries (value: unknown): EnvelopeEntry[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ENVELOPE_ENTRIES) {
    throw new MalformedMessageError(`an envelope carries 1 to ${MAX_ENVELOPE_ENTRIES} entries`)
  }
  return (value as unknown[]).map((raw) => {
    if (!Array.isArray(raw) || raw.length !== 4) throw new MalformedMessageError('an entry is [collection, target, id, update]')
    const [collection, target, id, update] = raw as unknown[]
    if (typeof collection !== 'string' || (target !== 0 && target !== 1)) throw new MalformedMessageError('an entry needs a collection and a target')
    if (target === 0 ? typeof id !== 'string' : id !== null) throw new MalformedMessageError('a record entry needs an id; an index entry none')
    if (update !== null && !(isBytes(update))) throw new MalformedMessageError('an update must be bytes or null')
    return {
      collection,
      target: target === 0 ? 'record' : 'index',
      ...(typeof id === 'string' ? { id } : {}),
      ...(isBytes(update) ? { update } : {})
    }
  })
}

function cbor (bytes: Uint8Array): unknown {
  try {
    return decode(bytes)
  } catch (cause) {
    throw new MalformedMessageError('not CBOR', { cause })
  }
}
