/**
 * Two browsers over WebRTC, run by browsers-over-webrtc.test.ts inside a
 * network namespace of its own (its node:test tests run by `node` there): a
 * real `kadmium serve` on 127.0.0.1 relays two pages (each in a browser
 * context of its own); they connect directly over WebRTC through it — one
 * dialing the other's relayed WebRTC address, or upgrading a relayed
 * connection, or by themselves once they hold the same database — then
 * keep syncing once it stopped. ICE finds the
 * namespace's 10.77.0.1, on an interface connected to nothing.
 */
import assert from 'node:assert/strict'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { actions } from '../browser/browser-peer.page.ts'
import { bounded } from '../fixtures/bounded.ts'
import { startChromium, WEBRTC_LOOPBACK_ARGS, type BrowserPage, type ChromiumFixture } from '../fixtures/chromium.ts'
import { startKadmiumServe, type KadmiumServe } from '../fixtures/kadmium-serve.ts'

type Actions = typeof actions
const ENTRY = join(import.meta.dirname, '..', 'browser', 'browser-peer.page.ts')
const CASE = { timeout: 120_000 }
const START = { timeout: 120_000 }
/** Bound of each wait for a condition, in a page or here. */
const WAIT_MS = 20_000
const OPEN_TIMEOUT_MS = 15_000
const POLL_MS = 25

