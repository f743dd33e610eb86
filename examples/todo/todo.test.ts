/**
 * The todo app end to end, as a user runs it: `start.ts` (the sync server
 * and Vite's dev server, on 127.0.0.1) and two windows in Debian's headless
 * Chromium, each a browser context of its own (its own IndexedDB, its own
 * peer). One creates a list, the other opens its link; adding, toggling,
 * renaming (both typing in one title at once), deleting and the filters
 * show in both; a window that went offline and edited catches up when it
 * comes back, both ways. The windows sync through the sync server (they
 * have no WebRTC here). Writes the screenshot `docs/todo.png`.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core'

/** Bound of each wait for something a user would see (ms). */
const WAIT_MS = 30_000
/** Polling period of the waits here (ms). */
const POLL_MS = 50
/** Bound of starting everything (the first start may optimize Vite's dependencies). */
const START_MS = 90_000
/** Bound of stopping everything. */
const STOP_MS = 30_000
const SCREENSHOT = join(import.meta.dirname, '..', '..', 'docs', 'todo.png')

/** Headless, no first-run work, as the browser tests' fixture launches it. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** A wait ran past its bound. */
class HangError extends Error {
  override name = 'HangError'
}

/** `promise`, or a {@link HangError} naming `what` once `ms` pass first. */
async function bounded<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new HangError(`${what}: nothing within ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([promise, hang])
  } finally {
    clearTimeout(timer)
  }
}

/** The little of the page's DOM the checks read (this file is type-checked without the DOM's types). */
interface PageDocument {
  querySelectorAll (selector: string): Iterable<PageElement>
  querySelector (selector: string): PageElement | null
}
interface PageElement {
  querySelector (selector: string): PageElement | null
  getAttribute (name: string): string | null
  readonly checked?: boolean
  readonly value?: string
}

/** The todos a window shows, in order: `[x] title` (done) or `[ ] title`. */
async function shownTodos (page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as { document: PageDocument }
    return [...document.querySelectorAll('li.todo')].map((li) =>
      `${li.querySelector('input.toggle')?.checked === true ? '[x]' : '[ ]'} ${li.querySelector('input.title')?.value ?? ''}`)
  })
}

/** The titles of the todos a window shows, in order. */
async function titles (page: Page): Promise<string[]> {
  return (await shownTodos(page)).map((todo) => todo.slice(4))
}

/** Waits until the window shows exactly these todos (as {@link shownTodos} reads them), in this order. */
async function waitForTodos (page: Page, expected: readonly string[]): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  let shown = await shownTodos(page)
  while (JSON.stringify(shown) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) throw new HangError(`waited ${WAIT_MS} ms for ${JSON.stringify(expected)}; the window shows ${JSON.stringify(shown)}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    shown = await shownTodos(page)
  }
}

/** Waits until the window's status line says it is online (`true`) or offline, with nothing pending when online. */
async function waitForStatus (page: Page, online: boolean): Promise<void> {
  const selector = online ? '.status[data-online="true"][data-pending="0"]' : '.status[data-online="false"]'
  await page.waitForSelector(selector, { timeout: WAIT_MS })
}

/** The row of the todo titled `title`. */
async function row (page: Page, title: string): Promise<Locator> {
  const index = (await titles(page)).indexOf(title)
  assert.ok(index >= 0, `the window shows a todo "${title}"`)
  return page.locator('li.todo').nth(index)
}

/** Adds a todo through the form. */
async function add (page: Page, title: string): Promise<void> {
  await page.fill('input[name="title"]', title)
  await page.press('input[name="title"]', 'Enter')
}

/** `start.ts` as a user runs it (`npm start`), on 127.0.0.1; resolves the app's URL once it printed it. */
async function startApp (dataDir: string): Promise<{ child: ChildProcess, url: string, output: () => string }> {
  const start = join(import.meta.dirname, 'start.ts')
  // Its own process group: if it does not stop, the group (its sync server too) is killed.
  const child = spawn(process.execPath, ['--conditions=development', start, '--host', '127.0.0.1', '--port', '0', '--sync-port', '0', '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  const url = await bounded(new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const found = /^\s+(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out)
      if (found !== null && out.includes('Ctrl-C stops everything')) resolve(found[1] as string)
    })
    child.on('close', (code) => { reject(new Error(`start.ts exited with ${String(code)}:\n${out}`)) })
  }), START_MS, 'start.ts to print the app\'s URL').catch((error: unknown) => {
    killGroup(child)
    throw error
  })
  return { child, url, output: () => out }
}

