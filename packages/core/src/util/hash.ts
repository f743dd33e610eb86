import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'

/** A synchronous SHA-256 implementation. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array

let engine: Sha256 = nobleSha256

/**
 * Replaces the SHA-256 implementation of this process (the Node adapter
 * installs `node:crypto`'s: native code, as fast as `@noble/hashes` on a
 * few bytes and much faster on large ones, which DHT blocks are).
 * It must compute SHA-256: content addresses and digests depend on it.
 */
export function useSha256 (next: Sha256): void {
  engine = next
}

/** SHA-256 of some bytes. */
export function sha256 (bytes: Uint8Array): Uint8Array {
  return engine(bytes)
}

/** Lowercase hex of some bytes. */
export function toHex (bytes: Uint8Array): string {
  return bytesToHex(bytes)
}

/** Tells whether two byte arrays are equal. */
export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
