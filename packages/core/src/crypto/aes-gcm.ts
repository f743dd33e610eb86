/**
 * AES-256-GCM framing: `version ‖ iv ‖ ciphertext+tag`, with the version
 * byte authenticated as part of the associated data.
 * @module
 */
import { isBytes } from '../util/bytes.ts'
import { DecryptionError } from '../errors.ts'
import { IV_BYTES, SEAL_OVERHEAD } from './constants.ts'
import type { WebCryptoKey } from './web-crypto-key.ts'
import { encodeParts } from './encode-parts.ts'

const EMPTY = new Uint8Array(0)

/** GCM's associated data: the version and the caller's context, unambiguously. */
function associatedData (version: number, aad: Uint8Array | undefined): Uint8Array {
  return encodeParts([Uint8Array.of(version), aad ?? EMPTY])
}

/** Encrypts `plaintext` under `key` with `iv` and frames it. The caller never reuses an IV for two plaintexts. */
export async function sealFrame (key: WebCryptoKey, version: number, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined): Promise<Uint8Array> {
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: associatedData(version, aad) }, key, plaintext))
  const out = new Uint8Array(1 + IV_BYTES + ciphertext.length)
  out[0] = version
  out.set(iv, 1)
  out.set(ciphertext, 1 + IV_BYTES)
  return out
}

/** The IV of a framed value (whose shape {@link openFrame} checked). */
export function ivOf (sealed: Uint8Array): Uint8Array {
  return sealed.subarray(1, 1 + IV_BYTES)
}

/**
 * Checks and decrypts a framed value.
 * @throws {DecryptionError} anything wrong: not bytes, too short, another version, wrong key, wrong aad, tampered
 */
export async function openFrame (key: WebCryptoKey, version: number, sealed: unknown, aad: unknown): Promise<Uint8Array> {
  if (!isBytes(sealed)) throw new DecryptionError('sealed bytes must be a Uint8Array')
  if (aad !== undefined && !isBytes(aad)) throw new DecryptionError('"aad" must be a Uint8Array')
  if (sealed.length < SEAL_OVERHEAD) throw new DecryptionError(`sealed bytes are at least ${SEAL_OVERHEAD} bytes long, not ${sealed.length}`)
  if (sealed[0] !== version) throw new DecryptionError(`sealed bytes of version ${sealed[0]}, expected ${version}`)
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: ivOf(sealed), additionalData: associatedData(version, aad) },
      key,
      sealed.subarray(1 + IV_BYTES)
    )
    return new Uint8Array(plaintext)
  } catch (cause) {
    throw new DecryptionError('the key or the context is wrong, or the bytes were tampered with', { cause })
  }
}