function killGroup (child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
  } catch { /* already gone */ }
}

describe('the todo app (npm start) in two browser windows', { timeout: 180_000 }, () => {
  let dataDir: string
  let app: Awaited<ReturnType<typeof startApp>> | undefined
  let browser: Browser | undefined
  let alice: { context: BrowserContext, page: Page }
  let bob: { context: BrowserContext, page: Page }
  const errors: string[] = []

  const window = async (): Promise<{ context: BrowserContext, page: Page }> => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1000, height: 620 } })
    // No WebRTC in these windows: Chromium's offline emulation (setOffline) cuts HTTP and WebSockets, not
    // WebRTC, so two windows connected directly would never be apart. They sync through the sync server.
    await context.addInitScript(() => {
      (globalThis as unknown as { RTCPeerConnection: unknown }).RTCPeerConnection = class {
        constructor () { throw new Error('no WebRTC in this test') }
      }
    })
    const page = await context.newPage()
    page.on('pageerror', (error) => { errors.push(`uncaught: ${error.message}`) })
    return { context, page }
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kadmium-todo-app-'))
    app = await startApp(dataDir)
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, timeout: START_MS })
  }, { timeout: START_MS + 30_000 })

  after(async () => {
    await bounded(browser?.close() ?? Promise.resolve(), STOP_MS, 'closing Chromium').catch(() => {})
    const child = app?.child
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<number | null>((resolve) => { child.on('close', resolve) })
      child.kill('SIGINT')
      const code = await bounded(exited, STOP_MS, 'start.ts to stop on SIGINT').catch((error: unknown) => {
        killGroup(child)
        throw error
      })
      assert.equal(code, 0, `start.ts stopped with ${String(code)}:\n${app?.output() ?? ''}`)
      assert.match(app?.output() ?? '', /sync: closed/, 'the sync server stored and closed')
    }
    await rm(dataDir, { recursive: true, force: true })
  }, { timeout: 2 * STOP_MS + 10_000 })

  test('a new list gets its address in the URL; a second window opens that link and sees its todos', async () => {
    alice = await window()
    await alice.page.goto((app as { url: string }).url)
    await alice.page.waitForURL(/#\w{20,}$/, { timeout: WAIT_MS })
    await waitForStatus(alice.page, true)
    await add(alice.page, 'buy milk')
    await add(alice.page, 'bake bread')
    await add(alice.page, 'water the plants')
    await waitForTodos(alice.page, ['[ ] buy milk', '[ ] bake bread', '[ ] water the plants'])

    bob = await window()
    await bob.page.goto(alice.page.url())
    await waitForTodos(bob.page, ['[ ] buy milk', '[ ] bake bread', '[ ] water the plants'])
    await waitForStatus(bob.page, true)
    assert.equal(bob.page.url(), alice.page.url())
  })

  test('adding, toggling and deleting in one window shows in the other', async () => {
    await add(bob.page, 'call the bank')
    await waitForTodos(alice.page, ['[ ] buy milk', '[ ] bake bread', '[ ] water the plants', '[ ] call the bank'])
    await (await row(bob.page, 'buy milk')).locator('input.toggle').click()
    await waitForTodos(alice.page, ['[x] buy milk', '[ ] bake bread', '[ ] water the plants', '[ ] call the bank'])
    await (await row(alice.page, 'call the bank')).locator('button.delete').click()
    await waitForTodos(bob.page, ['[x] buy milk', '[ ] bake bread', '[ ] water the plants'])
  })

  test('the filters show the open or the done todos, live', async () => {
    await bob.page.getByRole('button', { name: /^Done/ }).click()
    await waitForTodos(bob.page, ['[x] buy milk'])
    await alice.page.getByRole('button', { name: /^Open/ }).click()
    await waitForTodos(alice.page, ['[ ] bake bread', '[ ] water the plants'])
    // A todo done in one window leaves the other's open list and joins its done list.
    await (await row(alice.page, 'bake bread')).locator('input.toggle').click()
    await waitForTodos(alice.page, ['[ ] water the plants'])
    await waitForTodos(bob.page, ['[x] buy milk', '[x] bake bread'])
    await alice.page.getByRole('button', { name: /^All/ }).click()
    await bob.page.getByRole('button', { name: /^All/ }).click()
    await waitForTodos(bob.page, ['[x] buy milk', '[x] bake bread', '[ ] water the plants'])
  })

  test('two windows typing in one title at once converge on both edits', async () => {
    const inAlice = (await row(alice.page, 'water the plants')).locator('input.title')
    const inBob = (await row(bob.page, 'water the plants')).locator('input.title')
    await inAlice.click()
    await alice.page.keyboard.press('Home')
    await inBob.click()
    await bob.page.keyboard.press('End')
    // Both type at once: Alice at the start, Bob at the end.
    await Promise.all([alice.page.keyboard.type('Please ', { delay: 20 }), bob.page.keyboard.type(' today', { delay: 20 })])
    await alice.page.keyboard.press('Enter')
    await bob.page.keyboard.press('Enter')
    const both = ['[x] buy milk', '[x] bake bread', '[ ] Please water the plants today']
    await waitForTodos(alice.page, both)
    await waitForTodos(bob.page, both)
  })

  test('a window that went offline keeps working, and both converge when it is back', async () => {
    await alice.context.setOffline(true)
    await waitForStatus(alice.page, false)
    await add(alice.page, 'fix the bike')
    await (await row(alice.page, 'buy milk')).locator('input.toggle').click()
    await waitForTodos(alice.page, ['[ ] buy milk', '[x] bake bread', '[ ] Please water the plants today', '[ ] fix the bike'])
    // Its changes wait for a peer: the status line counts them.
    await alice.page.waitForSelector('.status:not([data-pending="0"])', { timeout: WAIT_MS })
    // Meanwhile the other window edits too.
    await add(bob.page, 'book the trip')
    await (await row(bob.page, 'bake bread')).locator('button.delete').click()
    await waitForTodos(bob.page, ['[x] buy milk', '[ ] Please water the plants today', '[ ] book the trip'])
    // Nothing crossed while apart.
    assert.deepEqual(await titles(alice.page), ['buy milk', 'bake bread', 'Please water the plants today', 'fix the bike'])

    await alice.context.setOffline(false)
    const merged = ['[ ] buy milk', '[ ] Please water the plants today', '[ ] fix the bike', '[ ] book the trip']
    await waitForTodos(alice.page, merged)
    await waitForTodos(bob.page, merged)
    await waitForStatus(alice.page, true)
  })

  test('screenshot for the docs', async () => {
    await (await row(bob.page, 'Please water the plants today')).locator('input.toggle').click()
    await add(bob.page, 'Plan the weekend')
    const shown = ['[ ] buy milk', '[x] Please water the plants today', '[ ] fix the bike', '[ ] book the trip', '[ ] Plan the weekend']
    await waitForTodos(alice.page, shown)
    await waitForTodos(bob.page, shown)
    await waitForStatus(bob.page, true)
    // The status line counts the list's peers: the sync server (the windows do not connect directly here).
    await bob.page.waitForSelector('.status[data-peers="1"]', { timeout: WAIT_MS })
    await bob.page.locator('input[name="title"]').blur()
    await bob.page.mouse.move(0, 0)
    const png = await bob.page.screenshot({ type: 'png' })
    assert.ok(png.length > 1000)
    const before = await readFile(SCREENSHOT).catch(() => undefined)
    if (before === undefined || !before.equals(png)) await writeFile(SCREENSHOT, png)
    assert.deepEqual(errors, [], 'no page threw')
  })
})
