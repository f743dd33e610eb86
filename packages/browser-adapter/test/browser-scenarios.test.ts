/**
 * Scenarios of `@kadmium/browser` in a real Chromium with one real
 * `kadmium serve` on 127.0.0.1, each page in a browser context of its own
 * (its own IndexedDB):
 * - a page goes offline, two pages edit the same record (different
 *   fields), the page comes back online: both converge, field by field;
 * - an encrypted, access-controlled database: a granted page writes and
 *   the owner sees it, a stranger's page is refused locally and nothing of
 *   it reaches the owner, and the server's data directory holds no
 *   plaintext of what the pages wrote.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { actions as peerActions } from './browser/browser-peer.page.ts'
import type { actions as scenarioActions } from './browser/browser-scenarios.page.ts'
import { bounded } from './fixtures/bounded.ts'
import { startChromium, WEBRTC_LOOPBACK_ARGS, type BrowserPage, type ChromiumFixture } from './fixtures/chromium.ts'
import { startKadmiumServe, type KadmiumServe } from './fixtures/kadmium-serve.ts'

type Peer = typeof peerActions
type Scenario = typeof scenarioActions
const PEER_ENTRY = join(import.meta.dirname, 'browser', 'browser-peer.page.ts')
const SCENARIO_ENTRY = join(import.meta.dirname, 'browser', 'browser-scenarios.page.ts')
const CASE = { timeout: 240_000 }
const START = { timeout: 120_000 }
/** Bound of each wait for a condition, in a page or here. */
const WAIT_MS = 60_000
/** Coming back online: the bootstrap redial (1 s after a close, every 30 s while unreachable), then catch-up. */
const RECONNECT_MS = 60_000
const OPEN_TIMEOUT_MS = 15_000
const POLL_MS = 25
/** Where the fixture makes the data directories of `kadmium serve`. */
const SERVE_DIR_PREFIX = 'kadmium-browser-serve-'

async function waitFor (what: string, check: () => boolean | Promise<boolean>, boundMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + boundMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${boundMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

async function serveDirs (): Promise<Set<string>> {
  return new Set((await readdir(tmpdir())).filter((name) => name.startsWith(SERVE_DIR_PREFIX)).map((name) => join(tmpdir(), name)))
}

/** The files under the directories (recursively), as raw bytes: how many, how many bytes in all, and those that contain `marker`. */
async function scanFiles (dirs: readonly string[], marker: Buffer): Promise<{ files: number, bytes: number, found: string[] }> {
  let files = 0
  let bytes = 0
  const found: string[] = []
  for (const dir of dirs) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      if (!entry.isFile()) continue
      const path = join(entry.parentPath, entry.name)
      const content = await readFile(path).catch(() => undefined)
      if (content === undefined) continue
      files++
      bytes += content.length
      if (content.includes(marker)) found.push(path)
    }
  }
  return { files, bytes, found }
}

