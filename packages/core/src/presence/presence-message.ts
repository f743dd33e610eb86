/**
 * The presence message: one peer's ephemeral state in a database, signed
 * by its key, on the database's presence topic. Wire form, CBOR:
 *
 * ```
 * message = [1, author, signature, body]       author: 32-byte Ed25519 public key
 * body    = bytes of CBOR [ts, seq, expiry, state]
 *           ts: ms since 1970 (the author's clock); seq: the author's counter;
 *           expiry: ms after which receivers forget the state unless it comes again;
 *           state: a CBOR map, null when the author leaves,
 *           or, in an encrypted database, the AES-GCM sealed bytes of that CBOR
 * signature = Ed25519 over signedBytes('kadmium/presence/1', address, body)
 * ```
 * The database address is signed, not sent (the topic names it). A state is
 * never stored: it lives in memory until it expires or its author leaves.
 * @module
 */
import { decode, encode } from 'cborg'
import { MalformedMessageError, PresenceError } from '../errors.ts'
import { isBytes } from '../util/bytes.ts'
import { authorId, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, signedBytes, verifySignature, type Signer } from '../access/identity.ts'
import type { Sealer } from '../access/sealer.ts'

/** The presence message format version. */
export const PRESENCE_VERSION = 1
/** Largest encoded state (bytes): a nick, a cursor, a selection; not a document. */
export const MAX_PRESENCE_STATE_BYTES = 8 * 1024
/** Largest presence message accepted (its state sealed, signed and framed). */
export const MAX_PRESENCE_MESSAGE_BYTES = MAX_PRESENCE_STATE_BYTES + 512
/** Shortest and longest expiry a message may ask for (ms). */
export const MIN_EXPIRY_MS = 100
export const MAX_EXPIRY_MS = 10 * 60_000
const DOMAIN = 'kadmium/presence/1'
const utf8 = new TextEncoder()

/** How presence messages of one database are made and opened. */
export interface PresenceContext {
  /** The database address (covered by signatures and, sealed, by the encryption). */
  readonly address: string
  /** Encrypts states, in an encrypted database. */
  readonly sealer?: Sealer | undefined
}

/** A presence message whose structure was checked, not yet its signature. */
export interface RawPresence {
  readonly author: Uint8Array
  readonly signature: Uint8Array
  readonly body: Uint8Array
  readonly ts: number
  readonly seq: number
  readonly expiry: number
  /** The state, its sealed bytes (encrypted database), or `null`: the author left. */
  readonly state: unknown
}

/** A verified (and, if need be, decrypted) presence message. */
export interface PresenceMessage {
  /** The author, as a peer id string. */
  readonly from: string
  readonly ts: number
  readonly seq: number
  readonly expiry: number
  /** The author's state; `null`: it left. */
  readonly state: object | null
}

/**
 * Encodes a state for a presence message, checking that it can travel.
 * @throws {PresenceError} not a plain object of storable values, or larger than {@link MAX_PRESENCE_STATE_BYTES}
 */
export function encodeState (state: unknown): Uint8Array {
  if (typeof state !== 'object' || state === null || Array.isArray(state) || isBytes(state)) {
    throw new PresenceError('a presence state is a plain object, such as { nick: "ada", typing: false }')
  }
  let bytes: Uint8Array
  try {
    bytes = encode(state)
  } catch (cause) {
    throw new PresenceError('a presence state holds only strings, numbers, booleans, null, arrays, plain objects and bytes', { cause })
  }
  if (bytes.length > MAX_PRESENCE_STATE_BYTES) {
    throw new PresenceError(`a presence state of ${bytes.length} bytes exceeds ${MAX_PRESENCE_STATE_BYTES}`)
  }
  return bytes
}

