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
