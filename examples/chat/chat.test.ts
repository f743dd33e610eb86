/**
 * The chat example end to end: a real `kadmium serve` on 127.0.0.1 that
 * pins the room, the CLI (`cli.ts`) as child processes bootstrapped to
 * it, and the page (`web/`) in headless Chromium bootstrapped to it too.
 * A message from either side shows on the other; each sees the other
 * online and typing; a CLI user who quits leaves the page's list at once,
 * one whose process dies leaves it once its presence expires.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { BrowserContext, Locator, Page } from 'playwright-core'
import { bounded } from '../../packages/browser-adapter/test/fixtures/bounded.ts'
import { bundleForBrowser } from '../../packages/browser-adapter/test/fixtures/bundle.ts'
import { startChromium, type ChromiumFixture } from '../../packages/browser-adapter/test/fixtures/chromium.ts'
import { serveFiles, type StaticServer } from '../../packages/browser-adapter/test/fixtures/http-server.ts'
import { startKadmiumServe, type KadmiumServe } from '../../packages/browser-adapter/test/fixtures/kadmium-serve.ts'

const CLI = join(import.meta.dirname, 'cli.ts')
const WEB = join(import.meta.dirname, 'web')
/** Bound of each wait for something to show, in the page or in the CLI's output (a presence expiry, 15 s, among them). */
const WAIT_MS = 30_000
const EXIT_MS = 20_000
const POLL_MS = 25
const ROOM = `test-${process.pid}`

/** The CLI as a child process, and everything it printed. */
interface ChatProcess {
  readonly child: ChildProcess
  output (): string
  /** Types `text` on its stdin (end it with `\n` to send a line). */
  type (text: string): void
  /** Resolves its exit code. */
  readonly exited: Promise<number | null>
}

let server: KadmiumServe | undefined
let pages: StaticServer | undefined
let chromium: ChromiumFixture | undefined
let context: BrowserContext | undefined
let dataDir: string | undefined
const clis: ChatProcess[] = []
/** What the page said on its console (errors) and threw uncaught: shown when a wait in the page fails. */
const pageLog: string[] = []
/** What the page threw uncaught. */
const uncaught: string[] = []

