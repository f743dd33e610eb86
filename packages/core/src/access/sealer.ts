/**
 * What the network layer needs of an encrypted database's secret: sealing
 * and opening bytes (AES-GCM), bound to a context (`aad`).
 * @module
 */

/** Encrypts and decrypts bytes with a database's secret. */
export interface Sealer {
  /** Encrypts `plaintext`; `aad` binds it to a context (it must be given again to open). */
  seal (plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>
  /**
   * Decrypts what {@link Sealer.seal} made.
   * @throws {DecryptionError} wrong key, wrong context, or tampered bytes
   */
  open (sealed: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>
}
