/**
 * Sizes, labels and parameters of Kadmium's end-to-end encryption. Changing
 * any of them changes what every peer derives: a new format version.
 * @module
 */

/**
 * PBKDF2-SHA256 iterations for a passphrase: OWASP's 2023 recommendation
 * for PBKDF2-HMAC-SHA256. Derivation happens once per `createDatabase`, so
 * its cost (docs/security.md, "End-to-end encryption") is paid when a database opens,
 * never per write; an attacker pays it for every guess.
 */
export const PBKDF2_ITERATIONS = 600_000

/** Length of a raw database key (`encryption: { key }`), in bytes. */
export const KEY_BYTES = 32

/** Length of an AES-GCM IV (nonce), in bytes. */
export const IV_BYTES = 12

/** Length of an AES-GCM authentication tag, in bytes. */
export const TAG_BYTES = 16

/** Length of a key check value, in bytes. */
export const KEY_CHECK_BYTES = 16

/** Length of a passphrase salt from {@link passphraseSalt}, in bytes. */
export const SALT_BYTES = 16

/** Length of a name from `DatabaseSecret.name`, in bytes (a whole HMAC-SHA256). */
export const NAME_BYTES = 32

/** First byte of a sealed value: AES-256-GCM with a random IV. */
export const RANDOM_IV_VERSION = 1

/** First byte of a deterministically sealed value: AES-256-GCM with a synthetic IV. */
export const SYNTHETIC_IV_VERSION = 2

/** Bytes a sealed value has beyond its plaintext: version, IV and tag. */
export const SEAL_OVERHEAD = 1 + IV_BYTES + TAG_BYTES

/** HKDF `info` labels: one per derived key, so that no two uses share one. */
export const HKDF_INFO = {
  content: 'kadmium/v1/content-key/aes-256-gcm',
  naming: 'kadmium/v1/naming-key/hmac-sha256',
  synthetic: 'kadmium/v1/synthetic-iv-key/hmac-sha256',
  keyCheck: 'kadmium/v1/key-check'
} as const

/** Domain label of {@link passphraseSalt}'s hash. */
export const SALT_LABEL = 'kadmium/v1/passphrase-salt'
