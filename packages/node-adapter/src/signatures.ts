/**
 * Ed25519 on the calling thread, keys made once: libsodium where it loads
 * (see `sodium-signatures.ts`), else Node's own crypto (OpenSSL), where
 * WebCrypto answers from a worker thread (a wake-up of a thread each way)
 * and libp2p's keys rebuild a key object on every call.
 * @module
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { ED25519_SPKI_PREFIX, ed25519Pkcs8, useSignatureEngine, type SignatureEngine } from '@kadmium/core'
import { sodiumSignatureEngine } from './sodium-signatures.ts'

const MAX_CACHED_KEYS = 4096
const publicKeys = new Map<string, KeyObject>()

function publicKeyObject (raw: Uint8Array): KeyObject {
  const hex = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex')
  let key = publicKeys.get(hex)
  if (key === undefined) {
    const spki = new Uint8Array(ED25519_SPKI_PREFIX.length + raw.length)
    spki.set(ED25519_SPKI_PREFIX)
    spki.set(raw, ED25519_SPKI_PREFIX.length)
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear()
    publicKeys.set(hex, key)
  }
  return key
}

/** The signature engine on `node:crypto` (OpenSSL), used where libsodium does not load. */
export const nodeSignatureEngine: SignatureEngine = {
  signer (privateKey) {
    const key = createPrivateKey({ key: Buffer.from(ed25519Pkcs8(privateKey)), format: 'der', type: 'pkcs8' })
    return (data) => new Uint8Array(sign(null, data, key))
  },
  verify (publicKey, signature, data) {
    return verify(null, data, publicKeyObject(publicKey), signature)
  }
}

/** The engine on libsodium (`sodium-native`), or `undefined` on a platform where its addon does not load. */
export const sodiumEngine: SignatureEngine | undefined = sodiumSignatureEngine()

/**
 * Makes Kadmium sign and verify on the calling thread in this process:
 * with libsodium, or Node's crypto where libsodium does not load
 * (`@kadmium/node` does it when imported). Returns the engine installed.
 */
export function installNodeSignatures (): SignatureEngine {
  const engine = sodiumEngine ?? nodeSignatureEngine
  useSignatureEngine(engine)
  return engine
}
