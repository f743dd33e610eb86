/**
 * The browser-test fixture itself: bundles refuse what is Node-only, and a
 * page's failures reach Node with their names and source positions, bounded.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { bundleForBrowser } from './fixtures/bundle.ts'
import { startChromium, type BrowserPage, type ChromiumFixture } from './fixtures/chromium.ts'
import type { actions } from './browser/fixture-check.page.ts'

type Actions = typeof actions
const BROWSER = join(import.meta.dirname, 'browser')
const CHECK_PAGE = join(BROWSER, 'fixture-check.page.ts')

describe('bundleForBrowser', () => {
  const entry = (contents: string): { contents: string, resolveDir: string } => ({ contents, resolveDir: BROWSER })

  test('bundles core and this package for the browser, with no Node polyfill', async () => {
    const bundle = await bundleForBrowser(entry("export { createDatabase } from '@kadmium/core'\nexport { indexedDbStorage } from '@kadmium/browser'"))
    assert.match(bundle.code, /createDatabase/)
    assert.ok((JSON.parse(bundle.map) as { sources: string[] }).sources.some((source) => source.endsWith('indexeddb-storage.ts')), 'the map names the sources')
  })

  for (const [what, specifier] of [['a node: module', 'node:fs'], ['@kadmium/node', '@kadmium/node'], ['a Node built-in by its bare name', 'fs']]) {
    test(`refuses ${what}, naming it`, async () => {
      await assert.rejects(bundleForBrowser(entry(`import '${specifier}'`)), (error: Error & { problems?: string[] }) => {
        assert.equal(error.name, 'BundleError')
        assert.ok(error.problems?.some((problem) => problem.includes(`"${specifier}"`)), error.message)
        return true
      })
    })
  }
})

describe('startChromium', () => {
  let chromium: ChromiumFixture
  let page: BrowserPage
  before(async () => {
    chromium = await startChromium({ entries: { check: CHECK_PAGE, broken: join(BROWSER, 'throws-on-load.page.ts') } })
    page = await chromium.openPage('check')
  }, { timeout: 120_000 })
  after(async () => { await chromium?.close() })

  test('serves the pages from 127.0.0.1', () => {
    assert.match(chromium.origin, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(new URL(page.page.url()).origin, chromium.origin)
  })

  test('runs a case that passes', async () => {
    await page.runCase('check', 'passes')
  })

  test("a failing case rejects with the page's error, its stack mapped to the TypeScript source", async () => {
    await assert.rejects(page.runCase('check', 'fails'), (error: Error) => {
      assert.equal(error.name, 'AssertionError')
      assert.match(error.message, /a sum that is wrong on purpose/)
      assert.match(error.stack ?? '', /fixture-check\.page\.ts:\d+:\d+/)
      assert.doesNotMatch(error.stack ?? '', /127\.0\.0\.1:\d+\/check\.js/)
      return true
    })
  })

  test('a case that never settles fails with HangError at its bound', async () => {
    await assert.rejects(page.runCase('check', 'never settles', 500), { name: 'HangError' })
  })

  test('an action gets its arguments and returns its result; a failing one keeps its cause', async () => {
    const echoed = await page.act<Actions, 'echo'>('echo', 'hello', 42)
    assert.equal(echoed.text, 'hello')
    assert.equal(echoed.n, 42)
    assert.match(echoed.agent, /Chrome\//)
    await assert.rejects(page.act<Actions, 'fail'>('fail'), (error: Error) => {
      assert.equal(error.name, 'TypeError')
      assert.ok(error.cause instanceof Error)
      assert.equal(error.cause.name, 'RangeError')
      return true
    })
  })

  test('an unknown case fails, naming it', async () => {
    await assert.rejects(page.runCase('check', 'no such case'), /no case "no such case"/)
  })

  test('a page that throws while loading fails to open with PageLoadError, with the error', async () => {
    await assert.rejects(chromium.openPage('broken'), (error: Error) => {
      assert.equal(error.name, 'PageLoadError')
      assert.match(error.message, /broken on purpose/)
      return true
    })
  })
})
