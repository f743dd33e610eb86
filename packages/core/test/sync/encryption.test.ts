/**
 * End-to-end encrypted databases: members sync; a DHT peer that stores the
 * data sees ciphertext only; a wrong key is a named error.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { createDatabase, DecryptionError, type Database, type RejectedEvent } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, createTestPeer, routingTableSize as routing, type TestPeer, closedAfterFile, NO_TIMERS } from './helpers.ts'
import { encodeEnvelope } from '../../src/sync/envelope.ts'
import { topicOf } from '../../src/sync/gossip.ts'
import { SYNC_PROTOCOL } from '../../src/sync/sync-messages.ts'
import { messages, readMessage, writeMessage } from '../../src/sync/sync-session.ts'
import { signerOf } from '../../src/access/identity.ts'
import { deriveSecret } from '../../src/crypto/secret.ts'
import * as Y from 'yjs'

const { peers, dbs } = closedAfterFile()

const replication = NO_TIMERS
const key = crypto.getRandomValues(new Uint8Array(32))
const SECRET_TITLE = 'the secret plans for the surprise party'

async function peer (datastore?: MemoryDatastore): Promise<TestPeer> {
  const p = await createTestPeer(datastore === undefined ? {} : { datastore })
  peers.push(p)
  return p
}

async function open (p: TestPeer, options: { address?: string } = {}): Promise<{ db: Database, rejected: RejectedEvent[] }> {
  const db = await createDatabase(options.address === undefined
    ? { name: 'encrypted-test', peer: p, encryption: { key }, replication }
    : { address: options.address, peer: p, encryption: { key }, replication })
  dbs.push(db)
  const rejected: RejectedEvent[] = []
  db.on('rejected', (e) => rejected.push(e))
  return { db, rejected }
}

function contains (haystack: Uint8Array, needle: string): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle))
}

describe('an encrypted database', { timeout: 90_000 }, () => {
  test('members sync live and by catch-up; a storing DHT peer holds ciphertext only; outsiders are refused', async () => {
    const storeOfStranger = new MemoryDatastore()
    const stranger = await peer(storeOfStranger)
    const pa = await peer()
    const pb = await peer()
    const a = await open(pa)
    assert.equal(a.db.encrypted, true)
    await connect(pa, stranger)
    await connect(pb, stranger)
    await waitFor(() => routing(pa) > 0, 'the stranger in a\'s routing table')
    const ta = a.db.collection('todos', { schema: Todo })
    const id = await ta.insert({ title: SECRET_TITLE, done: false }, { durability: { replicas: 1, timeout: 15_000 } })

    // The stranger (no database, no key) stored the DHT records: nothing in them is readable.
    // (The insert resolved at its first acknowledgement, maybe b's: the rest of its puts reach the stranger after.)
    const stored: Array<{ key: string, value: Uint8Array }> = []
    await waitFor(async () => {
      stored.length = 0
      for await (const { key: k, value } of storeOfStranger.query({ prefix: '/dht/record' })) stored.push({ key: k.toString(), value })
      return stored.length >= 3
    }, 'the stranger to store Kadmium\'s records (manifest, record, index)', 15_000)
    for (const { key: k, value } of stored) {
      for (const plain of [SECRET_TITLE, 'todos', id, 'encrypted-test']) {
        assert.ok(!contains(value, plain), `"${plain}" is not in a stored value`)
        assert.ok(!k.includes(plain), `"${plain}" is not in a stored key`)
      }
    }

    // Another member catches up (by address) and then receives live updates.
    await connect(pa, pb)
    await waitFor(() => routing(pb) >= 2, 'a and the stranger in b\'s routing table')
    const b = await open(pb, { address: a.db.address })
    assert.equal(b.db.name, 'encrypted-test')
    const tb = b.db.collection('todos', { schema: Todo })
    await waitFor(async () => (await tb.get(id))?.title === SECRET_TITLE, 'the catch-up to bring the record', 15_000)
    await waitFor(() => a.db.status.peers === 1 && b.db.status.peers === 1, 'both on the topic', 10_000)
    await ta.update(id, (t) => { t.done = true })
    await waitFor(async () => (await tb.get(id))?.done === true, 'the live update', 10_000)

    // A peer with another key cannot catch up: the key proof fails before anything is sent.
    const pc = await peer()
    await connect(pc, pa)
    await waitFor(() => routing(pc) > 0, 'a in c\'s routing table')
    const wrongKey = crypto.getRandomValues(new Uint8Array(32))
    const c = await createDatabase({ name: 'encrypted-test', peer: pc, encryption: { key: wrongKey }, replication })
    dbs.push(c)
    assert.notEqual(c.address, a.db.address, 'another key is another database')
    await assert.rejects(createDatabase({ address: a.db.address, peer: pc, encryption: { key: wrongKey }, replication }), DecryptionError)
  })

  test('outsiders with the address: catch-up refused without a key proof; envelopes in the clear or under another key refused', async () => {
    const pa = await peer()
    const outsider = await peer()
    const a = await open(pa)
    const ta = a.db.collection('todos', { schema: Todo })
    const id = await ta.insert({ title: SECRET_TITLE, done: false })
    await connect(outsider, pa)

    // Catch-up: a hello without a proof is answered with an error, before anything is sent.
    const stream = await outsider.libp2p.dialProtocol(pa.libp2p.peerId, SYNC_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    const lp = messages(stream)
    await writeMessage(lp, { t: 'h', v: 2, db: a.db.address, n: crypto.getRandomValues(new Uint8Array(16)) })
    const answer = await readMessage(lp, 5000)
    assert.equal(answer.t, 'e')
    stream.abort(new Error('done'))
    await waitFor(() => a.rejected.some((e) => e.via === 'sync' && e.reason.startsWith('DecryptionError')), 'the refused session reported')

    // Gossip: plain entries, and entries sealed under another key, are refused by the validator.
    outsider.libp2p.services.pubsub.subscribe(topicOf(a.db.address))
    await waitFor(() => a.db.status.peers === 1, 'the outsider on the topic', 10_000)
    const doc = new Y.Doc()
    doc.getMap('fields').set('title', 'overwritten')
    const entries = [{ collection: 'todos', target: 'record' as const, id, update: Y.encodeStateAsUpdate(doc) }]
    const signer = signerOf(outsider.privateKey)
    await outsider.libp2p.services.pubsub.publish(topicOf(a.db.address), await encodeEnvelope(entries, signer, { address: a.db.address }))
    const wrong = await deriveSecret({ key: crypto.getRandomValues(new Uint8Array(32)) }, new Uint8Array(0))
    await outsider.libp2p.services.pubsub.publish(topicOf(a.db.address), await encodeEnvelope(entries, signer, { address: a.db.address, sealer: wrong }))
    await waitFor(() => a.rejected.some((e) => e.reason.startsWith('DecryptionError')) &&
      a.rejected.some((e) => e.reason.startsWith('MalformedMessageError')), 'both envelopes refused')
    assert.equal((await ta.get(id))?.title, SECRET_TITLE)
  })

  test('the same passphrase and name open the same database on another device', async () => {
    const p1 = await peer()
    const p2 = await peer()
    const one = await createDatabase({ name: 'diary', peer: p1, encryption: { passphrase: 'correct horse battery staple' }, replication })
    dbs.push(one)
    const two = await createDatabase({ name: 'diary', peer: p2, encryption: { passphrase: 'correct horse battery staple' }, replication })
    dbs.push(two)
    assert.equal(one.address, two.address)
    const other = await createDatabase({ name: 'diary', peer: await peer(), encryption: { passphrase: 'Tr0ub4dor&3' }, replication })
    dbs.push(other)
    assert.notEqual(other.address, one.address)
    await connect(p1, p2)
    const id = await one.collection('todos', { schema: Todo }).insert({ title: 'dear diary', done: false })
    await waitFor(async () => (await two.collection('todos', { schema: Todo }).get(id))?.title === 'dear diary', 'the record on the second device', 15_000)
  })
})
