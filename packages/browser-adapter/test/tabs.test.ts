/**
 * `shareAcrossTabs` in a real Chromium: tabs of one browser context (one
 * origin, one IndexedDB) open the same database with no network at all.
 * Writes show in the other tabs' live queries, one tab holds the leader
 * lock, and closing it hands over without losing a write.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createDatabase, type Database } from '@kadmium/core'
import { z } from 'zod'
import { startChromium, type BrowserPage, type ChromiumFixture } from './fixtures/chromium.ts'
import { startProfilePeer, type ProfilePeer } from './fixtures/profile-peer.ts'
import type { actions } from './browser/tabs.page.ts'

type Actions = typeof actions
const ENTRY = join(import.meta.dirname, 'browser', 'tabs.page.ts')
/** Starting Chromium and bundling the page. */
const START = { timeout: 120_000 }
const CASE = { timeout: 60_000 }
/** Bound of each wait in a page, or here. */
const WAIT_MS = 15_000
/** Polling period of the waits here (ms). */
const POLL_MS = 25

/** Resolves once `check` holds; rejects naming `what` after {@link WAIT_MS}. */
async function waitFor (what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/** A tab of the test, with the page's actions typed. */
class Tab {
  readonly page: BrowserPage
  constructor (page: BrowserPage) {
    this.page = page
  }

  async act<K extends keyof Actions> (name: K, ...args: Parameters<Actions[K]>): Promise<Awaited<ReturnType<Actions[K]>>> {
    return this.page.act<Actions, K>(name, ...args)
  }

  /** Closes the tab at once, as a user does: nothing in it runs first (its context stays). */
  async closeAbruptly (): Promise<void> {
    await this.page.page.close()
  }
}

describe('tabs sharing a database in Chromium', () => {
  let chromium: ChromiumFixture
  const pages: BrowserPage[] = []
  /** What a test opened in Node, closed after the pages. */
  const closing: Array<() => Promise<void>> = []
  let counter = 0
  before(async () => { chromium = await startChromium({ entries: { tabs: ENTRY } }) }, START)
  after(async () => {
    for (const page of pages) await page.close().catch(() => {})
    await chromium?.close()
    for (const close of closing) await close().catch(() => {})
  })

  /** The first tab of a new browser context (an origin's storage of its own). */
  async function firstTab (): Promise<Tab> {
    const page = await chromium.openPage('tabs')
    pages.push(page)
    return new Tab(page)
  }

  /** Another tab in the context of `tab`. */
  async function anotherTab (tab: Tab): Promise<Tab> {
    const page = await chromium.openPage('tabs', { context: tab.page.context })
    pages.push(page)
    return new Tab(page)
  }

  /** A database name of its own for each test. */
  function freshName (): string {
    return `tabs-${counter++}`
  }

  test('a write in one tab shows in the other\'s live query at once, both ways; one tab holds the lock', CASE, async () => {
    const name = freshName()
    const one = await firstTab()
    const two = await anotherTab(one)
    assert.equal(await one.act('open', name), 'leader')
    assert.equal(await two.act('open', name), 'follower')

    const locks = await one.act('locks')
    assert.deepEqual(locks.held.filter((l) => l === `kadmium/${name}/leader`), [`kadmium/${name}/leader`], 'one tab holds the leader lock')
    assert.deepEqual(locks.pending.filter((l) => l === `kadmium/${name}/leader`), [`kadmium/${name}/leader`], 'the other waits for it')

    const milk = await one.act('insert', name, 'milk')
    await two.act('waitForRows', name, ['milk:false'], WAIT_MS)
    await two.act('update', name, milk, { done: true })
    await one.act('waitForRows', name, ['milk:true'], WAIT_MS)
    await two.act('insert', name, 'bread')
    await one.act('waitForRows', name, ['bread:false', 'milk:true'], WAIT_MS)
    // Both tabs edit one record at once, each a field of its own: both edits stay, in both tabs.
    await Promise.all([
      one.act('update', name, milk, { title: 'oat milk' }),
      two.act('update', name, milk, { priority: 2 })
    ])
    const both = ['bread:false', 'oat milk:true:2']
    await one.act('waitForRows', name, both, WAIT_MS)
    await two.act('waitForRows', name, both, WAIT_MS)
    assert.deepEqual(await one.act('events', name), [])
    assert.deepEqual(await two.act('events', name), [])
  })

  test('closing the leading tab: another takes over, and a write made just before the close is stored and shown', CASE, async () => {
    const name = freshName()
    const one = await firstTab()
    const two = await anotherTab(one)
    assert.equal(await one.act('open', name), 'leader')
    assert.equal(await two.act('open', name), 'follower')
    await two.act('insert', name, 'from the follower')
    await one.act('waitForRows', name, ['from the follower:false'], WAIT_MS)
    // The write resolves (stored in the leader's tab), then the tab goes at once, as a user closes it.
    await one.act('insert', name, 'last words')
    await one.closeAbruptly()

    await two.act('waitForRole', name, 'leader', WAIT_MS)
    assert.deepEqual(await two.act('events', name), ['leader'])
    await two.act('waitForRows', name, ['from the follower:false', 'last words:false'], WAIT_MS)
    const locks = await two.act('locks')
    assert.deepEqual(locks.held.filter((l) => l === `kadmium/${name}/leader`), [`kadmium/${name}/leader`])
    assert.deepEqual(locks.pending.filter((l) => l === `kadmium/${name}/leader`), [])

    // A tab opened now reads everything from the store.
    const three = await anotherTab(two)
    assert.equal(await three.act('open', name), 'follower')
    await three.act('waitForRows', name, ['from the follower:false', 'last words:false'], WAIT_MS)
    const late = await three.act('insert', name, 'from the late tab')
    await two.act('waitForRows', name, ['from the follower:false', 'from the late tab:false', 'last words:false'], WAIT_MS)
    assert.equal(await two.act('get', name, late), 'from the late tab:false')
  })

  test('a follower\'s write made while the leader closes is kept; the next tab to close hands over again', CASE, async () => {
    const name = freshName()
    const one = await firstTab()
    const two = await anotherTab(one)
    const three = await anotherTab(one)
    assert.equal(await one.act('open', name), 'leader')
    assert.equal(await two.act('open', name), 'follower')
    assert.equal(await three.act('open', name), 'follower')
    // The follower writes while the leader closes its database (gracefully, this time).
    await Promise.all([two.act('insert', name, 'meanwhile'), one.act('close', name)])
    const leaders = async (): Promise<string[]> => [await two.act('role', name), await three.act('role', name)]
    await Promise.race([
      two.act('waitForRole', name, 'leader', WAIT_MS),
      three.act('waitForRole', name, 'leader', WAIT_MS)
    ])
    assert.deepEqual((await leaders()).sort(), ['follower', 'leader'], 'one of the two leads')
    await two.act('waitForRows', name, ['meanwhile:false'], WAIT_MS)
    await three.act('waitForRows', name, ['meanwhile:false'], WAIT_MS)
    // The new leader closes too: the last tab takes over.
    const [next, last] = (await two.act('role', name)) === 'leader' ? [two, three] : [three, two]
    await next.closeAbruptly()
    await last.act('waitForRole', name, 'leader', WAIT_MS)
    assert.deepEqual(await last.act('rows', name), ['meanwhile:false'])
  })

  test('with a peer in Node: only the leading tab runs a peer; a follower\'s writes reach the network through it; after a takeover the next tab syncs', CASE, async () => {
    const node: ProfilePeer = await startProfilePeer()
    closing.push(async () => { await node.close() })
    const name = freshName()
    const db: Database = await createDatabase({ name, peer: node })
    closing.unshift(async () => { await db.close() })
    const todos = db.collection('todos', { schema: z.object({ title: z.string(), done: z.boolean(), priority: z.number().optional() }) })
    const titles = async (): Promise<string> => (await todos.find({ orderBy: 'title' })).map((t) => t.title).join()

    const one = await firstTab()
    const two = await anotherTab(one)
    assert.equal(await one.act('open', name, { bootstrap: [...node.addresses] }), 'leader')
    assert.equal(await two.act('open', name, { bootstrap: [...node.addresses] }), 'follower')
    assert.notEqual(await one.act('peerId', name), null, 'the leader runs a peer')
    assert.equal(await two.act('peerId', name), null, 'the follower runs none')
    await waitFor('the leading tab on the database\'s topic', () => db.status.peers === 1)

    await two.act('insert', name, 'from the follower')
    await waitFor('the follower\'s write in Node', async () => await titles() === 'from the follower')
    await todos.insert({ title: 'from node', done: false })
    await one.act('waitForRows', name, ['from node:false', 'from the follower:false'], WAIT_MS)
    await two.act('waitForRows', name, ['from node:false', 'from the follower:false'], WAIT_MS)

    await one.closeAbruptly()
    await two.act('waitForRole', name, 'leader', WAIT_MS)
    await waitFor('the leader event, with its peer', async () => {
      const events: unknown = await two.act('events', name)
      return Array.isArray(events) && events.includes('leader+peer')
    })
    assert.deepEqual(await two.act('events', name), ['leader+peer'])
    assert.notEqual(await two.act('peerId', name), null)
    await waitFor('the new leader on the database\'s topic', () => db.status.peers === 1)
    await todos.insert({ title: 'after the handover', done: false })
    await two.act('waitForRows', name, ['after the handover:false', 'from node:false', 'from the follower:false'], WAIT_MS)
    await two.act('insert', name, 'from the new leader')
    await waitFor('the new leader\'s write in Node', async () => (await titles()).includes('from the new leader'))
    await two.act('close', name)
  })

  test('a tab whose peer does not start: refused at open (the lock let go), an error event after a takeover', CASE, async () => {
    const name = freshName()
    const one = await firstTab()
    await assert.rejects(one.act('open', name, { brokenPeer: true }), { name: 'LeaderPeerError' })
    const lock = `kadmium/${name}/leader`
    assert.deepEqual((await one.act('locks')).held.filter((l) => l === lock), [], 'nothing stays open')
    assert.equal(await one.act('open', name), 'leader')
    const two = await anotherTab(one)
    assert.equal(await two.act('open', name, { brokenPeer: true }), 'follower', 'a follower makes no peer')
    await one.act('insert', name, 'kept')
    await two.act('waitForRows', name, ['kept:false'], WAIT_MS)
    await one.closeAbruptly()
    await two.act('waitForRole', name, 'leader', WAIT_MS)
    assert.deepEqual(await two.act('events', name), ['error:LeaderPeerError', 'leader'])
    // It leads without a network: the database works on.
    await two.act('insert', name, 'still here')
    await two.act('waitForRows', name, ['kept:false', 'still here:false'], WAIT_MS)
  })

  test('refused: a page without Web Locks or BroadcastChannel, a peer that is not a function, an empty name', CASE, async () => {
    const one = await firstTab()
    assert.deepEqual(await one.act('refusals', freshName()), ['TabsUnsupportedError', 'TabsUnsupportedError', 'InvalidArgumentError', 'InvalidArgumentError'])
  })

  test('many writes to one record from two tabs, with logs compacted every 2 updates: a new tab reads every write', CASE, async () => {
    const name = freshName()
    const one = await firstTab()
    const two = await anotherTab(one)
    await one.act('open', name, { compactEvery: 2 })
    await two.act('open', name, { compactEvery: 2 })
    const id = await one.act('insert', name, 'counter')
    await two.act('waitForRows', name, ['counter:false'], WAIT_MS)
    for (let i = 1; i <= 20; i++) {
      // Both tabs write at once: one the title, the other the priority.
      await Promise.all([
        one.act('update', name, id, { title: `counter ${i}` }),
        two.act('update', name, id, { priority: i })
      ])
    }
    const final = ['counter 20:false:20']
    await one.act('waitForRows', name, final, WAIT_MS)
    await two.act('waitForRows', name, final, WAIT_MS)
    await one.act('close', name)
    await two.act('close', name)
    const three = await anotherTab(one)
    await three.act('open', name)
    await three.act('waitForRows', name, final, WAIT_MS)
    // A write loads the record's document from the store: it holds every write too.
    await three.act('update', name, id, { done: true })
    await three.act('waitForRows', name, ['counter 20:true:20'], WAIT_MS)
  })
})