async function waitFor (what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

describe('two browsers over WebRTC, in a network namespace', () => {
  let chromium: ChromiumFixture
  const relays: KadmiumServe[] = []
  const pages: BrowserPage[] = []

  before(async () => {
    chromium = await startChromium({ entries: { peer: ENTRY }, args: WEBRTC_LOOPBACK_ARGS })
  }, START)

  after(async () => {
    await Promise.allSettled(pages.map(async (page) => await bounded(page.act<Actions, 'close'>('close'), 20_000, 'a page closing its peer')))
    await chromium?.close()
    await Promise.allSettled(relays.map(async (relay) => await relay.stop()))
  })

  /** A `kadmium serve` for one test (which stops it). */
  const startRelay = async (): Promise<KadmiumServe> => {
    const relay = await startKadmiumServe()
    relays.push(relay)
    return relay
  }

  /** Stops the relay, and waits until neither page has a connection to it. */
  const stopRelay = async (relay: KadmiumServe, ...held: BrowserPage[]): Promise<void> => {
    await relay.stop()
    await waitFor('the pages to lose the relay', async () => {
      for (const page of held) {
        if ((await page.act<Actions, 'connections'>('connections')).some((c) => c.peer === relay.peerId)) return false
      }
      return true
    })
  }

  const openPage = async (): Promise<BrowserPage> => {
    const page = await chromium.openPage('peer')
    pages.push(page)
    return page
  }

  test('the namespace has loopback and its own veth pair, nothing else', () => {
    assert.deepEqual(Object.keys(networkInterfaces()).sort(), ['kadmium0', 'kadmium1', 'lo'])
  })

  test('a browser dials another\'s relayed WebRTC address: they connect directly, and keep syncing after the server stops', CASE, async () => {
    const relay = await startRelay()
    const d = await openPage()
    const e = await openPage()
    const dId = await d.act<Actions, 'start'>('start', { bootstrap: relay.ws })
    const eId = await e.act<Actions, 'start'>('start', { bootstrap: relay.ws })
    // D reserved a slot on the relay: it is reachable at <relay>/p2p-circuit/webrtc/p2p/<D>.
    const dAddress = await d.act<Actions, 'webrtcAddress'>('webrtcAddress', WAIT_MS)
    assert.ok(dAddress.includes(`/p2p/${relay.peerId}/p2p-circuit/webrtc/p2p/${dId}`), dAddress)
    const dialed = await e.act<Actions, 'dial'>('dial', dAddress)
    assert.equal(dialed.peer, dId)
    assert.equal(dialed.webrtc, true, `a direct (unlimited) WebRTC connection: ${JSON.stringify(dialed)}`)
    await d.act<Actions, 'waitForWebRTC'>('waitForWebRTC', eId, WAIT_MS)

    const address = await d.act<Actions, 'create'>('create', 'direct-notes')
    const first = await d.act<Actions, 'insert'>('insert', { title: 'through WebRTC', done: false })
    await e.act<Actions, 'open'>('open', address, OPEN_TIMEOUT_MS)
    await e.act<Actions, 'waitForNote'>('waitForNote', first, { title: 'through WebRTC' }, WAIT_MS)

    await stopRelay(relay, d, e)
    const later = await d.act<Actions, 'insert'>('insert', { title: 'with the server gone', done: false })
    await e.act<Actions, 'waitForNote'>('waitForNote', later, { title: 'with the server gone' }, WAIT_MS)
    await e.act<Actions, 'update'>('update', first, { done: true })
    await d.act<Actions, 'waitForNote'>('waitForNote', first, { done: true }, WAIT_MS)
    assert.ok((await e.act<Actions, 'connections'>('connections')).some((c) => c.peer === dId && c.webrtc), 'still the direct connection')
  })

  test('a relayed connection between two browsers is upgraded to a direct WebRTC one, and the relayed one closed', CASE, async () => {
    const relay = await startRelay()
    const d = await openPage()
    const e = await openPage()
    const dId = await d.act<Actions, 'start'>('start', { bootstrap: relay.ws })
    const eId = await e.act<Actions, 'start'>('start', { bootstrap: relay.ws })
    const relayed = await d.act<Actions, 'relayedAddress'>('relayedAddress', WAIT_MS)
    const dialed = await e.act<Actions, 'dial'>('dial', relayed)
    assert.equal(dialed.limited, true, `a relayed connection first: ${JSON.stringify(dialed)}`)
    await e.act<Actions, 'waitForWebRTC'>('waitForWebRTC', dId, WAIT_MS)
    await d.act<Actions, 'waitForWebRTC'>('waitForWebRTC', eId, WAIT_MS)
    await waitFor('the relayed connection to close', async () =>
      !(await e.act<Actions, 'connections'>('connections')).some((c) => c.peer === dId && c.limited))
    await stopRelay(relay, d, e)
    assert.ok((await e.act<Actions, 'connections'>('connections')).some((c) => c.peer === dId && c.webrtc))
  })

  test('two browsers online that hold one database find each other and connect directly over WebRTC by themselves', CASE, async () => {
    const relay = await startRelay()
    const d = await openPage()
    const e = await openPage()
    const dId = await d.act<Actions, 'start'>('start', { bootstrap: relay.ws })
    await e.act<Actions, 'start'>('start', { bootstrap: relay.ws })
    // Online first: a database opened before its peer connects announces itself in the DHT only at its next
    // discovery round (a minute later).
    await d.act<Actions, 'webrtcAddress'>('webrtcAddress', WAIT_MS)
    await e.act<Actions, 'webrtcAddress'>('webrtcAddress', WAIT_MS)
    const address = await d.act<Actions, 'create'>('create', 'found-notes')
    const first = await d.act<Actions, 'insert'>('insert', { title: 'before', done: false })
    await relay.pin(address)
    // E opens it through the relay, which pins it; nobody dials the other page.
    await e.act<Actions, 'open'>('open', address, OPEN_TIMEOUT_MS)
    await e.act<Actions, 'waitForNote'>('waitForNote', first, { title: 'before' }, WAIT_MS)
    await e.act<Actions, 'waitForWebRTC'>('waitForWebRTC', dId, WAIT_MS)

    await stopRelay(relay, d, e)
    const later = await d.act<Actions, 'insert'>('insert', { title: 'after', done: false })
    await e.act<Actions, 'waitForNote'>('waitForNote', later, { title: 'after' }, WAIT_MS)
  })
})
