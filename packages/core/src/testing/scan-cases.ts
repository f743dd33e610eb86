import { PREFIX_END } from '../storage/storage.ts'
import { assert, assertBytes, assertDeepEqual, assertEqual } from './assert.ts'
import { ascending, bytes, collect, scanKeys } from './bytes.ts'
import type { CaseDefinition } from './harness.ts'

/** Prefix scans: order, exact prefix matching, limit, keysOnly, and writes during a scan. */
export const scanCases: readonly CaseDefinition[] = [
  {
    name: 'scan yields every entry of the prefix, ASCII keys in ascending order',
    body: async ({ open }) => {
      const storage = await open()
      const keys = ['p/b', 'p/a', 'p/B', 'p/0', 'p/~', 'p/a/b', 'p/ab', 'p/a-', 'p/ ', 'p/Z9', 'p/aa']
      for (const [i, key] of keys.entries()) await storage.put(key, bytes(i))
      const entries = await collect(storage.scan('p/'))
      assertDeepEqual(entries.map(([key]) => key), ascending(keys), 'keys scan("p/") yields')
      for (const [key, value] of entries) assertBytes(value, bytes(keys.indexOf(key)), `scanned value of "${key}"`)
    }
  },
  {
    name: 'scan matches the prefix exactly',
    body: async ({ open }) => {
      const storage = await open()
      const inside = ['ab', 'ab/', 'ab/c', 'abc', 'ab\u007f']
      const outside = ['a', 'aa', 'a/', 'ac', 'aB', 'b', 'Ab']
      for (const key of [...outside, ...inside]) await storage.put(key, bytes(1))
      assertDeepEqual(await scanKeys(storage, 'ab'), ascending(inside), 'scan("ab"): the key equal to the prefix and every key extending it')
      assertDeepEqual(await scanKeys(storage, 'ab/'), ['ab/', 'ab/c'], 'scan("ab/"): keys sharing a longer prefix')
      assertDeepEqual(await scanKeys(storage, 'abc'), ['abc'], 'scan("abc"): only the key equal to the prefix')
      assertDeepEqual(await scanKeys(storage, 'abd'), [], 'scan("abd"): no key')
      assertDeepEqual(await scanKeys(storage, 'ab/c/'), [], 'scan of a prefix longer than every key')
    }
  },
  {
    name: 'scan with the empty prefix yields every key in order',
    body: async ({ open }) => {
      const storage = await open()
      const keys = ['m', 'a/1', 'z', 'a', 'A', '0']
      for (const key of keys) await storage.put(key, bytes(1))
      assertDeepEqual(await scanKeys(storage, ''), ascending(keys), 'scan("")')
    }
  },
  {
    name: 'scan of a prefix with no keys yields nothing',
    body: async ({ open }) => {
      const storage = await open()
      assertDeepEqual(await scanKeys(storage, 'empty/'), [], 'scan of a fresh store')
      await storage.put('other/1', bytes(1))
      assertDeepEqual(await scanKeys(storage, 'empty/'), [], 'scan of a prefix no key has')
    }
  },
  {
    name: 'scan matches non-ASCII prefixes and keys, up to the PREFIX_END bound',
    body: async ({ open }) => {
      const storage = await open()
      // Below PREFIX_END: the last BMP character, the last astral character before it, and some in between.
      const tails = ['', 'é', '日本', '😀', '\u{E000}', '\uFFFF', '\u{10000}', '\u{10FFFE}', 'z\u{10FFFE}\u{10FFFE}']
      const inside = tails.map((tail) => 'ü/' + tail)
      const asciiInside = tails.map((tail) => 'q/' + tail)
      const outside = ['ü', 'ü0', 'ü.', 'u/é', 'ű/', 'q', 'q0', 'q.x', 'r/']
      for (const key of [...outside, ...inside, ...asciiInside]) await storage.put(key, bytes(1))
      // Only the set is the contract for non-ASCII keys: their order may follow code points or UTF-8 bytes.
      assertDeepEqual((await scanKeys(storage, 'ü/')).sort(), [...inside].sort(), 'scan("ü/"), as a set')
      assertDeepEqual((await scanKeys(storage, 'q/')).sort(), [...asciiInside].sort(), 'scan("q/") of keys with non-ASCII tails, as a set')
      assertDeepEqual((await scanKeys(storage, 'ü')).sort(), ['ü', 'ü.', 'ü/', 'ü0', ...inside.slice(1)].sort(), 'scan("ü"), as a set')
      assert(PREFIX_END === '\u{10FFFF}', 'PREFIX_END is U+10FFFF')
    }
  },
  {
    name: 'scan stops after limit entries',
    body: async ({ open }) => {
      const storage = await open()
      const keys = ['l/e', 'l/a', 'l/d', 'l/c', 'l/b']
      for (const key of keys) await storage.put(key, bytes(1))
      await storage.put('l0', bytes(1))
      const keysOf = async (limit: number, keysOnly = false): Promise<string[]> =>
        (await collect(storage.scan('l/', { limit, keysOnly }))).map(([key]) => key)
      assertDeepEqual(await keysOf(2), ['l/a', 'l/b'], 'scan("l/", { limit: 2 })')
      assertDeepEqual(await keysOf(1), ['l/a'], 'scan("l/", { limit: 1 })')
      assertDeepEqual(await keysOf(5), ascending(keys), 'scan("l/", { limit: 5 }) of exactly 5 keys')
      assertDeepEqual(await keysOf(100), ascending(keys), 'scan("l/", { limit: 100 }) of 5 keys')
      assertDeepEqual(await keysOf(Infinity), ascending(keys), 'scan("l/", { limit: Infinity })')
      assertDeepEqual(await keysOf(0), [], 'scan("l/", { limit: 0 })')
      assertDeepEqual(await keysOf(3, true), ['l/a', 'l/b', 'l/c'], 'scan("l/", { limit: 3, keysOnly: true })')
    }
  },
  {
    name: 'scan with keysOnly yields the keys in order, with empty values',
    body: async ({ open }) => {
      const storage = await open()
      const keys = ['k/2', 'k/1', 'k/3']
      for (const key of keys) await storage.put(key, bytes(7, 7, 7))
      const entries = await collect(storage.scan('k/', { keysOnly: true }))
      assertDeepEqual(entries.map(([key]) => key), ascending(keys), 'keys of a keysOnly scan')
      for (const [key, value] of entries) assertBytes(value, new Uint8Array(0), `value of "${key}" in a keysOnly scan`)
      const full = await collect(storage.scan('k/', { keysOnly: false }))
      for (const [key, value] of full) assertBytes(value, bytes(7, 7, 7), `value of "${key}" with keysOnly: false`)
    }
  },
  {
    name: 'writes during a scan do not break it',
    body: async ({ open }) => {
      const storage = await open()
      const before = Array.from({ length: 20 }, (_, i) => `w/${String(i).padStart(2, '0')}`)
      for (const [i, key] of before.entries()) await storage.put(key, bytes(i))
      const added = ['w/05x', 'w/99', 'w/']
      const deleted = new Set(['w/00', 'w/10', 'w/11'])
      const overwritten = 'w/15'
      const yielded: Array<[string, Uint8Array]> = []
      for await (const entry of storage.scan('w/')) {
        yielded.push(entry)
        if (yielded.length === 1) {
          for (const key of added) await storage.put(key, bytes(100))
          await storage.put('v/outside', bytes(1))
          await storage.put('x/outside', bytes(1))
          for (const key of deleted) await storage.delete(key)
          await storage.put(overwritten, bytes(200))
          await storage.batch([{ type: 'put', key: 'w/07b', value: bytes(101) }, { type: 'del', key: 'w/12' }])
        }
      }
      const keys = yielded.map(([key]) => key)
      assertDeepEqual(keys, ascending(new Set(keys)), 'keys yielded while writing: ascending, each once')
      const possible = new Set([...before, ...added, 'w/07b'])
      for (const key of keys) assert(possible.has(key), `the scan yielded "${key}", which never had the prefix`)
      const untouched = before.filter((key) => !deleted.has(key) && key !== overwritten && key !== 'w/12')
      for (const key of untouched) {
        const entry = yielded.find(([k]) => k === key)
        assert(entry !== undefined, `the scan skipped "${key}", which no write touched`)
        assertBytes(entry[1], bytes(before.indexOf(key)), `value of untouched "${key}"`)
      }
      const final = ascending([...before.filter((key) => !deleted.has(key) && key !== 'w/12'), ...added, 'w/07b'])
      assertDeepEqual(await scanKeys(storage, 'w/'), final, 'a new scan after the writes')
      assertBytes(await storage.get(overwritten), bytes(200), 'the key overwritten during the scan')
    }
  },
  {
    name: 'two scans can be iterated interleaved',
    body: async ({ open }) => {
      const storage = await open()
      for (const key of ['i/1', 'i/2', 'i/3', 'j/1', 'j/2']) await storage.put(key, bytes(1))
      const a = storage.scan('i/')[Symbol.asyncIterator]()
      const b = storage.scan('j/')[Symbol.asyncIterator]()
      const seen: string[] = []
      for (;;) {
        const [x, y] = [await a.next(), await b.next()]
        if (x.done !== true) seen.push(x.value[0])
        if (y.done !== true) seen.push(y.value[0])
        if (x.done === true && y.done === true) break
      }
      assertDeepEqual(seen, ['i/1', 'j/1', 'i/2', 'j/2', 'i/3'], 'keys of two interleaved scans')
    }
  },
  {
    name: 'leaving a scan early leaves the adapter usable',
    body: async ({ open }) => {
      const storage = await open()
      for (let i = 0; i < 50; i++) await storage.put(`b/${String(i).padStart(2, '0')}`, bytes(i))
      let n = 0
      for await (const _ of storage.scan('b/')) {
        if (++n === 2) break
      }
      assertEqual(n, 2, 'entries seen before leaving the scan')
      await storage.put('b/new', bytes(1))
      assertBytes(await storage.get('b/new'), bytes(1), 'get after leaving a scan early')
      assertEqual((await scanKeys(storage, 'b/')).length, 51, 'keys a new scan yields')
      await storage.close?.()
    }
  }
]
