/**
 * The type of a WebCrypto key, named the same way under core's own
 * platform declarations and under Node's or the DOM's types (Node's types
 * declare `CryptoKey` as a value only).
 * @module
 */

/** A WebCrypto key (opaque; Kadmium's are never extractable). */
export type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.deriveKey>>
