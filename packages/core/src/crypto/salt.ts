/**
 * The salt of a passphrase-derived secret.
 * @module
 */
import { sha256 } from '../util/hash.ts'
import { SALT_BYTES, SALT_LABEL } from './constants.ts'
import { encodeParts } from './encode-parts.ts'

/**
 * A deterministic salt for a database's passphrase: the first 16 bytes of
 * SHA-256 over a domain label and the name, so that every device derives
 * the same secret from the same name and passphrase, and that the same
 * passphrase gives unrelated secrets for two databases. It is not secret
 * (an encrypted manifest carries it). Its weakness, shared by every
 * deterministic salt: an attacker can precompute guesses for a database
 * name known in advance, which the iteration count makes costly.
 * @throws {InvalidArgumentError} the name is not a well-formed string
 */
export function passphraseSalt (databaseName: string): Uint8Array {
  return sha256(encodeParts([SALT_LABEL, databaseName])).slice(0, SALT_BYTES)
}
