/**
 * Stable keys for query objects and structural equality for rows: what
 * lets a hook keep one subscription across renders that pass a new query
 * literal, and keep one result reference while the rows are unchanged.
 * @module
 */

/** Ids given to values a key cannot spell out (functions, class instances): each its own key. */
const opaque = new WeakMap<object, number>()
let nextOpaque = 0

/**
 * A string that is the same for two queries that mean the same: plain
 * objects with their keys sorted (and `undefined` members left out),
 * arrays, `Uint8Array`s and primitives spelt out with their type. Any
 * other object (a `Date`, a function) keys by identity.
 */
export function stableKey (value: unknown): string {
  switch (typeof value) {
    case 'undefined': return 'u'
    case 'boolean': return value ? 't' : 'f'
    case 'number': return `n${Object.is(value, -0) ? '-0' : String(value)}`
    case 'bigint': return `b${value}`
    case 'string': return JSON.stringify(value)
    case 'symbol':
    case 'function':
      return `o${opaqueId(value)}`
    case 'object': {
      if (value === null) return 'z'
      if (Array.isArray(value)) return `[${value.map(stableKey).join(',')}]`
      if (value instanceof Uint8Array) return `y${value.join('.')};`
      if (!isPlainObject(value)) return `o${opaqueId(value)}`
      const entries = Object.keys(value).sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => `${JSON.stringify(key)}:${stableKey((value as Record<string, unknown>)[key])}`)
      return `{${entries.join(',')}}`
    }
  }
}

function opaqueId (value: object | symbol): number {
  if (typeof value === 'symbol') return -1
  let id = opaque.get(value)
  if (id === undefined) {
    id = nextOpaque++
    opaque.set(value, id)
  }
  return id
}

function isPlainObject (value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * Structural equality of stored values (what rows hold): primitives by
 * `Object.is`, arrays and plain objects member by member, `Uint8Array`s
 * byte by byte, `Date`s by time; other objects by identity.
 */
export function deepEqual (a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime())
  if (!isPlainObject(a) || !isPlainObject(b) || Array.isArray(b) || b instanceof Uint8Array) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  for (const key of keys) {
    if (!Object.hasOwn(b, key) || !deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false
  }
  return true
}

/** Whether two results hold the same rows in the same order: ids first (cheap), then each row's fields. */
export function sameRows<R extends { readonly id: string }> (a: readonly R[], b: readonly R[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i]?.id !== b[i]?.id) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !deepEqual(a[i], b[i])) return false
  return true
}
