import type { BatchOperation } from '../storage/storage.ts'
import { assert, assertBytes, assertDeepEqual, assertEqual } from './assert.ts'
import { bytes, collect, randomBytes, scanKeys } from './bytes.ts'
import type { CaseDefinition } from './harness.ts'

/** Atomic batches, and many keys written in batches. */
export const batchCases: readonly CaseDefinition[] = [
  {
    name: 'batch applies all of its puts and dels',
    body: async ({ open }) => {
      const storage = await open()
      await storage.put('t/old1', bytes(1))
      await storage.put('t/old2', bytes(2))
      await storage.batch([
        { type: 'put', key: 't/new1', value: bytes(10) },
        { type: 'del', key: 't/old1' },
        { type: 'put', key: 't/old2', value: bytes(20) },
        { type: 'del', key: 't/missing' },
        { type: 'put', key: 't/new2', value: bytes(30) }
      ])
      assertDeepEqual(await scanKeys(storage, 't/'), ['t/new1', 't/new2', 't/old2'], 'keys after the batch')
      assertBytes(await storage.get('t/new1'), bytes(10), 'a key the batch put')
      assertBytes(await storage.get('t/old2'), bytes(20), 'a key the batch overwrote')
      assertEqual(await storage.get('t/old1'), undefined, 'a key the batch deleted')
      await storage.batch([])
      assertEqual((await scanKeys(storage, 't/')).length, 3, 'keys after an empty batch')
    }
  },
  {
    name: 'operations of a batch on one key apply in order',
    body: async ({ open }) => {
      const storage = await open()
      await storage.put('s/deleted-then-put', bytes(1))
      await storage.batch([
        { type: 'put', key: 's/put-twice', value: bytes(1) },
        { type: 'put', key: 's/put-twice', value: bytes(2) },
        { type: 'put', key: 's/put-then-deleted', value: bytes(3) },
        { type: 'del', key: 's/put-then-deleted' },
        { type: 'del', key: 's/deleted-then-put' },
        { type: 'put', key: 's/deleted-then-put', value: bytes(4) }
      ])
      assertBytes(await storage.get('s/put-twice'), bytes(2), 'a key put twice in one batch')
      assertEqual(await storage.get('s/put-then-deleted'), undefined, 'a key put, then deleted, in one batch')
      assertBytes(await storage.get('s/deleted-then-put'), bytes(4), 'a key deleted, then put, in one batch')
    }
  },
  {
    name: 'the caller may reuse its buffers once batch resolves',
    body: async ({ open }) => {
      const storage = await open()
      const a = bytes(1, 2, 3)
      const b = randomBytes(64, 3)
      await storage.batch([{ type: 'put', key: 'r/a', value: a }, { type: 'put', key: 'r/b', value: b.subarray(8, 40) }])
      a.fill(0)
      b.fill(0)
      assertBytes(await storage.get('r/a'), bytes(1, 2, 3), 'a batched value after the caller overwrote its buffer')
      assertBytes(await storage.get('r/b'), randomBytes(64, 3).subarray(8, 40), 'a batched subarray after the caller overwrote its buffer')
    }
  },
  {
    name: 'a batch that fails leaves nothing applied',
    body: async ({ open }) => {
      const storage = await open()
      await storage.put('f/keep', bytes(1))
      await storage.put('f/overwrite', bytes(2))
      const invalid = null as unknown as Uint8Array
      const ops: BatchOperation[] = [
        { type: 'put', key: 'f/new', value: bytes(3) },
        { type: 'del', key: 'f/keep' },
        { type: 'put', key: 'f/overwrite', value: bytes(4) },
        { type: 'put', key: 'f/invalid', value: invalid }
      ]
      let rejected = false
      try {
        await storage.batch(ops)
      } catch {
        rejected = true
      }
      if (rejected) {
        assertEqual(await storage.get('f/new'), undefined, 'a key put by the failed batch')
        assertBytes(await storage.get('f/keep'), bytes(1), 'a key deleted by the failed batch')
        assertBytes(await storage.get('f/overwrite'), bytes(2), 'a key overwritten by the failed batch')
        assertDeepEqual(await scanKeys(storage, 'f/'), ['f/keep', 'f/overwrite'], 'keys after the failed batch')
      } else {
        // The adapter took the value: then all of the batch must be there.
        assertBytes(await storage.get('f/new'), bytes(3), 'a key put by the batch (which resolved)')
        assertEqual(await storage.get('f/keep'), undefined, 'a key deleted by the batch (which resolved)')
        assertBytes(await storage.get('f/overwrite'), bytes(4), 'a key overwritten by the batch (which resolved)')
      }
      await storage.batch([{ type: 'put', key: 'f/after', value: bytes(5) }])
      assertBytes(await storage.get('f/after'), bytes(5), 'a batch after the failed one')
    }
  },
  {
    name: 'many keys (10,000, written in batches) scan back complete and in order',
    body: async ({ open }) => {
      const storage = await open()
      const count = 10_000
      const key = (i: number): string => `many/${String(i).padStart(5, '0')}`
      const value = (i: number): Uint8Array => bytes(i & 0xff, (i >> 8) & 0xff, 0xab)
      for (let start = 0; start < count; start += 1000) {
        const ops: BatchOperation[] = []
        // Each batch in reverse: storage must order the keys itself.
        for (let i = start + 999; i >= start; i--) ops.push({ type: 'put', key: key(i), value: value(i) })
        await storage.batch(ops)
      }
      await storage.put('manz', bytes(1))
      await storage.put('man', bytes(1))
      let i = 0
      for await (const [k, v] of storage.scan('many/')) {
        assertEqual(k, key(i), `key of entry ${i} of the scan`)
        assertBytes(v, value(i), `scanned value of "${k}"`)
        i++
      }
      assertEqual(i, count, 'entries a scan of 10,000 keys yields')
      assertEqual((await collect(storage.scan('many/', { keysOnly: true }))).length, count, 'entries a keysOnly scan yields')
      const first = await collect(storage.scan('many/', { limit: 10 }))
      assertDeepEqual(first.map(([k]) => k), Array.from({ length: 10 }, (_, j) => key(j)), 'scan with limit 10')
      for (const j of [0, 1, 4999, 9998, 9999]) assertBytes(await storage.get(key(j)), value(j), `get("${key(j)}")`)
      assert(await storage.get(key(count)) === undefined, `get("${key(count)}") of a key never written`)
    }
  }
]
