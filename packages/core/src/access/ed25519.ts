/**
 * Ed25519 signing and verification, through an engine the platform may
 * replace. The default engine is WebCrypto with keys imported once
 * (libp2p's keys build a new platform key object on every call, which in
 * Node costs more than the signature itself), falling back to libp2p's
 * keys where WebCrypto lacks Ed25519. WebCrypto answers asynchronously,
 * from a worker thread: the Node adapter installs an engine that signs on
 * the calling thread, at a fraction of the latency.
 * @module
 */
import type { PrivateKey } from '@libp2p/interface'
import { toHex } from '../util/hash.ts'
import type { WebCryptoKey } from '../crypto/web-crypto-key.ts'

/** Signs and verifies Ed25519 signatures. Either may answer synchronously. */
export interface SignatureEngine {
  /** A function that signs with `privateKey` (an Ed25519 libp2p key). */
  signer (privateKey: PrivateKey): (data: Uint8Array) => Uint8Array | Promise<Uint8Array>
  /**
   * Whether `signature` is `publicKey`'s (a raw 32-byte Ed25519 key) over `data`.
   * May throw for a malformed key.
   */
  verify (publicKey: Uint8Array, signature: Uint8Array, data: Uint8Array): boolean | Promise<boolean>
}

/** PKCS #8 header of an Ed25519 private key (RFC 8410): the 32-byte seed follows. */
export const ED25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
/** SubjectPublicKeyInfo header of an Ed25519 public key (RFC 8410): the 32-byte key follows. */
export const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const SEED_BYTES = 32
const MAX_CACHED_KEYS = 4096

/** The PKCS #8 encoding of a libp2p Ed25519 private key (its raw form is seed + public key). */
export function ed25519Pkcs8 (privateKey: PrivateKey): Uint8Array {
  const out = new Uint8Array(ED25519_PKCS8_PREFIX.length + SEED_BYTES)
  out.set(ED25519_PKCS8_PREFIX)
  out.set(privateKey.raw.subarray(0, SEED_BYTES), ED25519_PKCS8_PREFIX.length)
  return out
}

/** Whether this platform's WebCrypto does Ed25519: unknown until first tried. */
let webSupported: boolean | undefined

async function webImport (format: 'raw' | 'pkcs8', bytes: Uint8Array, usage: 'sign' | 'verify'): Promise<WebCryptoKey | undefined> {
  if (webSupported === false) return undefined
  try {
    const key = await crypto.subtle.importKey(format, bytes, 'Ed25519', false, [usage])
    webSupported = true
    return key
  } catch (error) {
    // A platform without Ed25519 fails every import alike; a bad key only fails its own.
    if ((error as Error).name === 'NotSupportedError') webSupported = false
    return undefined
  }
}

const webKeys = new Map<string, Promise<WebCryptoKey | undefined>>()

/** WebCrypto, keys imported once; libp2p's keys where WebCrypto cannot take them. */
export const webSignatureEngine: SignatureEngine = {
  signer (privateKey) {
    let key: Promise<WebCryptoKey | undefined> | undefined
    return async (data) => {
      key ??= webImport('pkcs8', ed25519Pkcs8(privateKey), 'sign')
      const k = await key
      return k !== undefined ? new Uint8Array(await crypto.subtle.sign('Ed25519', k, data)) : privateKey.sign(data)
    }
  },
  async verify (publicKey, signature, data) {
    const hex = toHex(publicKey)
    let key = webKeys.get(hex)
    if (key === undefined) {
      key = webImport('raw', publicKey, 'verify')
      if (webKeys.size >= MAX_CACHED_KEYS) webKeys.clear()
      webKeys.set(hex, key)
    }
    const k = await key
    if (k !== undefined) return crypto.subtle.verify('Ed25519', k, signature, data)
    // Loaded only here: a platform with Ed25519 in WebCrypto never needs it.
    const { publicKeyFromRaw } = await import('@libp2p/crypto/keys')
    return publicKeyFromRaw(publicKey).verify(data, signature)
  }
}

let engine: SignatureEngine = webSignatureEngine

/**
 * Replaces the signature engine of this process (the Node adapter installs
 * one on the platform's native crypto). Signers made before keep theirs.
 */
export function useSignatureEngine (next: SignatureEngine): void {
  engine = next
}

/** The engine in use. */
export function signatureEngine (): SignatureEngine {
  return engine
}
