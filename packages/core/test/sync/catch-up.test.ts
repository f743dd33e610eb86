import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase, type Database, type StorageAdapter } from '@kadmium/core'
import { Note, Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, createTestPeer, type TestPeer, closedAfterFile } from './helpers.ts'

const { peers, dbs } = closedAfterFile()

async function open (storages?: Map<string, StorageAdapter>): Promise<{ peer: TestPeer, db: Database }> {
  const peer = await createTestPeer(storages)
  peers.push(peer)
  const db = await createDatabase({ name: 'catch-up', peer, replication: { discoveryInterval: 3_600_000 } })
  dbs.push(db)
  return { peer, db }
}

test('a peer that was offline catches up on 1,000 records, with progress events', { timeout: 60_000 }, async () => {
  const a = await open()
  const ta = a.db.collection('todos', { schema: Todo })
  const ids: string[] = []
  for (let i = 0; i < 1000; i += 100) {
    ids.push(...await Promise.all(Array.from({ length: 100 }, async (_, k) => ta.insert({ title: `t${i + k}`, done: (i + k) % 2 === 0, priority: i + k }))))
  }
  await ta.update(ids[0] as string, (t) => { t.title = 'edited' })
  await ta.delete(ids[1] as string)
  const notes = a.db.collection('notes', { schema: Note, text: ['body'] })
  const noteId = await notes.insert({ title: 'n', body: 'collaborative' })

  const b = await open()
  const progress: Array<[number, number]> = []
  let done = false
  b.db.on('sync', (e) => {
    // The first session's progress (another may follow once b's subscription reaches a: it has its own).
    if (e.phase === 'progress' && !done) progress.push([e.done, e.total])
    if (e.phase === 'done' && e.total > 0) done = true
  })
  const tb = b.db.collection('todos', { schema: Todo })
  const started = performance.now()
  await connect(b.peer, a.peer)
  await waitFor(() => done, 'the catch-up session to finish', 30_000)
  const ms = performance.now() - started
  assert.equal(await tb.count(), 999)
  assert.equal((await tb.get(ids[0] as string))?.title, 'edited')
  assert.equal(await tb.get(ids[1] as string), undefined)
  assert.equal(await tb.count({ where: { done: true } }), 500)
  // A collection b never opened came along too.
  const nb = b.db.collection('notes', { schema: Note, text: ['body'] })
  assert.equal((await nb.get(noteId))?.body, 'collaborative')
  assert.ok(progress.length >= 2, `progress was reported (${progress.length} events)`)
  const last = progress.at(-1) as [number, number]
  assert.equal(last[0], last[1])
  assert.ok(last[1] >= 1000, `the plan announced every record (${last[1]})`)
  assert.ok(progress.every(([d, t], i) => d <= t && (i === 0 || d >= (progress[i - 1] as [number, number])[0])), `progress only grows: ${JSON.stringify(progress)}`)
  console.log(`caught up on 1,000 records in ${ms.toFixed(0)} ms`)

  // A second session finds nothing to send.
  let again = -1
  b.db.on('sync', (e) => { if (e.phase === 'done') again = e.total })
  await b.db.sync()
  await a.db.sync()
  await waitFor(() => again === 0, 'an empty second session')
})

test('a restarted peer keeps its data and catches up with what it missed', { timeout: 60_000 }, async () => {
  const a = await open()
  const ta = a.db.collection('todos', { schema: Todo })
  const storages = new Map<string, StorageAdapter>()
  const b1 = await open(storages)
  await connect(b1.peer, a.peer)
  const first = await ta.insert({ title: 'before', done: false })
  const tb1 = b1.db.collection('todos', { schema: Todo })
  await waitFor(async () => (await tb1.get(first)) !== undefined, 'the first record at b')
  await b1.db.close()
  await b1.peer.close()
  const second = await ta.insert({ title: 'while b was away', done: false })
  const b2 = await open(storages)
  const tb2 = b2.db.collection('todos', { schema: Todo })
  assert.equal((await tb2.get(first))?.title, 'before', 'kept across the restart')
  await connect(b2.peer, a.peer)
  await waitFor(async () => (await tb2.get(second)) !== undefined, 'the missed record at b', 15_000)
})

test('sessions that cross (both peers call sync at once) run once, and each side ends with everything', { timeout: 60_000 }, async () => {
  const quiet = { syncInterval: 3_600_000, discoveryInterval: 3_600_000 }
  const [a, b] = await Promise.all([0, 1].map(async () => {
    const peer = await createTestPeer()
    peers.push(peer)
    const db = await createDatabase({ name: 'crossing', peer, replication: quiet })
    dbs.push(db)
    return { peer, db }
  })) as [{ peer: TestPeer, db: Database }, { peer: TestPeer, db: Database }]
  const ta = a.db.collection('todos', { schema: Todo })
  const tb = b.db.collection('todos', { schema: Todo })
  await ta.insert({ title: 'from a', done: false, priority: 1 })
  await tb.insert({ title: 'from b', done: false, priority: 2 })
  const starts = { a: 0, b: 0 }
  a.db.on('sync', (e) => { if (e.phase === 'start') starts.a++ })
  b.db.on('sync', (e) => { if (e.phase === 'start') starts.b++ })
  await connect(a.peer, b.peer)
  // The sessions the connection starts, then both sides at once.
  await waitFor(async () => await ta.count() === 2 && await tb.count() === 2, 'both records on both peers', 30_000)
  const before = { ...starts }
  await Promise.all([a.db.sync(), b.db.sync()])
  assert.equal(starts.a - before.a, 1, 'one session on a')
  assert.equal(starts.b - before.b, 1, 'one session on b')
  assert.equal(await ta.count(), 2)
  assert.equal(await tb.count(), 2)
})

test('a peer that does not lead catches up on its periodic timer when no session with the leader ever ran', { timeout: 60_000 }, async () => {
  const [leader, follower] = (await Promise.all([createTestPeer(), createTestPeer()])).sort((x, y) => x.libp2p.peerId.toString() < y.libp2p.peerId.toString() ? -1 : 1)
  peers.push(leader, follower)
  // Every session the leader dials fails (it leads: the follower would wait for it forever), and the follower's too, at first.
  const failing = (peer: TestPeer, failed: () => boolean): void => {
    const dial = peer.libp2p.dialProtocol.bind(peer.libp2p)
    peer.libp2p.dialProtocol = async (...args) => {
      if (String(args[1]).includes('/kadmium/sync') && failed()) throw new Error('session refused by the test')
      return dial(...args)
    }
  }
  let followerFails = true
  let followerTried = 0
  failing(leader, () => true)
  failing(follower, () => {
    followerTried++
    return followerFails
  })
  const a = await createDatabase({ name: 'led', peer: leader, replication: { discoveryInterval: 3_600_000, syncInterval: 3_600_000 } })
  dbs.push(a)
  const id = await a.collection('todos', { schema: Todo }).insert({ title: 'only by catch-up', done: false })
  await connect(follower, leader)
  const b = await createDatabase({ name: 'led', peer: follower, replication: { discoveryInterval: 3_600_000, syncInterval: 500 } })
  dbs.push(b)
  await waitFor(() => followerTried > 0, 'the follower\'s first session to fail', 10_000)
  followerFails = false
  const todos = b.collection('todos', { schema: Todo })
  await waitFor(async () => (await todos.get(id, { network: false })) !== undefined, 'the record, by the follower\'s periodic catch-up', 20_000)
})
