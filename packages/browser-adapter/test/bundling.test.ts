/**
 * Packaging: an app bundles Kadmium for the browser from the built
 * packages (`dist`, as an app resolves them: no `development` condition)
 * with esbuild and with Vite, with no Node polyfill; nothing Node-only
 * gets in (no `node:` module, no `@kadmium/node`); and the built app runs
 * in Chromium: a database in IndexedDB, a few writes, a query.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { BrowserContext } from 'playwright-core'
import { bounded } from './fixtures/bounded.ts'
import { startChromium, type ChromiumFixture } from './fixtures/chromium.ts'
import { serveFiles, type StaticServer } from './fixtures/http-server.ts'
import { buildPackages, buildWithEsbuild, buildWithVite, javascriptSize, nodeTraces, type AppBuild } from './fixtures/minimal-app.ts'
import type { MinimalAppResult } from './browser/minimal-app/main.ts'

/** `tsc -b` when `dist` is stale (a fresh clone has it built by `npm ci`). */
const BUILD = { timeout: 360_000 }
const CASE = { timeout: 120_000 }
const PAGE_BOUND_MS = 30_000
const APP_BOUND_MS = 60_000

/** The app's own files, as a build names them. */
const APP = 'packages/browser-adapter/test/browser/minimal-app/'

/** Every module of `@kadmium/*` in a build (the app's own files aside): all of them from `dist`, none from `src`. */
function kadmiumModules (build: AppBuild): string[] {
  return build.modules.filter((id) => /(^|\/)packages\/[^/]+\//.test(id) && !id.startsWith(APP))
}

function assertFromDist (build: AppBuild): void {
  const modules = kadmiumModules(build)
  assert.ok(modules.some((id) => id.startsWith('packages/core/dist/src/')), `core is bundled from dist: ${modules.slice(0, 5).join(', ')}`)
  assert.ok(modules.some((id) => id.startsWith('packages/browser-adapter/dist/src/')), `@kadmium/browser is bundled from dist: ${modules.slice(0, 5).join(', ')}`)
  const notDist = modules.filter((id) => !/^packages\/(core|browser-adapter)\/dist\/src\//.test(id))
  assert.deepEqual(notDist, [], 'every Kadmium module comes from core or @kadmium/browser, built')
}

/** A folder with an app that imports Node built-ins: what the checks must catch. */
async function nodeOnlyApp (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kadmium-bundling-'))
  await writeFile(join(dir, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>')
  await writeFile(join(dir, 'main.js'), "import { createHash } from 'node:crypto'\nimport path from 'path'\nconsole.log(createHash, path.join)\n")
  return dir
}

describe('bundling the minimal app from the built packages', () => {
  let esbuilt: AppBuild
  let vitebuilt: AppBuild
  before(async () => {
    await buildPackages()
  }, BUILD)

  describe('esbuild, platform browser, no polyfill', () => {
    test('builds with no warning', CASE, async () => {
      esbuilt = await buildWithEsbuild()
      assert.deepEqual(esbuilt.warnings, [])
    })

    test('bundles core and @kadmium/browser from dist', () => {
      assertFromDist(esbuilt)
    })

    test('has no Node built-in and no @kadmium/node', (t) => {
      assert.deepEqual(nodeTraces(esbuilt), [])
      const size = javascriptSize(esbuilt)
      t.diagnostic(`esbuild, minified: ${size.bytes} bytes, ${size.gzipBytes} gzipped`)
    })

    test('refuses an app that imports Node built-ins', CASE, async () => {
      const dir = await nodeOnlyApp()
      try {
        await assert.rejects(buildWithEsbuild(join(dir, 'main.js')), (error: Error) => {
          assert.match(error.message, /node:crypto/)
          return true
        })
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  })

  describe('Vite production build, no Node polyfill plugin', () => {
    test('builds with no warning about Node built-ins', CASE, async (t) => {
      vitebuilt = await buildWithVite()
      assert.ok(vitebuilt.files.has('/index.html'), 'the build has its index.html')
      assert.deepEqual(nodeTraces(vitebuilt), [], `warnings: ${vitebuilt.warnings.join('\n')}`)
      const size = javascriptSize(vitebuilt)
      t.diagnostic(`Vite, every chunk: ${size.bytes} bytes, ${size.gzipBytes} gzipped; warnings: ${vitebuilt.warnings.length}`)
    })

    test('bundles core and @kadmium/browser from dist', () => {
      assertFromDist(vitebuilt)
    })

    test('the checks catch an app that imports Node built-ins', CASE, async () => {
      const dir = await nodeOnlyApp()
      try {
        const traces = nodeTraces(await buildWithVite(dir))
        assert.ok(traces.some((trace) => trace.includes('node:crypto')), traces.join('\n'))
        assert.ok(traces.some((trace) => trace.includes('"path"')), traces.join('\n'))
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  })

  describe('the built app in Chromium', () => {
    let chromium: ChromiumFixture
    const servers: StaticServer[] = []
    before(async () => {
      chromium = await startChromium({ entries: {} })
    }, CASE)
    after(async () => {
      for (const server of servers) await server.close()
      await chromium?.close()
    })

    /** Serves `build`, opens its index.html in a new context, and waits for what the app shows. */
    async function runApp (build: AppBuild): Promise<{ state: string, text: string, log: string[] }> {
      const server = await serveFiles(build.files)
      servers.push(server)
      const context: BrowserContext = await bounded(chromium.browser.newContext(), PAGE_BOUND_MS, 'a new browser context')
      const log: string[] = []
      try {
        const page = await bounded(context.newPage(), PAGE_BOUND_MS, 'a new page')
        page.on('console', (message) => { if (message.type() === 'error') log.push(`console.error: ${message.text()}`) })
        page.on('pageerror', (error) => { log.push(`uncaught: ${error.stack ?? error.message}`) })
        await page.goto(`${server.origin}/index.html`, { timeout: PAGE_BOUND_MS, waitUntil: 'load' })
        await page.waitForFunction(() => document.querySelector<HTMLElement>('#result')?.dataset.state !== 'running', undefined, { timeout: APP_BOUND_MS })
          .catch((error: Error) => { throw new Error(`the app did not finish: ${error.message}\n${log.join('\n')}`) })
        const [state, text] = await bounded(page.evaluate(() => {
          const output = document.querySelector<HTMLElement>('#result')
          return [output?.dataset.state ?? 'missing', output?.textContent ?? ''] as const
        }), PAGE_BOUND_MS, 'reading the result')
        return { state, text, log }
      } finally {
        await bounded(context.close(), PAGE_BOUND_MS, 'closing the browser context').catch(() => {})
      }
    }

    function assertRan (outcome: { state: string, text: string, log: string[] }): void {
      assert.equal(outcome.state, 'done', `the app failed: ${outcome.text}\n${outcome.log.join('\n')}`)
      const result = JSON.parse(outcome.text) as MinimalAppResult
      assert.deepEqual(result.open, ['milk', 'eggs'], 'the query: open todos, by priority, highest first')
      assert.equal(result.total, 3)
      assert.match(result.peerId, /^12D3KooW/, 'the browser peer started, with an Ed25519 identity')
    }

    test('the Vite build opens a database in IndexedDB, writes and queries', CASE, async () => {
      vitebuilt ??= await buildWithVite()
      assertRan(await runApp(vitebuilt))
    })

    test('the esbuild bundle does too', CASE, async () => {
      esbuilt ??= await buildWithEsbuild()
      assertRan(await runApp(esbuilt))
    })
  })
})
