/**
 * The web-platform globals core uses, which Node.js and browsers both
 * have. Core's own build has neither DOM nor Node types, so that using
 * anything else fails to compile; applications get these from their own
 * environment's types.
 */
declare global {
  /** The high-resolution clock (ms). */
  // eslint-disable-next-line no-var
  var performance: { now (): number }
  interface Event {
    readonly type: string
  }
  // eslint-disable-next-line no-var
  var Event: {
    prototype: Event
    new (type: string): Event
  }
  interface EventTarget {
    addEventListener (type: string, listener: (event: Event) => void): void
    removeEventListener (type: string, listener: (event: Event) => void): void
    dispatchEvent (event: Event): boolean
  }
  // eslint-disable-next-line no-var
  var EventTarget: {
    prototype: EventTarget
    new (): EventTarget
  }
  /** A WebCrypto key (`crypto/`): opaque; ours are never extractable. */
  interface CryptoKey {
    readonly type: string
    readonly extractable: boolean
  }
  /** The WebCrypto algorithms `crypto/` uses, and only those. */
  interface SubtleCrypto {
    importKey (format: 'raw', keyData: Uint8Array, algorithm: 'PBKDF2' | 'HKDF', extractable: false, keyUsages: Array<'deriveBits' | 'deriveKey'>): Promise<CryptoKey>
    deriveBits (algorithm: { name: 'PBKDF2', hash: 'SHA-256', salt: Uint8Array, iterations: number } | { name: 'HKDF', hash: 'SHA-256', salt: Uint8Array, info: Uint8Array }, baseKey: CryptoKey, length: number): Promise<ArrayBuffer>
    deriveKey (algorithm: { name: 'HKDF', hash: 'SHA-256', salt: Uint8Array, info: Uint8Array }, baseKey: CryptoKey, derivedKeyType: { name: 'AES-GCM', length: 256 } | { name: 'HMAC', hash: 'SHA-256', length: 256 }, extractable: false, keyUsages: Array<'encrypt' | 'decrypt' | 'sign'>): Promise<CryptoKey>
    encrypt (algorithm: { name: 'AES-GCM', iv: Uint8Array, additionalData: Uint8Array }, key: CryptoKey, data: Uint8Array): Promise<ArrayBuffer>
    decrypt (algorithm: { name: 'AES-GCM', iv: Uint8Array, additionalData: Uint8Array }, key: CryptoKey, data: Uint8Array): Promise<ArrayBuffer>
    sign (algorithm: 'HMAC', key: CryptoKey, data: Uint8Array): Promise<ArrayBuffer>
    importKey (format: 'raw' | 'pkcs8', keyData: Uint8Array, algorithm: 'Ed25519', extractable: false, keyUsages: Array<'sign' | 'verify'>): Promise<CryptoKey>
    sign (algorithm: 'Ed25519', key: CryptoKey, data: Uint8Array): Promise<ArrayBuffer>
    verify (algorithm: 'Ed25519', key: CryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean>
  }
  // eslint-disable-next-line no-var
  var crypto: {
    getRandomValues<T extends Uint8Array> (array: T): T
    readonly subtle: SubtleCrypto
  }
  function queueMicrotask (callback: () => void): void
  interface CustomEvent<T = unknown> extends Event {
    readonly detail: T
  }
  interface AbortSignal {
    readonly aborted: boolean
    readonly reason: unknown
    addEventListener (type: 'abort', listener: () => void, options?: { once?: boolean }): void
    removeEventListener (type: 'abort', listener: () => void): void
    throwIfAborted (): void
  }
  // eslint-disable-next-line no-var
  var AbortSignal: {
    prototype: AbortSignal
    timeout (ms: number): AbortSignal
    any (signals: AbortSignal[]): AbortSignal
  }
  interface AbortController {
    readonly signal: AbortSignal
    abort (reason?: unknown): void
  }
  // eslint-disable-next-line no-var
  var AbortController: {
    prototype: AbortController
    new (): AbortController
  }
  function setTimeout (callback: () => void, ms?: number): unknown
  function clearTimeout (handle: unknown): void
  function setInterval (callback: () => void, ms?: number): unknown
  function clearInterval (handle: unknown): void
  interface TextEncoder {
    encode (input?: string): Uint8Array
  }
  // eslint-disable-next-line no-var
  var TextEncoder: {
    prototype: TextEncoder
    new (): TextEncoder
  }
  interface TextDecoder {
    decode (input?: Uint8Array): string
  }
  // eslint-disable-next-line no-var
  var TextDecoder: {
    prototype: TextDecoder
    new (label?: string, options?: { fatal?: boolean }): TextDecoder
  }
}

export {}
