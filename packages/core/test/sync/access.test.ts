/**
 * Restricted databases: owners grant and revoke writers; every honest peer
 * drops writes of everyone else, on gossip and in catch-up.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createDatabase, UnauthorizedWriterError, type Database, type RejectedEvent } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, createTestPeer, disconnect, type TestPeer, closedAfterFile, NO_TIMERS } from './helpers.ts'
import { encodeEnvelope } from '../../src/sync/envelope.ts'
import { topicOf } from '../../src/sync/gossip.ts'
import { signerOf } from '../../src/access/identity.ts'
import * as Y from 'yjs'

const { peers, dbs } = closedAfterFile()

const replication = NO_TIMERS

async function member (owners: string[], peer?: TestPeer): Promise<{ peer: TestPeer, db: Database, rejected: RejectedEvent[] }> {
  peer ??= await createTestPeer()
  peers.push(peer)
  const db = await createDatabase({ name: 'restricted-test', peer, access: { owners }, replication })
  dbs.push(db)
  const rejected: RejectedEvent[] = []
  db.on('rejected', (e) => rejected.push(e))
  return { peer, db, rejected }
}

describe('a restricted database', { timeout: 90_000 }, () => {
  test('owners grant writers; writes of strangers are refused everywhere; revoked writers stop counting', async () => {
    const ownerPeer = await createTestPeer()
    const owners = [ownerPeer.libp2p.peerId.toString()]
    const a = await member(owners, ownerPeer)
    const b = await member(owners)
    const c = await member(owners)
    assert.equal(a.db.access.restricted, true)
    assert.deepEqual(a.db.access.owners, owners)
    assert.notEqual(a.db.address, (await createDatabase({ name: 'restricted-test', storage: (await import('@kadmium/core')).memoryStorage() })).address)
    await connect(a.peer, b.peer)
    await connect(a.peer, c.peer)
    await connect(b.peer, c.peer)
    await waitFor(() => a.db.status.peers === 2 && b.db.status.peers === 2 && c.db.status.peers === 2, 'everyone on the topic', 10_000)
    const ta = a.db.collection('todos', { schema: Todo })
    const tb = b.db.collection('todos', { schema: Todo })
    const tc = c.db.collection('todos', { schema: Todo })

    // Not yet granted: b may not write, and says so before anything is sent.
    assert.equal(b.db.access.canWrite(), false)
    await assert.rejects(tb.insert({ title: 'early', done: false }), UnauthorizedWriterError)

    // The owner writes; everyone gets it.
    const first = await ta.insert({ title: 'from the owner', done: false })
    await waitFor(async () => (await tb.get(first)) !== undefined && (await tc.get(first)) !== undefined, 'the owner\'s write everywhere')

    // A grant reaches every peer; b's writes then count everywhere.
    const granted = new Promise<void>((resolve) => { b.db.on('access', () => { resolve() }) })
    await a.db.access.grant(b.peer.libp2p.peerId.toString())
    await granted
    await waitFor(() => c.db.access.canWrite(b.peer.libp2p.peerId.toString()), 'the grant to reach c')
    const fromB = await tb.insert({ title: 'from b', done: false })
    await waitFor(async () => (await ta.get(fromB)) !== undefined && (await tc.get(fromB)) !== undefined, 'b\'s write everywhere')

    // c, a stranger, forges around its own check: signs an envelope itself and publishes it.
    const doc = new Y.Doc()
    doc.getMap('fields').set('title', 'forged')
    const envelope = await encodeEnvelope([{ collection: 'todos', target: 'record', id: first, update: Y.encodeStateAsUpdate(doc) }],
      signerOf(c.peer.privateKey), { address: a.db.address })
    await c.peer.libp2p.services.pubsub.publish(topicOf(a.db.address), envelope)
    await waitFor(() => a.rejected.some((e) => e.reason.startsWith('UnauthorizedWriterError')), 'a to refuse c\'s envelope')
    assert.equal((await ta.get(first))?.title, 'from the owner')

    // Revocation while b is cut off: b does not know, and writes.
    await disconnect(b.peer, a.peer)
    await disconnect(b.peer, c.peer)
    await a.db.access.revoke(b.peer.libp2p.peerId.toString())
    await waitFor(() => !c.db.access.canWrite(b.peer.libp2p.peerId.toString()), 'the revocation to reach c')
    assert.equal(b.db.access.canWrite(), true)
    const late = await tb.insert({ title: 'after revocation', done: false })
    await tb.update(fromB, (t) => { t.title = 'changed after revocation' })

    // Healed: b's catch-up is refused item by item; what b wrote before stays.
    await connect(b.peer, a.peer)
    await connect(b.peer, c.peer)
    await Promise.all([a.db.sync(), b.db.sync(), c.db.sync()])
    await waitFor(() => !b.db.access.canWrite(), 'b to learn it was revoked')
    await a.db.sync()
    assert.equal(await ta.get(late), undefined)
    assert.equal(await tc.get(late), undefined)
    assert.equal((await ta.get(fromB))?.title, 'from b')
    assert.equal((await tc.get(fromB))?.title, 'from b')
    assert.ok(a.rejected.some((e) => e.via === 'sync' && e.reason.startsWith('UnauthorizedWriterError')))
    await assert.rejects(tb.insert({ title: 'now it knows', done: false }), UnauthorizedWriterError)
  })

  test('only owners grant; owners cannot be revoked', async () => {
    const ownerPeer = await createTestPeer()
    const owners = [ownerPeer.libp2p.peerId.toString()]
    const a = await member(owners, ownerPeer)
    const b = await member(owners)
    await assert.rejects(b.db.access.grant(b.peer.libp2p.peerId.toString()), UnauthorizedWriterError)
    await assert.rejects(a.db.access.revoke(owners[0] as string), UnauthorizedWriterError)
    assert.deepEqual(a.db.access.writers(), owners)
  })
})
