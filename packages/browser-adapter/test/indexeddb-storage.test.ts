/**
 * `indexedDbStorage` in a real Chromium: `@kadmium/core/testing`'s storage
 * conformance suite and this adapter's own cases run in a page, each as a
 * test here; then what spans pages: a reload, two tabs, two contexts.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { storageAdapterTests } from '@kadmium/core/testing'
import { startChromium, type BrowserPage, type ChromiumFixture } from './fixtures/chromium.ts'
import { indexedDbCases } from './browser/indexeddb-cases.ts'
import type { actions } from './browser/indexeddb-storage.page.ts'

type Actions = typeof actions
/** Per case: the suite's largest cases (10,000 keys, 5 MiB values) take a few seconds. */
const CASE = { timeout: 90_000 }
/** Starting Chromium and loading the first page. */
const START = { timeout: 120_000 }
const ENTRY = join(import.meta.dirname, 'browser', 'indexeddb-storage.page.ts')

/**
 * The cases' names, known here so that each is a test of its own (and
 * `--test-name-pattern` works): the conformance suite's as a persistent
 * harness gets them (listed, not run), and this adapter's own.
 */
const conformanceNames = storageAdapterTests({
  persistent: true,
  open: async () => { throw new Error('listed only') }
}).map((c) => c.name)
const ownNames = indexedDbCases.map((c) => c.name)

describe('indexedDbStorage in Chromium', () => {
  let chromium: ChromiumFixture
  let page: BrowserPage
  before(async () => {
    chromium = await startChromium({ entries: { storage: ENTRY } })
    page = await chromium.openPage('storage')
  }, START)
  after(async () => { await chromium?.close() })

  describe('storage conformance', () => {
    test('the page runs every case of the suite', async () => {
      assert.deepEqual(await page.caseNames('conformance'), conformanceNames)
    })
    for (const name of conformanceNames) test(name, CASE, async () => { await page.runCase('conformance', name) })
  })

  describe('IndexedDB', () => {
    test('the page runs every case', async () => {
      assert.deepEqual(await page.caseNames('indexeddb'), ownNames)
    })
    for (const name of ownNames) test(name, CASE, async () => { await page.runCase('indexeddb', name) })
  })

  describe('across pages', () => {
    const opened: BrowserPage[] = []
    after(async () => { for (const p of opened) await p.close() })
    const openPage = async (...args: Parameters<ChromiumFixture['openPage']>): Promise<BrowserPage> => {
      const p = await chromium.openPage(...args)
      opened.push(p)
      return p
    }

    test('data is there after the page reloads', CASE, async () => {
      const tab = await openPage('storage')
      await tab.act<Actions, 'put'>('put', 'reload', 'notes/1', 'kept')
      await tab.reload()
      assert.equal(await tab.act<Actions, 'get'>('get', 'reload', 'notes/1'), 'kept')
      await tab.act<Actions, 'remove'>('remove', 'reload')
    })

    test('two tabs of one origin share one database, both open at once', CASE, async () => {
      const a = await openPage('storage')
      const b = await openPage('storage', { context: a.context })
      assert.equal(await b.act<Actions, 'get'>('get', 'tabs', 'k'), null)
      await a.act<Actions, 'put'>('put', 'tabs', 'k', 'from a')
      assert.equal(await b.act<Actions, 'get'>('get', 'tabs', 'k'), 'from a')
      await b.act<Actions, 'put'>('put', 'tabs', 'k2', 'from b')
      assert.deepEqual(await a.act<Actions, 'keys'>('keys', 'tabs', ''), ['k', 'k2'])
      // Deleting in one tab closes the other tab's storage instead of waiting for it.
      await a.act<Actions, 'remove'>('remove', 'tabs')
      await assert.rejects(b.act<Actions, 'get'>('get', 'tabs', 'k'), { name: 'StorageError' })
    })

    test('each browser context has an IndexedDB of its own', CASE, async () => {
      const a = await openPage('storage')
      const b = await openPage('storage')
      await a.act<Actions, 'put'>('put', 'contexts', 'k', 'only in a')
      assert.equal(await b.act<Actions, 'get'>('get', 'contexts', 'k'), null)
    })
  })
})
