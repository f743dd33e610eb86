/**
 * Identities and signatures. A user's identity is their libp2p Ed25519 key:
 * its public half (32 raw bytes on the wire) names the author of every
 * envelope, catch-up message and DHT head, and its peer id is how the API
 * shows it.
 * @module
 */
import type { PrivateKey } from '@libp2p/interface'
import { SignatureError } from '../errors.ts'
import { toHex } from '../util/hash.ts'
import { signatureEngine } from './ed25519.ts'
import { peerIdOfKey } from './peer-ids.ts'

/** Length of an Ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32
/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64

/** Signs as one identity. */
export interface Signer {
  /** The raw Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array
  /** The identity as a peer id string (what events and access lists show). */
  readonly id: string
  /** Signs `data` (already domain-separated by the caller). */
  sign (data: Uint8Array): Promise<Uint8Array>
}

/**
 * The signer of a libp2p private key (Ed25519 only).
 * @throws {SignatureError} the key is not Ed25519
 */
export function signerOf (privateKey: PrivateKey): Signer {
  if (privateKey.type !== 'Ed25519') throw new SignatureError(`identities are Ed25519 keys, not ${privateKey.type}`)
  const publicKey = privateKey.publicKey.raw
  const sign = signatureEngine().signer(privateKey)
  return {
    publicKey,
    id: peerIdOfKey(publicKey),
    sign: async (data) => sign(data)
  }
}

const MAX_CACHED_KEYS = 4096

/**
 * Checks a signature.
 * @throws {SignatureError} the key or signature is malformed, or the signature does not verify
 */
export async function verifySignature (raw: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<void> {
  if (signature.length !== SIGNATURE_BYTES) throw new SignatureError(`a signature is ${SIGNATURE_BYTES} bytes, not ${signature.length}`)
  let ok: boolean
  try {
    if (raw.length !== PUBLIC_KEY_BYTES) throw new SignatureError(`a public key is ${PUBLIC_KEY_BYTES} bytes, not ${raw.length}`)
    ok = await signatureEngine().verify(raw, signature, data)
  } catch (cause) {
    throw new SignatureError('the signature does not verify', { cause })
  }
  if (!ok) throw new SignatureError('the signature does not verify')
}

const ids = new Map<string, string>()

/** The peer id string of a raw public key (how an author is shown). */
export function authorId (raw: Uint8Array): string {
  const hex = toHex(raw)
  let id = ids.get(hex)
  if (id === undefined) {
    if (raw.length !== PUBLIC_KEY_BYTES) throw new SignatureError(`a public key is ${PUBLIC_KEY_BYTES} bytes, not ${raw.length}`)
    id = peerIdOfKey(raw)
    if (ids.size >= MAX_CACHED_KEYS) ids.clear()
    ids.set(hex, id)
  }
  return id
}

/** Domain labels as bytes (a handful of constants). */
const labels = new Map<string, Uint8Array>()

/**
 * Concatenates a domain label and parts into the bytes a signature covers,
 * each part length-prefixed so that no two inputs share an encoding.
 */
export function signedBytes (domain: string, ...parts: Uint8Array[]): Uint8Array {
  let label = labels.get(domain)
  if (label === undefined) labels.set(domain, label = new TextEncoder().encode(domain))
  let size = 4 + label.length
  for (const part of parts) size += 4 + part.length
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (const part of [label, ...parts]) {
    view.setUint32(at, part.length)
    out.set(part, at + 4)
    at += 4 + part.length
  }
  return out
}
