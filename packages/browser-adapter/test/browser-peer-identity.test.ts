/**
 * `browserPeer`'s identity and options in a real Chromium, with no
 * network: the key kept in the origin's IndexedDB (one per peer store,
 * one for tabs that start at once), exported and imported across browser
 * contexts, never replaced silently; bad options refused with named
 * errors before anything is kept; a closed peer opens no storage.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { actions } from './browser/browser-peer.page.ts'
import { bounded } from './fixtures/bounded.ts'
import { startChromium, type BrowserPage, type ChromiumFixture } from './fixtures/chromium.ts'

type Actions = typeof actions
const ENTRY = join(import.meta.dirname, 'browser', 'browser-peer.page.ts')
const CASE = { timeout: 60_000 }
const START = { timeout: 120_000 }

describe('browserPeer: identity and options', () => {
  let chromium: ChromiumFixture
  const pages: BrowserPage[] = []

  before(async () => {
    chromium = await startChromium({ entries: { peer: ENTRY } })
  }, START)

  after(async () => {
    await Promise.allSettled(pages.map(async (page) => await bounded(page.act<Actions, 'close'>('close'), 20_000, 'a page closing its peer')))
    await chromium?.close()
  })

  /** A page in a context of its own, or another tab of `tabOf`'s context. */
  const openPage = async (tabOf?: BrowserPage): Promise<BrowserPage> => {
    const page = await chromium.openPage('peer', tabOf === undefined ? {} : { context: tabOf.context })
    pages.push(page)
    return page
  }

  test('bad options are refused with named errors, and nothing is kept', CASE, async () => {
    const page = await openPage()
    const server = '/ip4/127.0.0.1/tcp/4002/ws'
    const peerId = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
    for (const address of ['not a multiaddr', server, `${server}/p2p/not-a-peer-id`]) {
      assert.deepEqual(await page.act<Actions, 'startFails'>('startFails', { network: 'local', bootstrap: [address] }), { name: 'AddressError', address }, address)
    }
    assert.equal(await page.act<Actions, 'startFails'>('startFails', { network: 'local', bootstrap: [`${server}/p2p/${peerId}`] }), null, 'a valid address starts (nothing answers it: it is dialed in the background)')
    const keptAfterValid = await page.act<Actions, 'keptPeerId'>('keptPeerId')
    assert.notEqual(keptAfterValid, null)
    for (const options of [{ network: 'lan' }, { bootstrap: server }, { peerStore: '' }, { relayed: 'yes' }, { storage: 'indexeddb' }, 'options']) {
      assert.deepEqual(await page.act<Actions, 'startFails'>('startFails', options), { name: 'InvalidArgumentError', address: null }, JSON.stringify(options))
    }
    const fresh = await openPage()
    assert.deepEqual(await fresh.act<Actions, 'startFails'>('startFails', { bootstrap: ['/ip4/127.0.0.1/tcp/1'] }), { name: 'AddressError', address: '/ip4/127.0.0.1/tcp/1' })
    assert.equal(await fresh.act<Actions, 'keptPeerId'>('keptPeerId'), null, 'a refused start keeps no key')
  })

  test('an identity exported in one context and imported in another is the same peer; a kept identity is only replaced on purpose', CASE, async () => {
    const first = await openPage()
    const id = await first.act<Actions, 'start'>('start', {})
    const identity = await first.act<Actions, 'exportIdentity'>('exportIdentity')

    const imported = await openPage()
    assert.equal(await imported.act<Actions, 'start'>('start', { identity }), id)
    assert.equal(await imported.act<Actions, 'keptPeerId'>('keptPeerId'), id, 'kept: the next start of that context runs as it')

    const other = await openPage()
    const otherId = await other.act<Actions, 'start'>('start', {})
    assert.notEqual(otherId, id)
    await other.act<Actions, 'close'>('close')
    await assert.rejects(other.act<Actions, 'start'>('start', { identity }), { name: 'PeerKeyError' })
    assert.equal(await other.act<Actions, 'keptPeerId'>('keptPeerId'), otherId)
    await other.act<Actions, 'replaceIdentity'>('replaceIdentity', identity)
    assert.equal(await other.act<Actions, 'start'>('start', {}), id)
  })

  test('two tabs of one origin that start at once keep one identity; another peer store holds another', CASE, async () => {
    const a = await openPage()
    const b = await openPage(a)
    const [idA, idB] = await Promise.all([a.act<Actions, 'start'>('start', {}), b.act<Actions, 'start'>('start', {})])
    assert.equal(idA, idB)
    assert.equal(await a.act<Actions, 'keptPeerId'>('keptPeerId'), idA)
    const c = await openPage(a)
    const idC = await c.act<Actions, 'start'>('start', { peerStore: 'second-identity' })
    assert.notEqual(idC, idA)
    assert.equal(await c.act<Actions, 'keptPeerId'>('keptPeerId', 'second-identity'), idC)
  })

  test('a closed peer opens no more storage: PeerClosedError', CASE, async () => {
    const page = await openPage()
    await page.act<Actions, 'start'>('start', {})
    assert.equal(await page.act<Actions, 'closeThenStorage'>('closeThenStorage'), 'PeerClosedError')
  })
})
