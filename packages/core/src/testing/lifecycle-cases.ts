import { assertBytes, assertDeepEqual, assertEqual, assertRejects } from './assert.ts'
import { bytes, collect, randomBytes, scanKeys } from './bytes.ts'
import type { CaseDefinition } from './harness.ts'

/** Close, reopen, and locations. */
export const lifecycleCases: readonly CaseDefinition[] = [
  {
    name: 'data persists across close and reopen of the same location',
    persistentOnly: true,
    body: async ({ open }) => {
      const first = await open()
      await first.put('p/put', bytes(1))
      await first.put('p/deleted', bytes(2))
      await first.put('p/overwritten', bytes(3))
      await first.batch([
        { type: 'put', key: 'p/batched', value: randomBytes(2000, 5) },
        { type: 'put', key: 'p/empty', value: new Uint8Array(0) },
        { type: 'put', key: 'p/overwritten', value: bytes(4) },
        { type: 'del', key: 'p/deleted' }
      ])
      await first.close?.()
      const second = await open()
      assertDeepEqual(await scanKeys(second, ''), ['p/batched', 'p/empty', 'p/overwritten', 'p/put'], 'keys after reopening')
      assertBytes(await second.get('p/put'), bytes(1), 'a put value after reopening')
      assertBytes(await second.get('p/batched'), randomBytes(2000, 5), 'a batched value after reopening')
      assertBytes(await second.get('p/empty'), new Uint8Array(0), 'an empty value after reopening')
      assertBytes(await second.get('p/overwritten'), bytes(4), 'an overwritten value after reopening')
      assertEqual(await second.get('p/deleted'), undefined, 'a deleted key after reopening')
      await second.put('p/second', bytes(5))
      await second.close?.()
      const third = await open()
      assertBytes(await third.get('p/second'), bytes(5), 'a value written by the second session')
      assertEqual((await scanKeys(third, 'p/')).length, 5, 'keys after the third open')
    }
  },
  {
    name: 'locations are independent',
    body: async ({ open }) => {
      const a = await open(0)
      const b = await open(1)
      await a.put('shared-key', bytes(1))
      assertEqual(await b.get('shared-key'), undefined, 'a key written at another location')
      await b.put('shared-key', bytes(2))
      assertBytes(await a.get('shared-key'), bytes(1), 'a key after another location wrote the same key')
      assertDeepEqual((await collect(b.scan(''))).map(([key]) => key), ['shared-key'], 'keys of the second location')
    }
  },
  {
    name: 'every call rejects after close',
    body: async ({ open }) => {
      const storage = await open()
      await storage.put('c/1', bytes(1))
      if (storage.close === undefined) return
      await storage.close()
      await assertRejects(() => storage.get('c/1'), 'get after close')
      await assertRejects(() => storage.put('c/2', bytes(2)), 'put after close')
      await assertRejects(() => storage.delete('c/1'), 'delete after close')
      await assertRejects(() => storage.batch([{ type: 'put', key: 'c/3', value: bytes(3) }]), 'batch after close')
      await assertRejects(async () => collect(storage.scan('c/')), 'scan after close')
      await assertRejects(async () => collect(storage.scan('c/', { keysOnly: true, limit: 1 })), 'keysOnly scan after close')
    }
  }
]