/** Makes and signs a presence message; `state` is {@link encodeState}'s bytes, or `null` to leave. */
export async function encodePresence (
  state: Uint8Array | null, clock: { ts: number, seq: number, expiry: number }, signer: Signer, context: PresenceContext
): Promise<Uint8Array> {
  const address = utf8.encode(context.address)
  const payload = state === null ? null : context.sealer === undefined ? decode(state) as unknown : await context.sealer.seal(state, aad(address))
  const body = encode([clock.ts, clock.seq, clock.expiry, payload])
  const signature = await signer.sign(signedBytes(DOMAIN, address, body))
  return encode([PRESENCE_VERSION, signer.publicKey, signature, body])
}

/**
 * Decodes and checks a presence message's structure (not its signature:
 * see {@link openPresence}).
 * @throws {MalformedMessageError} anything off: size, shape, types
 */
export function decodePresence (bytes: Uint8Array): RawPresence {
  if (bytes.length > MAX_PRESENCE_MESSAGE_BYTES) throw new MalformedMessageError(`a presence message of ${bytes.length} bytes exceeds ${MAX_PRESENCE_MESSAGE_BYTES}`)
  const outer = cbor(bytes)
  if (!Array.isArray(outer) || outer.length !== 4 || outer[0] !== PRESENCE_VERSION) {
    throw new MalformedMessageError(`a presence message is [${PRESENCE_VERSION}, author, signature, body]`)
  }
  const [, author, signature, body] = outer as unknown[]
  if (!isBytes(author) || author.length !== PUBLIC_KEY_BYTES) throw new MalformedMessageError('a presence author is a 32-byte key')
  if (!isBytes(signature) || signature.length !== SIGNATURE_BYTES) throw new MalformedMessageError('a presence signature is 64 bytes')
  if (!isBytes(body)) throw new MalformedMessageError('a presence body is bytes')
  const inner = cbor(body)
  if (!Array.isArray(inner) || inner.length !== 4) throw new MalformedMessageError('a presence body is [ts, seq, expiry, state]')
  const [ts, seq, expiry, state] = inner as unknown[]
  if (!Number.isSafeInteger(ts) || (ts as number) < 0 || !Number.isSafeInteger(seq) || (seq as number) < 0) {
    throw new MalformedMessageError('a presence message needs a time and a counter')
  }
  if (!Number.isSafeInteger(expiry) || (expiry as number) < MIN_EXPIRY_MS || (expiry as number) > MAX_EXPIRY_MS) {
    throw new MalformedMessageError(`a presence expiry is ${MIN_EXPIRY_MS} to ${MAX_EXPIRY_MS} ms`)
  }
  return { author, signature, body, ts: ts as number, seq: seq as number, expiry: expiry as number, state }
}

/**
 * Verifies a presence message's signature for this database and opens
 * its state.
 * @throws {SignatureError} the signature does not verify (another database, tampered bytes)
 * @throws {DecryptionError} an encrypted database's state does not open with its key
 * @throws {MalformedMessageError} the state is not a map (or, encrypted, not sealed bytes)
 */
export async function openPresence (raw: RawPresence, context: PresenceContext): Promise<PresenceMessage> {
  const address = utf8.encode(context.address)
  await verifySignature(raw.author, signedBytes(DOMAIN, address, raw.body), raw.signature)
  let state = raw.state
  if (state !== null && context.sealer !== undefined) {
    if (!isBytes(state)) throw new MalformedMessageError('an encrypted database\'s presence state is sealed bytes')
    state = cbor(await context.sealer.open(state, aad(address)))
  }
  if (state !== null && (typeof state !== 'object' || Array.isArray(state) || isBytes(state))) {
    throw new MalformedMessageError('a presence state is a map')
  }
  return { from: authorId(raw.author), ts: raw.ts, seq: raw.seq, expiry: raw.expiry, state }
}

/** What an encrypted state is bound to: presence messages of this database. */
function aad (address: Uint8Array): Uint8Array {
  return signedBytes(DOMAIN, address)
}

function cbor (bytes: Uint8Array): unknown {
  try {
    return decode(bytes)
  } catch (cause) {
    throw new MalformedMessageError('not CBOR', { cause })
  }
}
