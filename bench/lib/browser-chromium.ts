/**
 * Headless Chromium for the `browser` scenario, on a profile on disk: a
 * persistent context (`launchPersistentContext` on a temp directory), so
 * that IndexedDB is written to and read from disk as in a user's browser.
 * (The test fixture's contexts, `browser.newContext()`, are off the record:
 * Chromium keeps their IndexedDB in memory.) The pages are the test
 * fixture's: bundled by `bundle.ts`, served by `http-server.ts` on
 * 127.0.0.1, their API exposed by `browser/expose.ts` under `PAGE_GLOBAL`.
 * Every wait is bounded.
 * @module
 */
import { chromium as playwright, type BrowserContext, type Page } from 'playwright-core'
import { bounded } from '../../packages/browser-adapter/test/fixtures/bounded.ts'
import { BrowserStack } from '../../packages/browser-adapter/test/fixtures/browser-stack.ts'
import { bundleForBrowser, type Bundle } from '../../packages/browser-adapter/test/fixtures/bundle.ts'
import { CHROMIUM_PATH } from '../../packages/browser-adapter/test/fixtures/chromium.ts'
import { serveFiles, type ServedFile, type StaticServer } from '../../packages/browser-adapter/test/fixtures/http-server.ts'
import { PAGE_GLOBAL, type Outcome, type PageApi } from '../../packages/browser-adapter/test/fixtures/page-protocol.ts'
import { ACTION_BOUND_MS } from './browser-protocol.ts'
import { makeTempDir, removeTempDir } from './tempdir.ts'

/** Headless, offline, no first-run work, QUIC off (as the test fixture's). */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const LAUNCH_BOUND_MS = 60_000
const PAGE_BOUND_MS = 30_000
const CLOSE_BOUND_MS = 20_000

/** Actions a page offers (see `bench/lib/browser-protocol.ts`). */
type Actions = Record<string, (...args: never[]) => Promise<unknown>>

/** One open page of the scenario. */
export interface BenchPage<A extends Actions> {
  readonly page: Page
  /** Runs action `name` in the page; resolves its result or rejects with the page's error (stack mapped to the sources). */
  act<K extends keyof A & string> (name: K, ...args: Parameters<A[K]>): Promise<Awaited<ReturnType<A[K]>>>
  /** Reloads the page (a fresh page of the same origin and profile) and waits for its API. */
  reload (): Promise<void>
  close (): Promise<void>
}

/** Chromium on a profile of its own, serving the scenario's pages. */
export interface BenchBrowser {
  /** Opens a new tab on the page of `entry`, once its API is there. */
  open<A extends Actions> (entry: string): Promise<BenchPage<A>>
  /** Closes Chromium (every page), and starts it again on the same profile: IndexedDB is read from disk again. */
  restart (): Promise<void>
  /** Closes Chromium and the server and removes the profile. Calling it again does nothing more. */
  close (): Promise<void>
}

/** Bundles `entries` (name → page file) once; serves them; launches Chromium with `args` added. */
export async function startBenchBrowser (entries: Readonly<Record<string, string>>, args: readonly string[] = []): Promise<BenchBrowser> {
  const bundles = new Map<string, Bundle>(await Promise.all(Object.entries(entries).map(async ([name, file]) => [name, await bundleForBrowser(file)] as const)))
  const files = new Map<string, ServedFile>()
  for (const [name, bundle] of bundles) {
    files.set(`/${name}.html`, { type: 'text/html; charset=utf-8', body: `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${name}</title><script type="module" src="/${name}.js"></script></head><body></body></html>` })
    files.set(`/${name}.js`, { type: 'text/javascript; charset=utf-8', body: `${bundle.code}\n//# sourceMappingURL=${name}.js.map\n` })
    files.set(`/${name}.js.map`, { type: 'application/json', body: bundle.map })
  }
  const server = await serveFiles(files)
  const profile = makeTempDir('chromium')
  const stack = new BrowserStack(server.origin, bundles)
  const browser = new Bench(server, profile, stack, args)
  try {
    await browser.restart()
  } catch (error) {
    await browser.close()
    throw error
  }
  return browser
}

class Bench implements BenchBrowser {
  readonly #server: StaticServer
  readonly #profile: string
  readonly #stack: BrowserStack
  readonly #args: readonly string[]
  #context: BrowserContext | undefined
  #closed: Promise<void> | undefined

  constructor (server: StaticServer, profile: string, stack: BrowserStack, args: readonly string[]) {
    this.#server = server
    this.#profile = profile
    this.#stack = stack
    this.#args = args
  }

  async restart (): Promise<void> {
    await this.#closeContext()
    this.#context = await bounded(playwright.launchPersistentContext(this.#profile, {
      executablePath: CHROMIUM_PATH,
      args: [...ARGS, ...this.#args],
      headless: true,
      timeout: LAUNCH_BOUND_MS
    }), LAUNCH_BOUND_MS + 5_000, 'launching Chromium')
  }

  async open<A extends Actions> (entry: string): Promise<BenchPage<A>> {
    const context = this.#context
    if (context === undefined) throw new Error('Chromium is not running')
    const page = await bounded(context.newPage(), PAGE_BOUND_MS, 'a new page')
    const log: string[] = []
    page.on('console', (message) => { if (message.type() === 'error') log.push(`console.error: ${message.text()}`) })
    page.on('pageerror', (error) => { log.push(`uncaught: ${this.#stack.map(error.stack ?? error.message)}`) })
    const ready = async (load: () => Promise<unknown>): Promise<void> => {
      await load()
      await page.waitForFunction((global) => global in globalThis, PAGE_GLOBAL, { timeout: PAGE_BOUND_MS })
    }
    const url = `${this.#server.origin}/${entry}.html`
    try {
      await ready(async () => page.goto(url, { timeout: PAGE_BOUND_MS, waitUntil: 'load' }))
    } catch (error) {
      await page.close().catch(() => {})
      throw new Error(`the page ${url} did not load: ${(error as Error).message}\n${log.join('\n')}`, { cause: error })
    }
    return {
      page,
      act: async (name, ...args) => {
        const outcome = await bounded(page.evaluate(async ([global, a, list]) => await (globalThis as unknown as Record<string, PageApi>)[global]!.act(a, list), [PAGE_GLOBAL, name, args as unknown[]] as const), ACTION_BOUND_MS, `action "${name}" in the page`)
        return this.#settle(outcome, log) as never
      },
      reload: async () => { await ready(async () => page.reload({ timeout: PAGE_BOUND_MS, waitUntil: 'load' })) },
      close: async () => { await bounded(page.close(), CLOSE_BOUND_MS, 'closing a page') }
    }
  }

  close (): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.#closeContext()
      } finally {
        await this.#server.close().catch(() => {})
        await removeTempDir(this.#profile)
      }
    })()
    return this.#closed
  }

  async #closeContext (): Promise<void> {
    const context = this.#context
    this.#context = undefined
    if (context !== undefined) await bounded(context.close(), CLOSE_BOUND_MS, 'closing Chromium')
  }

  #settle (outcome: Outcome, log: readonly string[]): unknown {
    if (outcome.ok) return outcome.value
    const error = new Error(`${outcome.error.name}: ${outcome.error.message}`)
    error.stack = `${this.#stack.map(outcome.error.stack ?? error.message)}${log.length > 0 ? `\npage log:\n  ${log.join('\n  ')}` : ''}`
    throw error
  }
}
