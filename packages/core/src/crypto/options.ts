/**
 * `createDatabase({ encryption })`: what the caller gives, and its checks.
 * @module
 */
import { isBytes } from '../util/bytes.ts'
import { InvalidArgumentError } from '../errors.ts'
import { KEY_BYTES } from './constants.ts'
import { utf8Of } from './encode-parts.ts'

/**
 * How an encrypted database gets its secret: exactly one of
 * - `key`: 32 random bytes (e.g. `crypto.getRandomValues(new Uint8Array(32))`),
 *   shared with the other members out of band; or
 * - `passphrase`: a non-empty string, stretched with PBKDF2-SHA256. Only as
 *   strong as the passphrase: a peer that stores the database's manifest can
 *   try guesses offline (each costs 600,000 PBKDF2 iterations).
 */
export type EncryptionOptions = {
  /** The secret itself: 32 random bytes. */
  readonly key: Uint8Array
} | {
  /** A passphrase the secret is derived from (NFC-normalized first). */
  readonly passphrase: string
}

/**
 * The input keying material the options give: the key itself, or the
 * passphrase as UTF-8 in Unicode normalization form C (so that the same
 * passphrase typed on two systems that compose accents differently gives
 * the same key).
 * @throws {InvalidArgumentError} not exactly one of a 32-byte key and a non-empty passphrase
 */
export function checkEncryptionOptions (options: EncryptionOptions): { readonly key: Uint8Array } | { readonly passphrase: Uint8Array } {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('"encryption" is { key } or { passphrase }')
  const hasKey = 'key' in options && options.key !== undefined
  const hasPassphrase = 'passphrase' in options && options.passphrase !== undefined
  if (hasKey === hasPassphrase) throw new InvalidArgumentError('"encryption" has exactly one of "key" and "passphrase"')
  if (hasKey) {
    const { key } = options as { key: unknown }
    if (!isBytes(key) || key.length !== KEY_BYTES) throw new InvalidArgumentError(`"encryption.key" must be a Uint8Array of ${KEY_BYTES} random bytes`)
    return { key }
  }
  const { passphrase } = options as { passphrase: unknown }
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new InvalidArgumentError('"encryption.passphrase" must be a non-empty string')
  return { passphrase: utf8Of(passphrase.normalize('NFC'), '"encryption.passphrase"') }
}
