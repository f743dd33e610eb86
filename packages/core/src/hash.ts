import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'

/** SHA-256 of some bytes. */
export function sha256 (bytes: Uint8Array): Uint8Array {
  return nobleSha256(bytes)
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
