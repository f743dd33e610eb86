/**
 * Cases of `indexedDbStorage` beyond the storage conformance suite, run in
 * the page: IndexedDB's own key order at the edges of prefix bounds, scans
 * across read rounds, deletion while open, and refused input.
 * @module
 */
import { openDB } from 'idb'
import type { ConformanceCase } from '@kadmium/core/testing'
import { assert, assertBytes, assertDeepEqual, assertEqual } from '@kadmium/core/testing'
import type { StorageAdapter } from '@kadmium/core'
import { deleteIndexedDbStorage, indexedDbStorage } from '@kadmium/browser'

let made = 0

/** A case on a storage at a name of its own, closed and deleted afterwards. */
function withStorage (name: string, body: (storage: StorageAdapter, location: string) => Promise<void>): ConformanceCase {
  return {
    name,
    fn: async () => {
      const location = `indexeddb-case-${++made}-${Date.now()}`
      const storage = indexedDbStorage(location)
      try {
        await body(storage, location)
      } finally {
        await storage.close?.()
        await deleteIndexedDbStorage(location)
      }
    }
  }
}

const one = new Uint8Array([1])

async function keys (storage: StorageAdapter, prefix: string, limit?: number): Promise<string[]> {
  const found: string[] = []
  for await (const [key] of storage.scan(prefix, limit === undefined ? {} : { limit })) found.push(key)
  return found
}

/** What a call rejects with, or `undefined` if it resolves. */
async function rejection (call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call()
  } catch (error) {
    return error
  }
  return undefined
}

function errorName (error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined
}

/** JavaScript's own string order: UTF-16 code units, as IndexedDB compares keys. */
const utf16 = (list: readonly string[]): string[] => [...list].sort()

