import { AssertionError } from './assert.ts'
import type { StorageAdapter } from '../storage/storage.ts'

/**
 * `length` pseudo-random bytes, the same for the same `seed`: values whose
 * every byte matters, so that a truncated or shifted read cannot pass.
 */
export function randomBytes (length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < length; i++) {
    // xorshift32
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/** Bytes from numbers. */
export function bytes (...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}

/** Every entry a scan yields, in the order yielded. */
export async function collect (iterable: AsyncIterable<[string, Uint8Array]>): Promise<Array<[string, Uint8Array]>> {
  const out: Array<[string, Uint8Array]> = []
  for await (const entry of iterable) out.push(entry)
  return out
}

/** The keys a scan of `prefix` yields, in order. */
export async function scanKeys (storage: StorageAdapter, prefix: string): Promise<string[]> {
  return (await collect(storage.scan(prefix))).map(([key]) => key)
}

/** The value of the one entry a scan of `prefix` must yield. */
export async function onlyValue (storage: StorageAdapter, prefix: string): Promise<Uint8Array> {
  const entries = await collect(storage.scan(prefix))
  const [entry] = entries
  if (entries.length !== 1 || entry === undefined) {
    throw new AssertionError(`scan("${prefix}") must yield exactly one entry, yielded ${entries.length}`)
  }
  return entry[1]
}

/** Ascending by UTF-16 code units: how strings compare, and how ASCII keys must scan. */
export function ascending (keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
}
