/**
 * `browserPeer` in a real Chromium, each page in a browser context of its
 * own (its own IndexedDB), with a real `kadmium serve` on 127.0.0.1
 * (WebSockets, WebRTC-Direct, a circuit relay): pages sync through it,
 * open databases by address through it, and reach it over either
 * transport; a reload with the server gone finds identity and data in
 * IndexedDB before anything connects; a peer in Node and a browser edit
 * one record at once and converge. (Two browsers over WebRTC: see
 * browsers-over-webrtc.test.ts, which runs in a network namespace.)
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createDatabase } from '@kadmium/core'
import { z } from 'zod'
import type { actions } from './browser/browser-peer.page.ts'
import { bounded } from './fixtures/bounded.ts'
import { startChromium, WEBRTC_LOOPBACK_ARGS, type BrowserPage, type ChromiumFixture } from './fixtures/chromium.ts'
import { startKadmiumServe, type KadmiumServe } from './fixtures/kadmium-serve.ts'
import { startProfilePeer } from './fixtures/profile-peer.ts'

type Actions = typeof actions
const ENTRY = join(import.meta.dirname, 'browser', 'browser-peer.page.ts')
/** Per test: a few pages, a server, a few syncs. */
const CASE = { timeout: 120_000 }
/** Starting Chromium and the server. */
const START = { timeout: 120_000 }
/** Bound of each wait for a condition, in a page or here. */
const WAIT_MS = 20_000
/** Opening a database by address: how long the page waits for its manifest. */
const OPEN_TIMEOUT_MS = 15_000
/** Polling period of the waits here (ms). */
const POLL_MS = 25

const noteSchema = z.object({ title: z.string(), done: z.boolean(), body: z.string().optional() })