export const indexedDbCases: readonly ConformanceCase[] = [
  withStorage('a prefix scan holds keys whose next character is U+E000..U+FFFF or astral, in UTF-16 order', async (storage) => {
    const inside = ['p/', 'p/a', 'p/\uE000', 'p/\uFFFF', 'p/\uFFFFz', 'p/\u{10000}', 'p/\u{10FFFF}', 'p/\u{10FFFF}\uFFFF']
    const outside = ['p', 'p0', 'p.', 'p\uFFFF', 'q/']
    for (const key of [...outside, ...inside]) await storage.put(key, one)
    assertDeepEqual(await keys(storage, 'p/'), utf16(inside), 'scan("p/")')
    assertDeepEqual(await keys(storage, ''), utf16([...inside, ...outside]), 'scan("")')
  }),
  withStorage('a prefix ending in U+FFFF scans exactly its keys', async (storage) => {
    for (const key of ['a\uFFFE', 'a\uFFFF', 'a\uFFFF\uFFFF', 'a\uFFFFb', 'b', '\uFFFF', '\uFFFFx', '\uFFFF\uFFFF']) await storage.put(key, one)
    assertDeepEqual(await keys(storage, 'a\uFFFF'), utf16(['a\uFFFF', 'a\uFFFF\uFFFF', 'a\uFFFFb']), 'scan("a\\uFFFF")')
    assertDeepEqual(await keys(storage, 'a\uFFFF\uFFFF'), ['a\uFFFF\uFFFF'], 'scan("a\\uFFFF\\uFFFF")')
    assertDeepEqual(await keys(storage, '\uFFFF'), utf16(['\uFFFF', '\uFFFFx', '\uFFFF\uFFFF']), 'scan("\\uFFFF")')
  }),
  withStorage('keys holding lone surrogates are distinct keys', async (storage) => {
    await storage.put('s/\uD800', new Uint8Array([1]))
    await storage.put('s/\uDC00', new Uint8Array([2]))
    assertBytes(await storage.get('s/\uD800'), new Uint8Array([1]), 'get("s/\\uD800")')
    assertBytes(await storage.get('s/\uDC00'), new Uint8Array([2]), 'get("s/\\uDC00")')
    assertDeepEqual(await keys(storage, 's/\uD800'), ['s/\uD800'], 'scan of a prefix ending in a lone surrogate')
  }),
  withStorage('a scan with a limit across read rounds yields exactly the limit, in order', async (storage) => {
    const key = (i: number): string => `r/${String(i).padStart(4, '0')}`
    await storage.batch(Array.from({ length: 1500 }, (_, i) => ({ type: 'put' as const, key: key(i), value: new Uint8Array([i & 0xff]) })))
    for (const limit of [31, 32, 33, 100, 161, 700, 1499, 1500, 1501]) {
      const found = await keys(storage, 'r/', limit)
      assertEqual(found.length, Math.min(limit, 1500), `keys of scan("r/", { limit: ${limit} })`)
      assert(found.every((k, i) => k === key(i)), `scan("r/", { limit: ${limit} }) yields the first keys in order`)
    }
  }),
  withStorage('writes in the journal are read by another connection at once, in gets and in scans across rounds, and after the fold', async (storage, location) => {
    const key = (i: number): string => `j/${String(i).padStart(4, '0')}`
    await storage.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: key(i * 2), value: new Uint8Array([1]) })))
    await storage.settled?.()
    const other = indexedDbStorage(location)
    try {
      // Odd keys put, every fourth even key deleted, one rewritten: in the journal, then folded.
      const ops = [
        ...Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: key(i * 2 + 1), value: new Uint8Array([2]) })),
        ...Array.from({ length: 250 }, (_, i) => ({ type: 'del' as const, key: key(i * 8) }))
      ]
      await storage.batch(ops.slice(0, 600))
      await storage.batch(ops.slice(600))
      await storage.put(key(2), new Uint8Array([3]))
      const expected = Array.from({ length: 2000 }, (_, i) => i).filter((i) => i % 8 !== 0).map(key)
      for (const when of ['before the fold', 'after the fold']) {
        assertDeepEqual(await keys(other, 'j/'), expected, `keys another connection scans, ${when}`)
        assertDeepEqual(await keys(other, 'j/', 700), expected.slice(0, 700), `keys of a scan with a limit, ${when}`)
        assertBytes(await other.get(key(2)), new Uint8Array([3]), `get of a key rewritten, ${when}`)
        assertBytes(await other.get(key(3)), new Uint8Array([2]), `get of a key put, ${when}`)
        assertEqual(await other.get(key(8)), undefined, `get of a key deleted, ${when}`)
        const values = new Map<string, number>()
        for await (const [k, v] of other.scan('j/000')) values.set(k, v[0] as number)
        assertDeepEqual([...values], [[key(1), 2], [key(2), 3], [key(3), 2], [key(4), 1], [key(5), 2], [key(6), 1], [key(7), 2], [key(9), 2]], `entries of scan("j/000"), ${when}`)
        await storage.settled?.()
      }
    } finally {
      await other.close?.()
    }
  }),
  withStorage('a value that is a view into a larger buffer is stored as just its bytes', async (storage, location) => {
    const backing = new Uint8Array(4096).fill(7)
    await storage.put('view', backing.subarray(10, 13))
    await storage.batch([{ type: 'put', key: 'view-batch', value: backing.subarray(100, 101) }])
    await storage.settled?.() // (in the object store of entries, not only in the journal)
    const raw = await openDB(location)
    try {
      for (const [key, length] of [['view', 3], ['view-batch', 1]] as const) {
        const stored: unknown = await raw.get('entries', key)
        assert(stored instanceof Uint8Array, `the stored value of "${key}" is a Uint8Array`)
        assertEqual(stored.buffer.byteLength, length, `bytes IndexedDB holds for "${key}"`)
      }
    } finally {
      raw.close()
    }
  }),
  withStorage('deleting the database closes storages open on it; it opens again empty', async (storage, location) => {
    await storage.put('k', one)
    await deleteIndexedDbStorage(location)
    assertEqual(errorName(await rejection(() => storage.get('k'))), 'StorageError', 'get on a storage whose database was deleted')
    assertEqual(errorName(await rejection(() => storage.put('k', one))), 'StorageError', 'put on a storage whose database was deleted')
    const again = indexedDbStorage(location)
    try {
      assertEqual(await again.get('k'), undefined, 'get in the database opened again')
    } finally {
      await again.close?.()
    }
  }),
  withStorage('input that is not a key or a value is refused with StorageError, writing nothing', async (storage) => {
    const notBytes = 'text' as unknown as Uint8Array
    assertEqual(errorName(await rejection(() => storage.put('k', notBytes))), 'StorageError', 'put of a string value')
    assertEqual(errorName(await rejection(() => storage.put(7 as unknown as string, one))), 'StorageError', 'put with a number key')
    assertEqual(errorName(await rejection(() => storage.get(undefined as unknown as string))), 'StorageError', 'get of undefined')
    assertEqual(errorName(await rejection(() => storage.batch([{ type: 'put', key: 'a', value: one }, { type: 'put', key: 'b', value: notBytes }]))), 'StorageError', 'a batch with a bad value')
    assertEqual(errorName(await rejection(() => storage.batch([{ type: 'move', key: 'a' } as never]))), 'StorageError', 'a batch with an unknown operation')
    assertEqual(errorName(await rejection(() => storage.batch({} as never))), 'StorageError', 'a batch of no array')
    assertDeepEqual(await keys(storage, ''), [], 'keys after the refused writes')
  }),
  {
    name: 'a bad name or option is refused with InvalidArgumentError',
    fn: async () => {
      const thrown = (call: () => unknown): string | undefined => {
        try {
          call()
        } catch (error) {
          return errorName(error)
        }
        return undefined
      }
      assertEqual(thrown(() => indexedDbStorage('')), 'InvalidArgumentError', 'the empty name')
      assertEqual(thrown(() => indexedDbStorage(undefined as unknown as string)), 'InvalidArgumentError', 'no name')
      assertEqual(thrown(() => indexedDbStorage('x', { durability: 'sometimes' as 'strict' })), 'InvalidArgumentError', 'an unknown durability')
      assertEqual(errorName(await rejection(() => deleteIndexedDbStorage(''))), 'InvalidArgumentError', 'deleting the empty name')
    }
  },
  {
    name: 'strict durability writes and reads as relaxed does',
    fn: async () => {
      const location = `indexeddb-strict-${Date.now()}`
      const strict = indexedDbStorage(location, { durability: 'strict' })
      await strict.batch([{ type: 'put', key: 'a', value: one }, { type: 'put', key: 'b', value: one }])
      await strict.delete('a')
      await strict.close?.()
      const relaxed = indexedDbStorage(location)
      assertDeepEqual(await keys(relaxed, ''), ['b'], 'keys written with strict durability, read after reopening')
      await relaxed.close?.()
      await deleteIndexedDbStorage(location)
    }
  }
]