describe('browser scenarios in Chromium, with one kadmium serve', () => {
  let chromium: ChromiumFixture
  let server: KadmiumServe
  /** The data directories of `kadmium serve` that appeared while this file's server started (its own among them). */
  let candidateDirs: string[] = []
  const pages: Array<{ page: BrowserPage, close: () => Promise<unknown> }> = []

  before(async () => {
    const earlier = await serveDirs()
    server = await startKadmiumServe()
    candidateDirs = [...await serveDirs()].filter((dir) => !earlier.has(dir))
    chromium = await startChromium({ entries: { peer: PEER_ENTRY, scenario: SCENARIO_ENTRY }, args: WEBRTC_LOOPBACK_ARGS })
  }, START)

  after(async () => {
    await Promise.allSettled(pages.map(async ({ close }) => await bounded(close(), 20_000, 'a page closing its peer')))
    await chromium?.close()
    await server?.stop()
  })

  const peerPage = async (): Promise<BrowserPage> => {
    const page = await chromium.openPage('peer')
    pages.push({ page, close: async () => { await page.act<Peer, 'close'>('close') } })
    return page
  }
  const scenarioPage = async (): Promise<BrowserPage> => {
    const page = await chromium.openPage('scenario')
    pages.push({ page, close: async () => { await page.act<Scenario, 'close'>('close') } })
    return page
  }

  test('B goes offline, A and B edit the same record (different fields), B comes back online: both converge, field by field', CASE, async () => {
    const a = await peerPage()
    await a.act<Peer, 'start'>('start', { bootstrap: server.ws })
    await a.act<Peer, 'waitForConnection'>('waitForConnection', server.peerId, WAIT_MS)
    const address = await a.act<Peer, 'create'>('create', 'offline-edits')
    const id = await a.act<Peer, 'insert'>('insert', { title: 'draft', done: false })
    await server.pin(address)

    const b = await peerPage()
    await b.act<Peer, 'start'>('start', { bootstrap: server.ws })
    await b.act<Peer, 'open'>('open', address, OPEN_TIMEOUT_MS)
    await b.act<Peer, 'waitForNote'>('waitForNote', id, { title: 'draft', done: false }, WAIT_MS)

    // B's network goes down: its connections close, and stay closed.
    await b.context.setOffline(true)
    await waitFor('B to have no connection', async () => (await b.act<Peer, 'connections'>('connections')).length === 0)
    assert.equal((await b.act<Peer, 'status'>('status')).connections, 0)

    // Both edit the same record, different fields, while B is offline.
    await a.act<Peer, 'update'>('update', id, { title: 'final' })
    await b.act<Peer, 'update'>('update', id, { done: true, body: 'written offline' })
    // B saw nothing of A's edit while offline; A sees its own.
    assert.deepEqual(await b.act<Peer, 'get'>('get', id), { id, title: 'draft', done: true, body: 'written offline' })
    assert.deepEqual(await a.act<Peer, 'get'>('get', id), { id, title: 'final', done: false })
    assert.equal((await b.act<Peer, 'connections'>('connections')).length, 0, 'B is still offline')

    // B comes back: it reconnects to the server by itself, and both converge.
    await b.context.setOffline(false)
    await b.act<Peer, 'waitForConnection'>('waitForConnection', server.peerId, RECONNECT_MS)
    const expected = { id, title: 'final', done: true, body: 'written offline' }
    assert.deepEqual(await b.act<Peer, 'waitForNote'>('waitForNote', id, { title: 'final' }, WAIT_MS), expected)
    assert.deepEqual(await a.act<Peer, 'waitForNote'>('waitForNote', id, { done: true, body: 'written offline' }, WAIT_MS), expected)
    // The server pins this database, which is not encrypted: its replica on disk holds the text as it is
    // (which also shows that scanning the server's files finds plaintext where there is some).
    assert.ok(candidateDirs.length > 0, 'the data directory of this file\'s kadmium serve was found')
    await waitFor('the server\'s files to hold B\'s text in plain', async () => (await scanFiles(candidateDirs, Buffer.from('written offline'))).found.length > 0)
  })

  test('an encrypted, restricted database: a granted page writes, a stranger is refused, the server stores only ciphertext', CASE, async () => {
    const stored = await scanFiles(candidateDirs, Buffer.from('-'))
    const passphrase = `pass-${randomBytes(12).toString('hex')}`
    const marker = `plaintext-marker-${randomBytes(8).toString('hex')}`
    const owner = await scenarioPage()
    const ownerId = await owner.act<Scenario, 'start'>('start', server.ws)
    await owner.act<Scenario, 'waitForConnection'>('waitForConnection', server.peerId, WAIT_MS)
    const address = await owner.act<Scenario, 'createRestricted'>('createRestricted', `sealed-${randomBytes(4).toString('hex')}`, passphrase)
    const fromOwner = await owner.act<Scenario, 'insert'>('insert', { title: `${marker} from the owner`, done: false, body: marker })

    const writer = await scenarioPage()
    const writerId = await writer.act<Scenario, 'start'>('start', server.ws)
    await writer.act<Scenario, 'waitForConnection'>('waitForConnection', server.peerId, WAIT_MS)
    await owner.act<Scenario, 'grant'>('grant', writerId)
    assert.deepEqual((await owner.act<Scenario, 'writers'>('writers')).sort(), [ownerId, writerId].sort())

    await writer.act<Scenario, 'openEncrypted'>('openEncrypted', address, passphrase, OPEN_TIMEOUT_MS)
    await writer.act<Scenario, 'waitForWriter'>('waitForWriter', writerId, WAIT_MS)
    await writer.act<Scenario, 'waitForNote'>('waitForNote', fromOwner, { body: marker }, WAIT_MS)
    const fromWriter = await writer.act<Scenario, 'insert'>('insert', { title: `${marker} from the writer`, done: true, body: marker })
    await owner.act<Scenario, 'waitForNote'>('waitForNote', fromWriter, { title: `${marker} from the writer`, done: true }, WAIT_MS)

    // A stranger with the passphrase (it can read) but no grant: its write is refused before anything is sent.
    const stranger = await scenarioPage()
    const strangerId = await stranger.act<Scenario, 'start'>('start', server.ws)
    await stranger.act<Scenario, 'waitForConnection'>('waitForConnection', server.peerId, WAIT_MS)
    await stranger.act<Scenario, 'openEncrypted'>('openEncrypted', address, passphrase, OPEN_TIMEOUT_MS)
    await stranger.act<Scenario, 'waitForWriter'>('waitForWriter', writerId, WAIT_MS)
    assert.ok(!(await stranger.act<Scenario, 'writers'>('writers')).includes(strangerId))
    assert.equal(await stranger.act<Scenario, 'insertFails'>('insertFails', { title: 'from the stranger', done: false }), 'UnauthorizedWriterError')
    assert.ok(!(await stranger.act<Scenario, 'titles'>('titles')).includes('from the stranger'), 'the refused write is not stored locally either')
    // The owner and the writer have each other's notes, and nothing of the stranger's.
    // (Bounded by another sync of both: the writer sees a note the owner writes after the stranger's attempt.)
    const last = await owner.act<Scenario, 'insert'>('insert', { title: `${marker} last`, done: false })
    await writer.act<Scenario, 'waitForNote'>('waitForNote', last, { title: `${marker} last` }, WAIT_MS)
    const expectedTitles = [`${marker} from the owner`, `${marker} from the writer`, `${marker} last`]
    assert.deepEqual(await owner.act<Scenario, 'titles'>('titles'), expectedTitles)
    assert.deepEqual(await writer.act<Scenario, 'titles'>('titles'), expectedTitles)

    // The server's files grew while the pages wrote (its DHT datastore, LevelDB, takes the sealed records), and none of them holds the notes' text.
    assert.ok(candidateDirs.length > 0, 'the data directory of this file\'s kadmium serve was found')
    await waitFor('the server to store records of the encrypted database', async () => (await scanFiles(candidateDirs, Buffer.from('-'))).bytes > stored.bytes)
    const scanned = await scanFiles(candidateDirs, Buffer.from(marker, 'utf8'))
    assert.ok(scanned.files > 0)
    assert.deepEqual(scanned.found, [], `plaintext ${marker} in the server's files`)
  })
})
