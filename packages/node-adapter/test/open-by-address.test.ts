/**
 * Opening a shared database by its address from a fresh peer: the open
 * waits for the peers it is still connecting to, takes the manifest from
 * whichever source answers first, and says why when it cannot.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { createDatabase, memoryStorage, type Database } from '@kadmium/core'
import { z } from 'zod'
import { PeerSandbox, waitFor } from './fixtures/peers.ts'

const Todo = z.object({ title: z.string(), done: z.boolean(), n: z.number() })
/** No periodic work: what a test sees comes from the open itself. */
const QUIET = { syncInterval: 600_000, discoveryInterval: 600_000 }

const sandbox = new PeerSandbox()
const dbs: Database[] = []
after(async () => {
  await Promise.allSettled(dbs.splice(0).map(async (db) => db.close()))
  await sandbox.close()
})

/** A writer peer with a database of `n` todos; returns its address to dial and the records. */
async function writer (name: string, n: number): Promise<{ bootstrap: string, db: Database, records: Map<string, { title: string, done: boolean, n: number }> }> {
  const peer = await sandbox.peer(`${name}-writer`)
  const db = await createDatabase({ name, peer, replication: QUIET })
  dbs.push(db)
  const todos = db.collection('todos', { schema: Todo })
  const records = new Map<string, { title: string, done: boolean, n: number }>()
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, async (_, k) => {
      const value = { title: `todo ${i + k}`, done: (i + k) % 3 === 0, n: i + k }
      records.set(await todos.insert(value), value)
    }))
  }
  return { bootstrap: `${peer.multiaddrs[0]?.toString() ?? ''}`, db, records }
}

describe('opening a database by address', { timeout: 120_000 }, () => {
  test('right after nodePeer() resolves, with no retry: the open waits for the bootstrap dial and gets every record', async () => {
    const { bootstrap, db, records } = await writer('fresh-open', 5)
    const peer = await sandbox.peer('fresh-open-joiner', { bootstrap: [bootstrap] })
    const opened = await createDatabase({ address: db.address, peer, replication: QUIET })
    dbs.push(opened)
    assert.equal(opened.name, 'fresh-open')
    const todos = opened.collection('todos', { schema: Todo })
    await waitFor('every record on the joiner', async () => await todos.count() === records.size)
    for (const [id, value] of records) assert.deepEqual({ ...await todos.get(id, { network: false }) }, { id, ...value })
  })

  test('1,000 records: every one arrives, and a live query during the catch-up only ever shows whole records, growing to the full set', async () => {
    const { bootstrap, db, records } = await writer('thousand', 1000)
    const peer = await sandbox.peer('thousand-joiner', { bootstrap: [bootstrap] })
    const opened = await createDatabase({ address: db.address, peer, replication: QUIET })
    dbs.push(opened)
    const todos = opened.collection('todos', { schema: Todo })
    const sizes: number[] = []
    let inconsistent: string | undefined
    const stop = todos.subscribe({}, (rows) => {
      sizes.push(rows.length)
      for (const row of rows) {
        const { id, ...value } = row
        const expected = records.get(id)
        if (expected === undefined || JSON.stringify(value) !== JSON.stringify(expected)) inconsistent ??= `${id}: ${JSON.stringify(row)}`
      }
    })
    try {
      await waitFor('1,000 records in the live query', () => sizes.at(-1) === 1000, 60_000)
    } finally {
      stop()
    }
    assert.equal(inconsistent, undefined, 'a row the writer never wrote')
    assert.ok(sizes.every((size, i) => i === 0 || size >= (sizes[i - 1] as number)), `the result never shrinks: ${sizes.join(', ')}`)
    assert.equal(await todos.count(), 1000)
  })

  test('the catch-up session rides on the stream the manifest came on: one sync stream dialed, one session, every record', async () => {
    const { bootstrap, db, records } = await writer('ride', 50)
    const served: string[] = []
    db.on('sync', (event) => { if (event.phase === 'start') served.push(event.peer) })
    const peer = await sandbox.peer('ride-joiner', { bootstrap: [bootstrap] })
    const dialed: string[] = []
    const dial = peer.libp2p.dialProtocol.bind(peer.libp2p)
    peer.libp2p.dialProtocol = (async (...args: Parameters<typeof dial>) => {
      dialed.push(String(args[1]))
      return dial(...args)
    })
    const opened = await createDatabase({ address: db.address, peer, replication: QUIET })
    dbs.push(opened)
    const todos = opened.collection('todos', { schema: Todo })
    await waitFor('every record on the joiner', async () => await todos.count() === records.size)
    assert.deepEqual(dialed.filter((protocol) => protocol.startsWith('/kadmium/sync/')), ['/kadmium/sync/1.0.0'], 'the manifest request, and no second sync stream')
    assert.deepEqual(served, [peer.peerId.toString()], 'the writer ran one session, with the joiner')
  })

  test('a database opened here before opens by address again with no network: its manifest is kept in the data directory', async () => {
    const { bootstrap, db, records } = await writer('offline-again', 3)
    const first = await sandbox.peer('offline-again-joiner', { bootstrap: [bootstrap] })
    const opened = await createDatabase({ address: db.address, peer: first, replication: QUIET })
    const todos = opened.collection('todos', { schema: Todo })
    await waitFor('every record on the joiner', async () => await todos.count() === records.size)
    await opened.close()
    await first.close()
    // The same data directory, no bootstrap peer, nothing to reach.
    const again = await sandbox.peer('offline-again-joiner')
    const reopened = await createDatabase({ address: db.address, peer: again, replication: QUIET, openTimeout: 1000 })
    dbs.push(reopened)
    assert.equal(reopened.name, 'offline-again')
    const local = reopened.collection('todos', { schema: Todo })
    assert.equal(await local.count(), records.size)
    for (const [id, value] of records) assert.deepEqual({ ...await local.get(id, { network: false }) }, { id, ...value })
  })

  test('an address nobody has: DatabaseNotFoundError once the timeout is over, with peers reached', async () => {
    const { bootstrap } = await writer('someone-else', 1)
    const nowhere = await createDatabase({ name: 'nobody-has-this', storage: memoryStorage() })
    const address = nowhere.address
    await nowhere.close()
    const peer = await sandbox.peer('nobody-joiner', { bootstrap: [bootstrap] })
    await assert.rejects(createDatabase({ address, peer, openTimeout: 1500 }), (error: Error & { address?: string }) => {
      assert.equal(error.name, 'DatabaseNotFoundError')
      assert.equal(error.address, address)
      return true
    })
  })

  test('no peer reachable at all: PeersUnreachableError', async () => {
    const { db } = await writer('unreachable', 1)
    // A bootstrap address where nothing listens (a port taken and let go).
    const gone = await sandbox.peer('gone')
    const address = gone.multiaddrs[0]?.toString() ?? ''
    await gone.close()
    const peer = await sandbox.peer('lonely', { bootstrap: [address] })
    await assert.rejects(createDatabase({ address: db.address, peer, openTimeout: 1500 }), { name: 'PeersUnreachableError' })
  })

  test('a malformed address is refused at once', async () => {
    const peer = await sandbox.peer('malformed')
    await assert.rejects(createDatabase({ address: 'not-an-address', peer }), { name: 'InvalidArgumentError' })
  })
})
