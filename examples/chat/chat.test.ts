/**
 * The chat example end to end: a real `kadmium serve` on 127.0.0.1 that
 * pins the room, the CLI (`cli.ts`) as a child process bootstrapped to
 * it, and the page (`web/`) in headless Chromium bootstrapped to it too.
 * A message from either side shows on the other; each sees the other
 * online and typing; when the CLI quits, the page sees it leave.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { BrowserContext, Page } from 'playwright-core'
import { bounded } from '../../packages/browser-adapter/test/fixtures/bounded.ts'
import { bundleForBrowser } from '../../packages/browser-adapter/test/fixtures/bundle.ts'
import { startChromium, type ChromiumFixture } from '../../packages/browser-adapter/test/fixtures/chromium.ts'
import { serveFiles, type StaticServer } from '../../packages/browser-adapter/test/fixtures/http-server.ts'
import { startKadmiumServe, type KadmiumServe } from '../../packages/browser-adapter/test/fixtures/kadmium-serve.ts'

const CLI = join(import.meta.dirname, 'cli.ts')
const WEB = join(import.meta.dirname, 'web')
/** Bound of each wait for something to show, in the page or in the CLI's output. */
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

function startCli (dataDir: string, server: KadmiumServe): ChatProcess {
  const child = spawn(process.execPath, [
    '--conditions=development', CLI,
    '--room', ROOM, '--nick', 'ada', '--data', dataDir,
    '--bootstrap', server.tcp[0] ?? '', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--no-mdns'
  ], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  const exited = new Promise<number | null>((resolve) => { child.on('close', (code) => { resolve(code) }) })
  return { child, output: () => out, type: (text) => { child.stdin?.write(text) }, exited }
}

/** Waits for `pattern` in the CLI's output; resolves the match. */
async function printed (cli: ChatProcess, pattern: RegExp): Promise<RegExpExecArray> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const match = pattern.exec(cli.output())
    if (match !== null) return match
    if (cli.child.exitCode !== null) throw new Error(`the CLI exited (${cli.child.exitCode}) before printing ${String(pattern)}:\n${cli.output()}`)
    if (Date.now() > deadline) throw new Error(`the CLI did not print ${String(pattern)} within ${WAIT_MS} ms:\n${cli.output()}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

let server: KadmiumServe | undefined
let pages: StaticServer | undefined
let chromium: ChromiumFixture | undefined
let context: BrowserContext | undefined
let cli: ChatProcess | undefined
let dataDir: string | undefined
/** What the page said on its console (errors) and threw uncaught: shown when a wait in the page fails. */
const pageLog: string[] = []
/** What the page threw uncaught. */
const uncaught: string[] = []

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
  if (cli !== undefined && cli.child.exitCode === null) {
    cli.child.kill('SIGTERM')
    await bounded(cli.exited, EXIT_MS, 'the CLI to exit').catch(async () => {
      cli?.child.kill('SIGKILL')
      await cli?.exited
    })
  }
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

test('a CLI user and a browser user chat in one room', { timeout: 110_000 }, async () => {
  assert.ok(server !== undefined && dataDir !== undefined)
  cli = startCli(dataDir, server)
  const [, address] = await printed(cli, /^\* room \S+: address (\S+),/m)
  // The server keeps the room: it relays its messages between the CLI and the page, and holds its history.
  await server.pin(address ?? '')
  cli.type('hello from the terminal\n')
  await printed(cli, /^\[\d\d:\d\d\] ada: hello from the terminal$/m)

  const page = await openPage('bob')
  // The CLI's message reaches the page (caught up, or live).
  await page.locator('#messages li', { hasText: 'hello from the terminal' }).waitFor({ timeout: WAIT_MS })
  assert.equal(await page.locator('#messages li', { hasText: 'hello from the terminal' }).locator('.nick').textContent(), 'ada')

  // The page's message reaches the CLI.
  await page.locator('#text').fill('hello from the browser')
  await page.locator('#text').press('Enter')
  await printed(cli, /^\[\d\d:\d\d\] bob: hello from the browser$/m)

  // And one more from the CLI, live this time.
  cli.type('how are you?\n')
  await page.locator('#messages li', { hasText: 'how are you?' }).waitFor({ timeout: WAIT_MS })

  cli.type('/quit\n')
  assert.equal(await bounded(cli.exited, EXIT_MS, 'the CLI to exit after /quit'), 0, cli.output())
  assert.deepEqual(uncaught, [])
})
