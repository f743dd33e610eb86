/**
 * A database opened without a peer starts replicating later
 * (`db.replicate(peer)`), as a browser tab does when it takes the network
 * over from another; and updates another database on the same storage made
 * (another tab, without a network) reach peers live once applied with
 * `publish`.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase, memoryStorage, type Database, type SharedStorage, type StorageAdapter } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { closedAfterFile, connect, createTestPeer, NO_TIMERS } from './helpers.ts'

const { peers, dbs } = closedAfterFile()

/** One storage as each database opens it (closing one handle leaves the others open). */
function handle (storage: StorageAdapter): StorageAdapter {
  return {
    get: async (key) => storage.get(key),
    put: async (key, value) => storage.put(key, value),
    delete: async (key) => storage.delete(key),
    scan: (prefix, options) => storage.scan(prefix, options),
    batch: async (operations) => storage.batch(operations)
  }
}

const exclusive: SharedStorage = {
  exclusive: async (work) => work() // (no compaction runs in these tests)
}

async function opened (db: Promise<Database>): Promise<Database> {
  dbs.push(await db)
  return dbs.at(-1) as Database
}

test('a database opened without a peer replicates once given one: what it holds goes out, writes travel live both ways', { timeout: 60_000 }, async () => {
  const remote = await createTestPeer()
  peers.push(remote)
  const there = await opened(createDatabase({ name: 'late', peer: remote, replication: NO_TIMERS }))
  const storage = memoryStorage()
  const here = await opened(createDatabase({ name: 'late', storage: handle(storage), sharedStorage: exclusive, replication: NO_TIMERS }))
  const offline = await here.collection('todos', { schema: Todo }).insert({ title: 'written offline', done: false })
  assert.equal(here.peer, undefined)
  assert.equal(here.status.online, false)

  const local = await createTestPeer()
  peers.push(local)
  await here.replicate(local)
  assert.equal(here.peer, local)
  await assert.rejects(here.replicate(local), { name: 'InvalidArgumentError' })
  await connect(local, remote)
  const todosThere = there.collection('todos', { schema: Todo })
  const todosHere = here.collection('todos', { schema: Todo })
  await waitFor(async () => (await todosThere.get(offline)) !== undefined, 'the offline write at the peer (catch-up)', 20_000)
  await waitFor(() => here.status.peers === 1 && there.status.peers === 1, 'both on the topic', 20_000)
  assert.equal(here.status.online, true)
  const fromThere = await todosThere.insert({ title: 'from there', done: false })
  await waitFor(async () => (await todosHere.get(fromThere)) !== undefined, 'the peer\'s write here, live', 20_000)
  const fromHere = await todosHere.insert({ title: 'from here', done: true })
  await waitFor(async () => (await todosThere.get(fromHere)) !== undefined, 'this write at the peer, live', 20_000)

  // Another database on the same storage, with no network (another tab): its write reaches
  // the peer only through this one, applied with `publish` (no timer runs a catch-up).
  const tab = await opened(createDatabase({ name: 'late', storage: handle(storage), sharedStorage: exclusive }))
  tab.on('update', (u) => {
    if (u.origin !== 'local') return
    void here.applyRemoteUpdate({ collection: u.collection, target: u.target, ...(u.id !== undefined ? { id: u.id } : {}), update: u.update }, { publish: true })
  })
  const fromTab = await tab.collection('todos', { schema: Todo }).insert({ title: 'from another tab', done: false })
  await waitFor(async () => (await todosThere.get(fromTab))?.title === 'from another tab', 'the other tab\'s write at the peer, live', 20_000)
  await waitFor(async () => (await todosHere.get(fromTab)) !== undefined, 'the other tab\'s write here')
})

test('replicate() refuses what is not a peer, and a closed database', async () => {
  const db = await createDatabase({ name: 'late-refused', storage: memoryStorage() })
  await assert.rejects(db.replicate({} as never), { name: 'InvalidArgumentError' })
  assert.equal(db.peer, undefined)
  await db.close()
  const peer = await createTestPeer()
  peers.push(peer)
  await assert.rejects(db.replicate(peer), { name: 'DatabaseClosedError' })
})