/** Resolves once `check` holds; rejects naming `what` after {@link WAIT_MS}. */
async function waitFor (what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

describe('browserPeer in Chromium, with kadmium serve', () => {
  let chromium: ChromiumFixture
  let server: KadmiumServe
  const servers: KadmiumServe[] = []
  const pages: BrowserPage[] = []
  const closing: Array<() => Promise<void>> = []

  before(async () => {
    server = await startKadmiumServe()
    servers.push(server)
    // WebRTC-Direct to 127.0.0.1 works then on a machine with loopback alone too.
    chromium = await startChromium({ entries: { peer: ENTRY }, args: WEBRTC_LOOPBACK_ARGS })
  }, START)

  after(async () => {
    // Each page closes its database and peer first (bounded: a page may have failed), then everything else.
    await Promise.allSettled(pages.map(async (page) => await bounded(page.act<Actions, 'close'>('close'), 20_000, 'a page closing its peer')))
    for (const close of closing) await close().catch(() => {})
    await chromium?.close()
    await Promise.allSettled(servers.map(async (s) => await s.stop()))
  })

  /** A page in a browser context of its own. */
  const openPage = async (): Promise<BrowserPage> => {
    const page = await chromium.openPage('peer')
    pages.push(page)
    return page
  }

  /** Another `kadmium serve`, for a test that stops it. */
  const ownServer = async (): Promise<KadmiumServe> => {
    const started = await startKadmiumServe()
    servers.push(started)
    return started
  }

  test('the server listens on loopback only, and prints its WebSockets and WebRTC-Direct addresses for browsers', () => {
    assert.ok(server.ws.length > 0 && server.webRTCDirect.length > 0, server.output())
    for (const address of [...server.tcp, ...server.ws, ...server.webRTCDirect]) {
      assert.match(address, /^\/ip4\/127\.0\.0\.1\//)
      assert.ok(address.endsWith(`/p2p/${server.peerId}`), address)
    }
  })

  test('page A inserts; page B, another context, opens the database by address through the server and sees it; B\'s live query follows A\'s writes', CASE, async () => {
    const a = await openPage()
    await a.act<Actions, 'start'>('start', { bootstrap: server.ws })
    const address = await a.act<Actions, 'create'>('create', 'shared-notes')
    const milk = await a.act<Actions, 'insert'>('insert', { title: 'milk', done: false })
    // The server pins it: it opens it by address from A, and keeps it when A is gone.
    await server.pin(address)

    const b = await openPage()
    await b.act<Actions, 'start'>('start', { bootstrap: server.ws })
    await b.act<Actions, 'open'>('open', address, OPEN_TIMEOUT_MS)
    assert.deepEqual(await b.act<Actions, 'waitForNote'>('waitForNote', milk, { title: 'milk' }, WAIT_MS), { id: milk, title: 'milk', done: false })

    await b.act<Actions, 'subscribe'>('subscribe')
    await b.act<Actions, 'waitForLive'>('waitForLive', ['milk'], WAIT_MS)
    await a.act<Actions, 'insert'>('insert', { title: 'bread', done: false })
    await a.act<Actions, 'update'>('update', milk, { done: true })
    await b.act<Actions, 'waitForLive'>('waitForLive', ['bread', 'milk'], WAIT_MS)
    await b.act<Actions, 'waitForNote'>('waitForNote', milk, { done: true }, WAIT_MS)
    // B's writes reach A the same way.
    const eggs = await b.act<Actions, 'insert'>('insert', { title: 'eggs', done: false })
    await a.act<Actions, 'waitForNote'>('waitForNote', eggs, { title: 'eggs' }, WAIT_MS)
  })

  test('a page reaches the server over WebRTC-Direct alone, and opens a database the server pins', CASE, async () => {
    const writer = await openPage()
    await writer.act<Actions, 'start'>('start', { bootstrap: server.ws })
    const address = await writer.act<Actions, 'create'>('create', 'webrtc-direct-notes')
    const id = await writer.act<Actions, 'insert'>('insert', { title: 'over UDP', done: false })
    await server.pin(address)

    const reader = await openPage()
    await reader.act<Actions, 'start'>('start', { bootstrap: server.webRTCDirect, relayed: false })
    await reader.act<Actions, 'waitForConnection'>('waitForConnection', server.peerId, WAIT_MS)
    const toServer = (await reader.act<Actions, 'connections'>('connections')).filter((c) => c.peer === server.peerId)
    assert.ok(toServer.length > 0 && toServer.every((c) => c.address.includes('/webrtc-direct/') && !c.limited), JSON.stringify(toServer))
    await reader.act<Actions, 'open'>('open', address, OPEN_TIMEOUT_MS)
    await reader.act<Actions, 'waitForNote'>('waitForNote', id, { title: 'over UDP' }, WAIT_MS)
    assert.deepEqual(await reader.act<Actions, 'status'>('status'), {
      connections: (await reader.act<Actions, 'connections'>('connections')).length,
      bootstrap: [{ address: server.webRTCDirect[0], state: 'connected' }]
    })
  })

  test('after a reload with the server gone, the page has its identity and its data from IndexedDB before anything connects', CASE, async () => {
    const gone = await ownServer()
    const page = await openPage()
    const id = await page.act<Actions, 'start'>('start', { bootstrap: gone.ws })
    await page.act<Actions, 'waitForConnection'>('waitForConnection', gone.peerId, WAIT_MS)
    const address = await page.act<Actions, 'create'>('create', 'offline-notes')
    const note = await page.act<Actions, 'insert'>('insert', { title: 'kept on the device', done: true })
    await gone.stop()

    await page.reload()
    // The same bootstrap address, which nothing answers now.
    assert.equal(await page.act<Actions, 'start'>('start', { bootstrap: gone.ws }), id, 'the same peer id after the reload')
    assert.equal(await page.act<Actions, 'keptPeerId'>('keptPeerId'), id)
    const opened = await page.act<Actions, 'open'>('open', address, OPEN_TIMEOUT_MS)
    assert.equal(opened.connectedWhenOpen, 0, 'opened by address with no connection: the manifest is on the device')
    assert.deepEqual(await page.act<Actions, 'get'>('get', note), { id: note, title: 'kept on the device', done: true })
    assert.deepEqual(await page.act<Actions, 'titles'>('titles'), ['kept on the device'])
    await waitFor('the bootstrap peer to be reported unreachable', async () =>
      (await page.act<Actions, 'status'>('status')).bootstrap.every((b) => b.state === 'unreachable'))
    assert.equal((await page.act<Actions, 'status'>('status')).connections, 0)
  })

  test('a peer in Node and a browser peer edit one record at once and converge, field by field', CASE, async () => {
    const node = await startProfilePeer()
    closing.push(async () => { await node.close() })
    const db = await createDatabase({ name: 'node-and-browser', peer: node, replication: { syncInterval: 2_000, closeTimeout: 1_000 } })
    closing.unshift(async () => { await db.close() })
    const notes = db.collection('notes', { schema: noteSchema })
    const id = await notes.insert({ title: 'draft', done: false })

    const page = await openPage()
    await page.act<Actions, 'start'>('start', { bootstrap: node.addresses })
    await page.act<Actions, 'open'>('open', db.address, OPEN_TIMEOUT_MS)
    await page.act<Actions, 'waitForNote'>('waitForNote', id, { title: 'draft' }, WAIT_MS)

    // Different fields at once, and one field both set at once.
    await Promise.all([
      notes.update(id, (draft) => { draft.title = 'final'; draft.body = 'from node' }),
      page.act<Actions, 'update'>('update', id, { done: true, body: 'from the browser' })
    ])
    await waitFor('the Node peer to have the browser\'s field', async () => (await notes.get(id))?.done === true)
    const inNode = await notes.get(id)
    const inBrowser = await page.act<Actions, 'waitForNote'>('waitForNote', id, { title: 'final', done: true, ...(inNode?.body === undefined ? {} : { body: inNode.body }) }, WAIT_MS)
    assert.deepEqual(inBrowser, inNode, 'both replicas hold the same record')
    assert.equal(inNode?.title, 'final')
    assert.equal(inNode?.done, true)
    assert.ok(inNode?.body === 'from node' || inNode?.body === 'from the browser', inNode?.body)
  })
})
