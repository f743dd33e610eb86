import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createDatabase, type Database } from '@kadmium/core'
import { z } from 'zod'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, createTestPeer, disconnect, type TestPeer, closedAfterFile } from './helpers.ts'

const { peers, dbs } = closedAfterFile()

async function peerWithDb (): Promise<{ peer: TestPeer, db: Database }> {
  const peer = await createTestPeer()
  peers.push(peer)
  const db = await createDatabase({ name: 'live-test', peer, replication: { discoveryInterval: 3_600_000 } })
  dbs.push(db)
  return { peer, db }
}

describe('two peers', { timeout: 60_000 }, () => {
  test('inserts, updates and deletes travel live; remote subscriptions fire', async () => {
    const a = await peerWithDb()
    const b = await peerWithDb()
    assert.equal(a.db.address, b.db.address)
    await connect(a.peer, b.peer)
    await waitFor(() => a.db.status.peers === 1 && b.db.status.peers === 1, 'both peers on the topic', 10_000)
    const ta = a.db.collection('todos', { schema: Todo })
    const tb = b.db.collection('todos', { schema: Todo })
    const seen: string[][] = []
    tb.subscribe({ where: { done: false }, orderBy: 'title' }, (rows) => seen.push(rows.map((r) => r.title)))
    const origins: string[] = []
    tb.on('change', (e) => origins.push(`${e.type}:${e.origin}`))

    const id = await ta.insert({ title: 'milk', done: false })
    await waitFor(async () => (await tb.get(id))?.title === 'milk', 'the insert to arrive')
    await ta.update(id, (t) => { t.title = 'oat milk' })
    await waitFor(async () => (await tb.get(id))?.title === 'oat milk', 'the update to arrive')
    await tb.update(id, (t) => { t.done = true })
    await waitFor(async () => (await ta.get(id))?.done === true, 'the update from b to arrive at a')
    await ta.delete(id)
    await waitFor(async () => (await tb.get(id)) === undefined, 'the delete to arrive')
    assert.deepEqual(seen.at(-1), [])
    assert.ok(seen.some((titles) => titles.includes('oat milk')))
    assert.deepEqual(origins.filter((o) => o.endsWith(':remote')).slice(0, 2), ['insert:remote', 'update:remote'])
    assert.ok(origins.includes('delete:remote'))
  })

  test('offline writes on both sides sync after reconnecting; concurrent field edits both survive', async () => {
    const a = await peerWithDb()
    const b = await peerWithDb()
    const ta = a.db.collection('todos', { schema: Todo })
    const tb = b.db.collection('todos', { schema: Todo })
    await connect(a.peer, b.peer)
    const shared = await ta.insert({ title: 'shared', done: false, priority: 1 })
    await waitFor(async () => (await tb.get(shared)) !== undefined, 'the shared record to arrive')
    await disconnect(a.peer, b.peer)
    await waitFor(() => !a.db.status.online && !b.db.status.online, 'both offline')
    const onlyA = await ta.insert({ title: 'written on a', done: false })
    const onlyB = await tb.insert({ title: 'written on b', done: true })
    await ta.update(shared, (t) => { t.done = true })
    await tb.update(shared, (t) => { t.title = 'shared, renamed' })
    await connect(b.peer, a.peer)
    await waitFor(async () => await ta.count() === 3 && await tb.count() === 3, 'catch-up on both sides', 15_000)
    await waitFor(async () => {
      const [ra, rb] = [await ta.get(shared), await tb.get(shared)]
      return ra?.done === true && ra.title === 'shared, renamed' && rb?.done === true && rb.title === 'shared, renamed'
    }, 'both field edits on both sides')
    assert.equal((await tb.get(onlyA))?.title, 'written on a')
    assert.equal((await ta.get(onlyB))?.title, 'written on b')
    assert.ok(a.db.status.lastSync instanceof Date || b.db.status.lastSync instanceof Date)
  })

  test('writes made in one tick travel in one gossip message', async () => {
    const a = await peerWithDb()
    const b = await peerWithDb()
    await connect(a.peer, b.peer)
    await waitFor(() => a.db.status.peers === 1 && b.db.status.peers === 1, 'both peers on the topic', 10_000)
    let messages = 0
    b.peer.libp2p.services.pubsub.addEventListener('message', (e) => { if (e.detail.topic.startsWith('/kadmium/db/')) messages++ })
    const ta = a.db.collection('batch', { schema: Todo })
    const tb = b.db.collection('batch', { schema: Todo })
    await Promise.all(Array.from({ length: 100 }, async (_, i) => ta.insert({ title: `t${i}`, done: false })))
    await waitFor(async () => await tb.count() === 100, 'the 100 records at b')
    assert.ok(messages <= 2, `100 writes of one tick came in ${messages} message(s)`)
  })

  test('a record too large for gossip arrives through catch-up', async () => {
    const a = await peerWithDb()
    const b = await peerWithDb()
    await connect(a.peer, b.peer)
    await waitFor(() => a.db.status.peers === 1 && b.db.status.peers === 1, 'both peers on the topic', 10_000)
    const Blob = z.object({ data: z.instanceof(Uint8Array) })
    const ba = a.db.collection('blobs', { schema: Blob })
    const bb = b.db.collection('blobs', { schema: Blob })
    const data = Uint8Array.from({ length: 4 * 1024 * 1024 }, (_, i) => i % 253)
    const id = await ba.insert({ data })
    await waitFor(async () => (await bb.get(id, { network: false }))?.data.length === data.length, 'the 4 MiB record at b', 20_000)
    assert.ok(Buffer.from((await bb.get(id))!.data).equals(Buffer.from(data)))
  })
})
