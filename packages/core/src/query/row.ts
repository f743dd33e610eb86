import { decode, encode } from 'cborg'
import { MalformedUpdateError } from '../errors.ts'
import type { Row } from './query.ts'
import { isPlainObject, type StoredObject, type StoredValue } from '../model/values.ts'

/** A frozen row for user code: the fields, plus `id`. */
export function makeRow (id: string, fields: StoredObject): Row {
  return deepFreeze({ ...fields, id })
}

/** Encodes a record's fields for storage (CBOR). */
export function encodeFields (fields: StoredObject): Uint8Array {
  return encode(fields)
}

/**
 * An upper bound of the size of {@link encodeFields}' bytes, without
 * encoding: every CBOR head at most 9 bytes, a string at most 3 UTF-8
 * bytes per UTF-16 unit. Encoding is what a write checks the record size
 * with; below the limit the bound suffices, and the row is encoded later,
 * off the path to peers (an encode whose code has not run for a while is
 * slow, and the update should reach peers first).
 */
export function rowSizeBound (value: StoredValue): number {
  if (typeof value === 'string') return 9 + 3 * value.length
  if (value === null || typeof value !== 'object') return 9
  if (value instanceof Uint8Array) return 9 + value.length
  let size = 9
  if (Array.isArray(value)) {
    for (const item of value as readonly StoredValue[]) size += rowSizeBound(item)
  } else {
    for (const [key, item] of Object.entries(value)) size += 9 + 3 * key.length + rowSizeBound(item)
  }
  return size
}

/** Decodes a record's fields from storage. */
export function decodeFields (bytes: Uint8Array): StoredObject {
  let value: unknown
  try {
    value = decode(bytes)
  } catch (cause) {
    throw new MalformedUpdateError('a stored row does not decode', { cause })
  }
  if (!isPlainObject(value)) throw new MalformedUpdateError('a stored row is not an object')
  return value as StoredObject
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'string') flatten(value)
  else if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    // Byte arrays cannot be frozen; they are copies already.
    if (value instanceof Uint8Array) return value
    for (const item of Object.values(value)) deepFreeze(item)
    Object.freeze(value)
  }
  return value
}

/**
 * Makes V8 store a string as one flat sequence. cborg decodes short ASCII
 * strings a character at a time (`str += char`), which leaves each string
 * a chain of cons cells — about 20 objects, 600 bytes, for a 30-character
 * title — for as long as the row lives. Converting a string to a number
 * flattens it in place; the GC then drops the cells. (The result goes into
 * {@link _flattened}, so that no optimizer drops the conversion as unused.)
 */
function flatten (value: string): void {
  if (value.length > 12) _flattened += Number.isNaN(Number(value)) ? 1 : 0
}

/** Strings {@link flatten} converted (a sink for its results). */
let _flattened = 0