/** Starts the CLI in the test's room as `nick`, bootstrapped to the server, on loopback only. */
function startCli (nick: string): ChatProcess {
  assert.ok(server !== undefined && dataDir !== undefined)
  const child = spawn(process.execPath, [
    '--conditions=development', CLI,
    '--room', ROOM, '--nick', nick, '--data', join(dataDir, nick),
    '--bootstrap', server.tcp[0] ?? '', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--no-mdns'
  ], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  const exited = new Promise<number | null>((resolve) => { child.on('close', (code) => { resolve(code) }) })
  const cli = { child, output: () => out, type: (text: string) => { child.stdin?.write(text) }, exited }
  clis.push(cli)
  return cli
}

/** Waits for `pattern` in what the CLI printed after the first `from` characters; resolves the match. */
async function printed (cli: ChatProcess, pattern: RegExp, from = 0): Promise<RegExpExecArray> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const match = pattern.exec(cli.output().slice(from))
    if (match !== null) return match
    if (cli.child.exitCode !== null) throw new Error(`the CLI exited (${cli.child.exitCode}) before printing ${String(pattern)}:\n${cli.output()}`)
    if (Date.now() > deadline) throw new Error(`the CLI did not print ${String(pattern)} within ${WAIT_MS} ms:\n${cli.output()}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/** Waits until `locator` matches `count` elements of the page. */
async function waitForCount (locator: Locator, count: number, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (await locator.count() !== count) {
    if (Date.now() > deadline) throw new Error(`the page did not show ${what} within ${WAIT_MS} ms\npage log:\n${pageLog.join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

async function stopCli (cli: ChatProcess): Promise<void> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return
  cli.child.kill('SIGTERM')
  await bounded(cli.exited, EXIT_MS, 'the CLI to exit').catch(async () => {
    cli.child.kill('SIGKILL')
    await cli.exited
  })
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kadmium-chat-test-'))
  server = await startKadmiumServe()
  // The page as Vite would serve it: its index.html, and main.ts bundled for the browser.
  const bundle = await bundleForBrowser(join(WEB, 'main.ts'))
  pages = await serveFiles(new Map([
    ['/index.html', { type: 'text/html; charset=utf-8', body: await readFile(join(WEB, 'index.html'), 'utf8') }],
    ['/main.ts', { type: 'text/javascript; charset=utf-8', body: bundle.code }]
  ]))
  chromium = await startChromium({ entries: {} })
}, { timeout: 90_000 })

after(async () => {
  await Promise.allSettled(clis.map(stopCli))
  await context?.close().catch(() => {})
  await chromium?.close()
  await pages?.close()
  await server?.stop()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

async function openPage (nick: string): Promise<Page> {
  assert.ok(server !== undefined && pages !== undefined && chromium !== undefined)
  context = await chromium.browser.newContext()
  const page = await context.newPage()
  page.on('console', (message) => { if (message.type() === 'error') pageLog.push(message.text()) })
  page.on('pageerror', (error) => {
    pageLog.push(`uncaught: ${error.stack ?? error.message}`)
    uncaught.push(error.stack ?? error.message)
  })
  const query = new URLSearchParams({ room: ROOM, nick, network: 'local', bootstrap: server.ws[0] ?? '' })
  await page.goto(`${pages.origin}/index.html?${query.toString()}`, { timeout: WAIT_MS })
  await page.locator('body[data-state="ready"]').waitFor({ timeout: WAIT_MS }).catch((error: unknown) => {
    throw new Error(`the page did not get ready: ${String(error)}\npage log:\n${pageLog.join('\n')}`)
  })
  return page
}

test('a CLI user and a browser user chat in one room, see each other online and typing, and see each other go', { timeout: 110_000 }, async () => {
  assert.ok(server !== undefined)
  const ada = startCli('ada')
  const [, address] = await printed(ada, /^\* room \S+: address (\S+),/m)
  // The server keeps the room: it relays its messages and presence between the CLI and the page, and holds its history.
  await server.pin(address ?? '')
  ada.type('hello from the terminal\n')
  await printed(ada, /^\[\d\d:\d\d\] ada: hello from the terminal$/m)

  const page = await openPage('bob')
  const online = (nick: string): Locator => page.locator('#who li[data-peer]', { hasText: nick })
  // The CLI's message reaches the page (caught up, or live), and each sees the other online.
  await page.locator('#messages li', { hasText: 'hello from the terminal' }).waitFor({ timeout: WAIT_MS })
  assert.equal(await page.locator('#messages li', { hasText: 'hello from the terminal' }).locator('.nick').textContent(), 'ada')
  await waitForCount(online('ada'), 1, 'ada online')
  await printed(ada, /^\* bob is online$/m)
  let mark = ada.output().length
  ada.type('/who\n')
  await printed(ada, /^\* online: ada, bob$/m, mark)

  // The page's message reaches the CLI.
  await page.locator('#text').fill('hello from the browser')
  await page.locator('#text').press('Enter')
  await printed(ada, /^\[\d\d:\d\d\] bob: hello from the browser$/m)

  // Typing, both ways: a started line (piped: a chunk that ends inside a line), a started message.
  ada.type('how are')
  await page.locator('#typing', { hasText: 'ada is typing…' }).waitFor({ timeout: WAIT_MS })
  ada.type(' you?\n')
  await page.locator('#messages li', { hasText: 'how are you?' }).waitFor({ timeout: WAIT_MS })
  await waitForCount(page.locator('#typing', { hasText: 'typing' }), 0, 'ada no longer typing')
  mark = ada.output().length
  await page.locator('#text').fill('fine, th')
  await printed(ada, /^\* bob is typing…$/m, mark)

  // ada quits: the page sees her leave at once (she says so), and the CLI exits cleanly.
  ada.type('/quit\n')
  assert.equal(await bounded(ada.exited, EXIT_MS, 'the CLI to exit after /quit'), 0, ada.output())
  await waitForCount(online('ada'), 0, 'ada gone after /quit')

  // cy's process dies without a word: the page forgets cy once cy's presence expires.
  const cy = startCli('cy')
  await waitForCount(online('cy'), 1, 'cy online')
  cy.child.kill('SIGKILL')
  await cy.exited
  await waitForCount(online('cy'), 0, 'cy gone once its presence expired')
  assert.deepEqual(uncaught, [])
})
