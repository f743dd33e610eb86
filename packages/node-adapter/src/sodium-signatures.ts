/**
 * Ed25519 on libsodium (`sodium-native`, prebuilt in its npm package):
 * it verifies and signs faster than Node's OpenSSL. Every receiver of a
 * live update verifies its signature before gossipsub forwards it, so this
 * is on the path of every update between peers.
 *
 * libsodium is strict where RFC 8032 leaves room: it refuses public keys and
 * `R` points of small order and non-canonical encodings, which no honest
 * signer produces.
 * @module
 */
import { createRequire } from 'node:module'
import type { SignatureEngine } from '@kadmium/core'

/** The part of `sodium-native` used here. */
interface Sodium {
  readonly crypto_sign_BYTES: number
  readonly crypto_sign_PUBLICKEYBYTES: number
  readonly crypto_sign_SECRETKEYBYTES: number
  readonly crypto_sign_SEEDBYTES: number
  crypto_sign_seed_keypair (publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void
  crypto_sign_detached (signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void
  crypto_sign_verify_detached (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

/** `sodium-native`, or `undefined` where its native addon does not load (no prebuild for the platform). */
function loadSodium (): Sodium | undefined {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium
  } catch {
    return undefined
  }
}

/** A signature engine on libsodium, or `undefined` where `sodium-native` does not load. */
export function sodiumSignatureEngine (): SignatureEngine | undefined {
  const sodium = loadSodium()
  if (sodium === undefined) return undefined
  return {
    signer (privateKey) {
      // A libp2p Ed25519 key's raw form is seed + public key; the secret key is rebuilt from the seed alone.
      const publicKey = new Uint8Array(sodium.crypto_sign_PUBLICKEYBYTES)
      const secretKey = new Uint8Array(sodium.crypto_sign_SECRETKEYBYTES)
      sodium.crypto_sign_seed_keypair(publicKey, secretKey, privateKey.raw.subarray(0, sodium.crypto_sign_SEEDBYTES))
      return (data) => {
        const signature = new Uint8Array(sodium.crypto_sign_BYTES)
        sodium.crypto_sign_detached(signature, data, secretKey)
        return signature
      }
    },
    verify (publicKey, signature, data) {
      if (publicKey.length !== sodium.crypto_sign_PUBLICKEYBYTES) throw new RangeError(`an Ed25519 public key has ${sodium.crypto_sign_PUBLICKEYBYTES} bytes, not ${publicKey.length}`)
      if (signature.length !== sodium.crypto_sign_BYTES) return false
      return sodium.crypto_sign_verify_detached(signature, data, publicKey)
    }
  }
}
