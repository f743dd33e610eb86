/**
 * Tiny assertions for the conformance suite: platform-neutral (no
 * `node:assert`), each throwing an `AssertionError` whose message says what
 * was expected and what was found.
 * @module
 */

/** A conformance check failed. */
export class AssertionError extends Error {
  /** `'AssertionError'`: what to tell this error by. */
  override name = 'AssertionError'
}

/** Throws unless `condition` holds. */
export function assert (condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}

/** Throws unless `actual` and `expected` are the same value (`Object.is`). */
export function assertEqual<T> (actual: T, expected: T, message: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(`${message}: expected ${show(expected)}, got ${show(actual)}`)
  }
}

/**
 * Throws unless `actual` and `expected` are deeply equal: primitives,
 * arrays, plain objects and byte arrays (compared byte by byte).
 */
export function assertDeepEqual (actual: unknown, expected: unknown, message: string): void {
  const difference = differ(actual, expected, '')
  if (difference !== undefined) {
    throw new AssertionError(`${message}: ${difference}\n  expected: ${show(expected)}\n  actual:   ${show(actual)}`)
  }
}

/** Throws unless `actual` is a `Uint8Array` holding exactly the bytes of `expected`. */
export function assertBytes (actual: unknown, expected: Uint8Array, message: string): void {
  if (!(actual instanceof Uint8Array)) throw new AssertionError(`${message}: expected a Uint8Array, got ${show(actual)}`)
  const at = firstDifference(actual, expected)
  if (at !== undefined) {
    throw new AssertionError(`${message}: bytes differ at index ${at} (expected ${expected.length} bytes, got ${actual.length})`)
  }
}

/**
 * Throws unless `call()` returns a promise that rejects with an `Error`.
 * A synchronous throw fails too: callers chain `.catch` on what they get.
 * Resolves the rejection's error.
 */
export async function assertRejects (call: () => Promise<unknown>, message: string): Promise<Error> {
  let promise: Promise<unknown>
  try {
    promise = call()
  } catch (error) {
    throw new AssertionError(`${message}: threw synchronously instead of returning a rejected promise (${String(error)})`)
  }
  try {
    await promise
  } catch (error) {
    if (!(error instanceof Error)) throw new AssertionError(`${message}: rejected with a non-Error: ${show(error)}`)
    return error
  }
  throw new AssertionError(`${message}: expected a rejection, but it resolved`)
}

function differ (actual: unknown, expected: unknown, path: string): string | undefined {
  const at = path === '' ? 'value' : path
  if (expected instanceof Uint8Array) {
    if (!(actual instanceof Uint8Array)) return `${at} is not a Uint8Array`
    const i = firstDifference(actual, expected)
    return i === undefined ? undefined : `${at} differs at byte ${i}`
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${at} is not an array`
    if (actual.length !== expected.length) return `${at} has length ${actual.length}, not ${expected.length}`
    for (let i = 0; i < expected.length; i++) {
      const d = differ(actual[i], expected[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
    return undefined
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return `${at} is not an object`
    const expectedKeys = Object.keys(expected).sort()
    const actualKeys = Object.keys(actual).sort()
    if (expectedKeys.join('\0') !== actualKeys.join('\0')) return `${at} has keys [${actualKeys.join(', ')}], not [${expectedKeys.join(', ')}]`
    for (const key of expectedKeys) {
      const d = differ((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`)
      if (d !== undefined) return d
    }
    return undefined
  }
  return Object.is(actual, expected) ? undefined : `${at} is ${show(actual)}, not ${show(expected)}`
}

function firstDifference (a: Uint8Array, b: Uint8Array): number | undefined {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? undefined : n
}

/** A short, readable rendering of a value for messages. */
export function show (value: unknown): string {
  if (value instanceof Uint8Array) {
    const head = Array.from(value.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ')
    return `Uint8Array(${value.length}) [${head}${value.length > 16 ? ' …' : ''}]`
  }
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return `[function ${value.name}]`
  if (typeof value === 'symbol') return value.toString()
  if (value === null || typeof value !== 'object') return `${value as number | boolean | undefined | null}`
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => v instanceof Uint8Array ? show(v) : v)
    return text.length > 300 ? text.slice(0, 300) + '…' : text
  } catch {
    return Object.prototype.toString.call(value)
  }
}
