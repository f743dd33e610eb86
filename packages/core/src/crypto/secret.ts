/**
 * A database's secret: the keys of an end-to-end encrypted database,
 * derived once from a raw key or a passphrase, all held by WebCrypto
 * (`crypto.subtle`, the same in Node.js and browsers) as non-extractable
 * keys.
 *
 * ```
 * master  = key                                           ({ key })
 *         | PBKDF2-SHA256(passphrase, salt, 600 000)      ({ passphrase })
 * content = HKDF-SHA256(master, salt, "…content-key…")    AES-256-GCM
 * naming  = HKDF-SHA256(master, salt, "…naming-key…")     HMAC-SHA256
 * siv     = HKDF-SHA256(master, salt, "…synthetic-iv…")   HMAC-SHA256
 * check   = HKDF-SHA256(master, salt, "…key-check")       16 bytes, public
 * ```
 * @module
 */
import { isBytes } from '../util/bytes.ts'
import { DecryptionError, InvalidArgumentError } from '../errors.ts'
import { openFrame, sealFrame, ivOf } from './aes-gcm.ts'
import { HKDF_INFO, IV_BYTES, KEY_CHECK_BYTES, PBKDF2_ITERATIONS, RANDOM_IV_VERSION, SALT_BYTES, SYNTHETIC_IV_VERSION } from './constants.ts'
import { encodeParts } from './encode-parts.ts'
import { checkEncryptionOptions, type EncryptionOptions } from './options.ts'
import type { WebCryptoKey } from './web-crypto-key.ts'

export type { EncryptionOptions } from './options.ts'
export { passphraseSalt } from './salt.ts'
export { PBKDF2_ITERATIONS, SEAL_OVERHEAD } from './constants.ts'

/**
 * The keys of an encrypted database. Two secrets derived from the same
 * options and salt are interchangeable: each opens what the other sealed
 * and gives the same names.
 */
