/**
 * Checks on untrusted values.
 * @module
 */

/**
 * Whether `value` is really a `Uint8Array`: a typed array with its own
 * buffer, not an object that only inherits from one (CBOR decoders turn a
 * map key `__proto__` into the decoded object's prototype, which fools
 * `instanceof`, and then reading `.length` throws a TypeError).
 */
export function isBytes (value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) && value instanceof Uint8Array
}

/** The bytes of `chunks` one after another (the chunk itself when there is one). */
export function concatBytes (chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}
