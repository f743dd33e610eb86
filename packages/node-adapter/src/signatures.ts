/**
 * Ed25519 on Node's own crypto, keys made once: signs in ~20 µs and
 * verifies in ~55 µs on the calling thread, where WebCrypto answers from a
 * worker thread (a wake-up of a thread each way) and libp2p's keys rebuild
 * a key object on every call.
 * @module
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { ED25519_SPKI_PREFIX, ed25519Pkcs8, useSignatureEngine, type SignatureEngine } from '@kadmium/core'

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

/** The signature engine on `node:crypto` (installed by {@link installNodeSignatures}). */
export const nodeSignatureEngine: SignatureEngine = {
  signer (privateKey) {
    const key = createPrivateKey({ key: Buffer.from(ed25519Pkcs8(privateKey)), format: 'der', type: 'pkcs8' })
    return (data) => new Uint8Array(sign(null, data, key))
  },
  verify (publicKey, signature, data) {
    return verify(null, data, publicKeyObject(publicKey), signature)
  }
}

/** Makes Kadmium sign and verify with Node's crypto in this process (`@kadmium/node` does it when imported). */
export function installNodeSignatures (): void {
  useSignatureEngine(nodeSignatureEngine)
}