export interface DatabaseSecret {
  /**
   * 16 bytes that tell whether two peers hold the same secret, without
   * revealing it (an HKDF output independent of every key). Public: an
   * encrypted manifest carries it. For a passphrase, it lets whoever reads
   * it test guesses offline, at PBKDF2's cost per guess.
   */
  readonly keyCheck: Uint8Array
  /**
   * Encrypts `plaintext` with AES-256-GCM under a fresh random 12-byte IV:
   * `version (1) ‖ iv (12) ‖ ciphertext ‖ tag (16)`, so 29 bytes more than
   * the plaintext. The same plaintext seals differently every time; its
   * length is not hidden. `aad` binds the value to a context (a DHT key, a
   * record id): it is not stored, and opening needs it again; no `aad` is
   * the same as an empty one. Random 96-bit IVs keep well within GCM's
   * bounds up to about 2^32 seals per secret.
   * @throws {InvalidArgumentError} `plaintext` or `aad` is not a Uint8Array
   */
  seal (plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>
  /**
   * Decrypts what {@link DatabaseSecret.seal} made with the same secret and `aad`.
   * @throws {DecryptionError} wrong secret, wrong `aad`, a changed or missing byte,
   *   an unknown version, or input that is not a Uint8Array — and nothing else
   */
  open (sealed: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>
  /**
   * Encrypts `plaintext` so that every peer with the secret gets the same
   * bytes for the same plaintext and `aad` (for values that must be
   * computed alike everywhere, like the database name in its manifest).
   * SIV-style: the IV is the first 12 bytes of an HMAC-SHA256 of `aad` and
   * `plaintext` under a key of its own, so that distinct plaintexts get
   * distinct IVs. What it leaks that {@link DatabaseSecret.seal} does not:
   * equality — whoever sees two such values knows whether they hide the
   * same plaintext (and `aad`). Use it only for values where that is
   * acceptable. Framed like `seal` with version byte 2.
   * @throws {InvalidArgumentError} `plaintext` or `aad` is not a Uint8Array
   */
  sealDeterministic (plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>
  /**
   * Decrypts what {@link DatabaseSecret.sealDeterministic} made, and checks
   * that its IV is the one the plaintext gives.
   * @throws {DecryptionError} as {@link DatabaseSecret.open}; also for a value made by `seal`
   */
  openDeterministic (sealed: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>
  /**
   * A keyed pseudonym of a name: HMAC-SHA256 (32 bytes) under the naming
   * key of `label` and `parts`, each length-prefixed, so that no two lists
   * of parts collide. The same on every peer with the secret; unlinkable to
   * the name without it. Used for the DHT keys of records and collections.
   * @throws {InvalidArgumentError} a part is not a string, or has a lone surrogate
   */
  name (label: string, ...parts: string[]): Promise<Uint8Array>
}

/**
 * Derives a database's secret from its options: a raw key is the master
 * secret itself; a passphrase is stretched by PBKDF2-SHA256 with `salt`
 * ({@link PBKDF2_ITERATIONS} iterations, once per database opened). From the
 * master, HKDF-SHA256 with `salt` and a distinct label derives each key.
 * Every device must use the same `salt`: {@link passphraseSalt} of the
 * database name for a passphrase; any fixed bytes (possibly empty) for a key.
 * @throws {InvalidArgumentError} bad options; a salt that is not a Uint8Array,
 *   or, for a passphrase, shorter than 16 bytes
 */
export async function deriveSecret (options: EncryptionOptions, salt: Uint8Array): Promise<DatabaseSecret> {
  const material = checkEncryptionOptions(options)
  if (!isBytes(salt)) throw new InvalidArgumentError('a salt must be a Uint8Array')
  let master: WebCryptoKey
  if ('key' in material) {
    master = await crypto.subtle.importKey('raw', material.key, 'HKDF', false, ['deriveKey', 'deriveBits'])
  } else {
    if (salt.length < SALT_BYTES) throw new InvalidArgumentError(`a passphrase needs a salt of at least ${SALT_BYTES} bytes`)
    const password = await crypto.subtle.importKey('raw', material.passphrase, 'PBKDF2', false, ['deriveBits'])
    material.passphrase.fill(0)
    const stretched = new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: PBKDF2_ITERATIONS }, password, 256))
    master = await crypto.subtle.importKey('raw', stretched, 'HKDF', false, ['deriveKey', 'deriveBits'])
    stretched.fill(0)
  }
  const hkdf = (label: string): { name: 'HKDF', hash: 'SHA-256', salt: Uint8Array, info: Uint8Array } =>
    ({ name: 'HKDF', hash: 'SHA-256', salt, info: new TextEncoder().encode(label) })
  const hmac = { name: 'HMAC', hash: 'SHA-256', length: 256 } as const
  const [content, naming, synthetic, keyCheck] = await Promise.all([
    crypto.subtle.deriveKey(hkdf(HKDF_INFO.content), master, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']),
    crypto.subtle.deriveKey(hkdf(HKDF_INFO.naming), master, hmac, false, ['sign']),
    crypto.subtle.deriveKey(hkdf(HKDF_INFO.synthetic), master, hmac, false, ['sign']),
    crypto.subtle.deriveBits(hkdf(HKDF_INFO.keyCheck), master, KEY_CHECK_BYTES * 8)
  ])
  return new WebCryptoSecret(content, naming, synthetic, new Uint8Array(keyCheck))
}

function checkInput (plaintext: unknown, aad: unknown): asserts plaintext is Uint8Array {
  if (!isBytes(plaintext)) throw new InvalidArgumentError('the plaintext must be a Uint8Array')
  if (aad !== undefined && !isBytes(aad)) throw new InvalidArgumentError('"aad" must be a Uint8Array')
}

/** Constant-time equality of two byte arrays of public length. */
function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/** {@link DatabaseSecret} on WebCrypto keys. Not exported from the package: the keys stay inside. */
class WebCryptoSecret implements DatabaseSecret {
  readonly #keyCheck: Uint8Array
  readonly #content: WebCryptoKey
  readonly #naming: WebCryptoKey
  readonly #synthetic: WebCryptoKey

  constructor (content: WebCryptoKey, naming: WebCryptoKey, synthetic: WebCryptoKey, keyCheck: Uint8Array) {
    this.#content = content
    this.#naming = naming
    this.#synthetic = synthetic
    this.#keyCheck = keyCheck
  }

  /** A copy each time: nobody can change the secret's own. */
  get keyCheck (): Uint8Array {
    return this.#keyCheck.slice()
  }

  async seal (plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    checkInput(plaintext, aad)
    return sealFrame(this.#content, RANDOM_IV_VERSION, crypto.getRandomValues(new Uint8Array(IV_BYTES)), plaintext, aad)
  }

  async open (sealed: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    return openFrame(this.#content, RANDOM_IV_VERSION, sealed, aad)
  }

  async sealDeterministic (plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    checkInput(plaintext, aad)
    return sealFrame(this.#content, SYNTHETIC_IV_VERSION, await this.#syntheticIv(plaintext, aad), plaintext, aad)
  }

  async openDeterministic (sealed: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
    const plaintext = await openFrame(this.#content, SYNTHETIC_IV_VERSION, sealed, aad)
    if (!sameBytes(await this.#syntheticIv(plaintext, aad), ivOf(sealed))) {
      throw new DecryptionError('the IV of a deterministically sealed value does not match its plaintext')
    }
    return plaintext
  }

  async name (label: string, ...parts: string[]): Promise<Uint8Array> {
    for (const part of [label, ...parts]) if (typeof part !== 'string') throw new InvalidArgumentError('a name is made of strings')
    return new Uint8Array(await crypto.subtle.sign('HMAC', this.#naming, encodeParts([label, ...parts])))
  }

  async #syntheticIv (plaintext: Uint8Array, aad: Uint8Array | undefined): Promise<Uint8Array> {
    const mac = await crypto.subtle.sign('HMAC', this.#synthetic, encodeParts([aad ?? new Uint8Array(0), plaintext]))
    return new Uint8Array(mac, 0, IV_BYTES)
  }
}
