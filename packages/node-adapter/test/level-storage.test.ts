import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { storageAdapterTests, type StorageHarness } from '@kadmium/core/testing'
import { levelStorage } from '@kadmium/node'

/** LevelDB directories under a fresh temporary directory for each case, removed after it. */
function tempHarness (): StorageHarness {
  let root: string | undefined
  return {
    persistent: true,
    open: async (location) => {
      root ??= await mkdtemp(join(tmpdir(), 'kadmium-level-'))
      return levelStorage(join(root, location))
    },
    cleanup: async () => {
      if (root !== undefined) await rm(root, { recursive: true, force: true })
      root = undefined
    }
  }
}

describe('levelStorage: conformance', () => {
  for (const c of storageAdapterTests(tempHarness())) test(c.name, c.fn)
})

describe('levelStorage', () => {
  let root: string
  before(async () => { root = await mkdtemp(join(tmpdir(), 'kadmium-level-')) })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  test('a directory held by another open storage: every call rejects with StorageError', async () => {
    const path = join(root, 'locked')
    const first = levelStorage(path)
    await first.put('k', new Uint8Array([1]))
    const second = levelStorage(path)
    await assert.rejects(second.get('k'), { name: 'StorageError' })
    await assert.rejects(second.put('k', new Uint8Array([2])), { name: 'StorageError' })
    await second.close?.()
    assert.deepEqual(await first.get('k'), new Uint8Array([1]))
    await first.close?.()
  })

  test('a path that cannot be a directory: calls reject with StorageError, with the cause', async () => {
    const file = join(root, 'a-file')
    await writeFile(file, 'not a directory')
    const storage = levelStorage(join(file, 'db'))
    const error = await storage.get('k').then(() => undefined, (e: unknown) => e)
    assert.ok(error instanceof Error)
    assert.equal(error.name, 'StorageError')
    assert.ok(error.cause instanceof Error, 'the StorageError carries the open error as its cause')
    await storage.close?.()
  })

  test('createIfMissing: false refuses a directory with no database', async () => {
    const storage = levelStorage(join(root, 'missing'), { createIfMissing: false })
    await assert.rejects(storage.get('k'), { name: 'StorageError' })
    await storage.close?.()
  })

  test('errorIfExists: true refuses a directory that holds a database', async () => {
    const path = join(root, 'exists')
    const first = levelStorage(path)
    await first.put('k', new Uint8Array([1]))
    await first.close?.()
    const again = levelStorage(path, { errorIfExists: true })
    await assert.rejects(again.get('k'), { name: 'StorageError' })
    await again.close?.()
  })

  test('values that are not bytes and ill-formed keys are refused, writing nothing', async () => {
    const storage = levelStorage(join(root, 'invalid'))
    const notBytes = 'text' as unknown as Uint8Array
    await assert.rejects(storage.put('k', notBytes), { name: 'StorageError' })
    await assert.rejects(storage.batch([{ type: 'put', key: 'a', value: new Uint8Array([1]) }, { type: 'put', key: 'b', value: notBytes }]), { name: 'StorageError' })
    await assert.rejects(storage.put('lone \uD800', new Uint8Array([1])), { name: 'StorageError' })
    assert.equal(await storage.get('a'), undefined)
    assert.equal(await storage.get('k'), undefined)
    await storage.close?.()
  })

  test('reads return plain Uint8Arrays', async () => {
    const storage = levelStorage(join(root, 'plain'))
    await storage.put('k', new Uint8Array([1, 2, 3]))
    const value = await storage.get('k')
    assert.equal(value?.constructor, Uint8Array)
    assert.deepStrictEqual(value, new Uint8Array([1, 2, 3]))
    for await (const [, v] of storage.scan('k')) assert.equal(v.constructor, Uint8Array)
    await storage.close?.()
  })

  test('close is idempotent, and calls after close reject with StorageError', async () => {
    const storage = levelStorage(join(root, 'closing'))
    await storage.put('k', new Uint8Array([1]))
    await Promise.all([storage.close?.(), storage.close?.()])
    await storage.close?.()
    await assert.rejects(storage.get('k'), { name: 'StorageError' })
    await assert.rejects(storage.batch([]), { name: 'StorageError' })
    await assert.rejects(async () => { for await (const _ of storage.scan('')) break }, { name: 'StorageError' })
  })
})
