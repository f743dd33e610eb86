import { UnsupportedValueError } from '../errors.ts'

/** A value a record field can hold. */
export type StoredValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly StoredValue[]
  | { readonly [key: string]: StoredValue }

/** A record's fields: what a collection row holds. */
export type StoredObject = { readonly [key: string]: StoredValue }

/** Deepest nesting of objects and arrays a record may have. */
export const MAX_DEPTH = 64

/**
 * Checks that `value` is plain data a record can store, and returns a copy
 * with `undefined` object fields dropped. Throws {@link UnsupportedValueError}
 * naming the field otherwise (functions, class instances, cycles, NaN, ...).
 */
export function toStoredObject (value: unknown): StoredObject {
  if (!isPlainObject(value)) throw new UnsupportedValueError('', describeValue(value) + ' instead of an object')
  return copy(value, '', 0) as StoredObject
}

function copy (value: unknown, path: string, depth: number): StoredValue {
  if (depth > MAX_DEPTH) throw new UnsupportedValueError(path, `nesting deeper than ${MAX_DEPTH} levels (or a cycle)`)
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw new UnsupportedValueError(path, String(value))
      return Object.is(value, -0) ? 0 : value
    case 'object': {
      if (value === null) return null
      if (value instanceof Uint8Array) return value.slice()
      if (Array.isArray(value)) {
        return value.map((item: unknown, i) => {
          if (item === undefined) throw new UnsupportedValueError(join(path, String(i)), 'undefined')
          return copy(item, join(path, String(i)), depth + 1)
        })
      }
      if (!isPlainObject(value)) throw new UnsupportedValueError(path, describeValue(value))
      const out: Record<string, StoredValue> = {}
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue
        out[key] = copy(item, join(path, key), depth + 1)
      }
      return out
    }
    default:
      throw new UnsupportedValueError(path, describeValue(value))
  }
}

/** Tells whether a value is an object literal (or has a null prototype). */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Deep equality of stored values. */
export function deepEqual (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  const ak = Object.keys(a)
  const bk = Object.keys(b)
  if (ak.length !== bk.length) return false
  for (const k of ak) {
    if (!Object.hasOwn(b, k) || !deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  }
  return true
}

/** A deep copy of a stored value, safe to hand to user code. */
export function clone<T extends StoredValue> (value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Uint8Array) return value.slice() as T
  if (Array.isArray(value)) return value.map((v: StoredValue) => clone(v)) as unknown as T
  const out: Record<string, StoredValue> = {}
  for (const [k, v] of Object.entries(value)) out[k] = clone(v)
  return out as T
}

function join (path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

/** How a value is named in messages: `a Date`, `a function`, `an array`, `string`, ... */
export function describeValue (value: unknown): string {
  if (value === undefined) return 'undefined'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'bigint') return 'a bigint'
  if (typeof value === 'symbol') return 'a symbol'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name
    return name !== undefined && name !== '' ? `a ${name}` : 'an object'
  }
  return typeof value
}
