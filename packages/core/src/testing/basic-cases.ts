import { assert, assertBytes, assertDeepEqual, assertEqual } from './assert.ts'
import { bytes, collect, onlyValue, randomBytes, scanKeys } from './bytes.ts'
import type { CaseDefinition } from './harness.ts'

/** Single-key operations: put, get, delete, overwrite; empty and large values; unusual keys. */
export const basicCases: readonly CaseDefinition[] = [
  {
    name: 'put then get returns equal bytes',
    body: async ({ open }) => {
      const storage = await open()
      const values = [bytes(0), bytes(1, 2, 3), randomBytes(300, 7), bytes(0, 255, 0, 255)]
      for (const [i, value] of values.entries()) await storage.put(`k/${i}`, value)
      for (const [i, value] of values.entries()) {
        const got = await storage.get(`k/${i}`)
        assert(got instanceof Uint8Array, `get("k/${i}") must resolve a Uint8Array`)
        assertBytes(got, value, `get("k/${i}")`)
      }
    }
  },
  {
    name: 'the caller may reuse its buffer once put resolves',
    body: async ({ open }) => {
      const storage = await open()
      const buffer = bytes(1, 2, 3, 4)
      await storage.put('reuse', buffer)
      buffer.fill(9)
      assertBytes(await storage.get('reuse'), bytes(1, 2, 3, 4), 'the stored value after the caller overwrote its buffer')
      assertBytes(await onlyValue(storage, 'reuse'), bytes(1, 2, 3, 4), 'the scanned value after the caller overwrote its buffer')
    }
  },
  {
    name: 'a value that is a view into a larger buffer is stored as just its bytes',
    body: async ({ open }) => {
      const storage = await open()
      const backing = bytes(10, 11, 12, 13, 14, 15)
      await storage.put('view', backing.subarray(2, 5))
      assertBytes(await storage.get('view'), bytes(12, 13, 14), 'get of a value put as a subarray')
    }
  },
  {
    name: 'get of a missing key resolves undefined',
    body: async ({ open }) => {
      const storage = await open()
      assertEqual(await storage.get('nothing/here'), undefined, 'get of a key never written')
      await storage.put('ab', bytes(1))
      assertEqual(await storage.get('a'), undefined, 'get of a key that is a prefix of a stored key')
      assertEqual(await storage.get('abc'), undefined, 'get of a key that extends a stored key')
      assertEqual(await storage.get(''), undefined, 'get of the empty key')
    }
  },
  {
    name: 'delete removes a key, and deleting a missing key succeeds',
    body: async ({ open }) => {
      const storage = await open()
      await storage.put('d/1', bytes(1))
      await storage.put('d/2', bytes(2))
      await storage.delete('d/1')
      assertEqual(await storage.get('d/1'), undefined, 'get after delete')
      assertBytes(await storage.get('d/2'), bytes(2), 'a neighbouring key after delete')
      assertDeepEqual(await scanKeys(storage, 'd/'), ['d/2'], 'scan after delete')
      await storage.delete('d/1')
      await storage.delete('never/written')
      await storage.put('d/1', bytes(3))
      assertBytes(await storage.get('d/1'), bytes(3), 'a key written again after delete')
    }
  },
  {
    name: 'put overwrites: the last value wins and the key is listed once',
    body: async ({ open }) => {
      const storage = await open()
      await storage.put('o', randomBytes(100, 1))
      await storage.put('o', bytes(5))
      assertBytes(await storage.get('o'), bytes(5), 'get after overwriting with a shorter value')
      await storage.put('o', randomBytes(1000, 2))
      assertBytes(await storage.get('o'), randomBytes(1000, 2), 'get after overwriting with a longer value')
      const entries = await collect(storage.scan('o'))
      assertEqual(entries.length, 1, 'entries a scan yields for a key written three times')
      assertBytes(entries[0]?.[1], randomBytes(1000, 2), 'the scanned value of an overwritten key')
    }
  },
  {
    name: 'empty values are stored, and read back as empty (not undefined)',
    body: async ({ open }) => {
      const storage = await open()
      await storage.put('e/put', new Uint8Array(0))
      await storage.batch([{ type: 'put', key: 'e/batch', value: new Uint8Array(0) }])
      for (const key of ['e/put', 'e/batch']) {
        const got = await storage.get(key)
        assert(got !== undefined, `get("${key}") of an empty value must not resolve undefined`)
        assertBytes(got, new Uint8Array(0), `get("${key}") of an empty value`)
      }
      const entries = await collect(storage.scan('e/'))
      assertDeepEqual(entries.map(([key]) => key), ['e/batch', 'e/put'], 'scan over empty values')
      for (const [key, value] of entries) assertBytes(value, new Uint8Array(0), `scanned value of "${key}"`)
    }
  },
  {
    name: 'a large value (5 MiB) round-trips byte for byte',
    body: async ({ open }) => {
      const storage = await open()
      const large = randomBytes(5 * 1024 * 1024, 42)
      await storage.put('large', large)
      assertBytes(await storage.get('large'), large, 'get of a 5 MiB value')
      assertBytes(await onlyValue(storage, 'large'), large, 'scan of a 5 MiB value')
    }
  },
  {
    name: 'keys of any well-formed characters round-trip',
    body: async ({ open }) => {
      const storage = await open()
      const keys = ['plain', 'with space', 'a/b/c', 'ü', 'é/日本語', 'emoji/😀', 'bmp-max/\uFFFF', 'astral-max/\u{10FFFE}', 'x'.repeat(1000)]
      for (const [i, key] of keys.entries()) await storage.put(key, bytes(i))
      for (const [i, key] of keys.entries()) assertBytes(await storage.get(key), bytes(i), `get(${JSON.stringify(key.slice(0, 20))})`)
      assertEqual(await storage.get('é/日本'), undefined, 'get of a key that is a prefix of a stored non-ASCII key')
    }
  }
]
