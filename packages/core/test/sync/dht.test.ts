import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import { MemoryDatastore } from 'datastore-core'
import { createDatabase, type Database } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, createTestPeer, routingTableSize, type TestPeer, closedAfterFile } from './helpers.ts'
import * as Y from 'yjs'
import { Libp2pRecord } from '@libp2p/record'
import { DhtStore } from '../../src/dht/dht-store.ts'
import { TOMBSTONE } from '../../src/dht/head.ts'
import { headKey } from '../../src/dht/dht-keys.ts'
import { OPEN_ACCESS } from '../../src/access/write-access.ts'
import { signerOf } from '../../src/access/identity.ts'
import { bytesEqual } from '../../src/util/hash.ts'
import { gated } from '../dht/helpers.ts'

const { peers, dbs } = closedAfterFile()

const quiet = { discoveryInterval: 3_600_000, syncInterval: 3_600_000, dhtReadTimeout: 10_000 }

/** A new test peer (closed after the file), connected to each of `nodes`. */
async function joinedPeer (nodes: readonly TestPeer[] = []): Promise<TestPeer> {
  const peer = await createTestPeer()
  peers.push(peer)
  for (const node of nodes) await connect(peer, node)
  return peer
}

/** `n` plain DHT peers (no database open), all connected to each other. */
async function dhtMesh (n: number): Promise<TestPeer[]> {
  const mesh = await Promise.all(Array.from({ length: n }, async () => createTestPeer()))
  peers.push(...mesh)
  for (let i = 0; i < mesh.length; i++) for (let j = i + 1; j < mesh.length; j++) await connect(mesh[i] as TestPeer, mesh[j] as TestPeer)
  return mesh
}

async function member (name: string, mesh: TestPeer[]): Promise<{ peer: TestPeer, db: Database }> {
  const peer = await joinedPeer(mesh)
  const db = await createDatabase({ name, peer, replication: quiet })
  dbs.push(db)
  return { peer, db }
}

/**
 * `peers` DHT peers, a writer with database `name` open among them, and one
 * todo `title` it inserted with `durability: { replicas }`.
 */
async function writerWithDurableTodo (peers: number, name: string, title: string, replicas: number) {
  const mesh = await dhtMesh(peers)
  const a = await member(name, mesh)
  const ta = a.db.collection('todos', { schema: Todo })
  const id = await ta.insert({ title, done: false }, { durability: { replicas } })
  return { mesh, a, ta, id }
}

/**
 * A new peer connected to every DHT peer, whose DHT reads hear from
 * `loner` only once `open()` is called, with database `name` open on it.
 */
async function gatedReader (name: string, mesh: TestPeer[], loner: TestPeer): Promise<{ c: Database, open: () => void }> {
  const reader = await joinedPeer([...mesh, loner])
  await waitFor(() => routingTableSize(reader) >= mesh.length + 1, 'the reader to know every DHT peer')
  const dht = reader.libp2p.services.dht
  const { holder, open } = gated(reader.libp2p, { getFrom: loner.libp2p.peerId })
  const get: typeof dht.get = (...args) => holder.services.dht.get(...args)
  Object.defineProperty(dht, 'get', { value: get, configurable: true })
  const c = await createDatabase({ name, peer: reader, replication: quiet })
  dbs.push(c)
  return { c, open }
}

test('a record outlives its writer in the DHT: a peer that never met the writer reads it', { timeout: 90_000 }, async () => {
  const { mesh, a, ta, id } = await writerWithDurableTodo(5, 'durable', 'kept by strangers', 2)
  await ta.update(id, (t) => { t.done = true }, { durability: { replicas: 2 } })
  await a.db.close()
  await a.peer.close()

  const c = await member('durable', mesh)
  assert.ok(c.peer.libp2p.getConnections(a.peer.libp2p.peerId).length === 0, 'c never met a')
  const tc = c.db.collection('todos', { schema: Todo })
  assert.equal(await tc.get(id, { network: false }), undefined, 'c does not hold it')
  assert.deepEqual(await tc.get(id), { id, title: 'kept by strangers', done: true })
  assert.equal(await tc.count(), 1, 'and now holds it')

  // A delete travels through the DHT too: the index's tombstone.
  await tc.delete(id, { durability: { replicas: 2 } })
  await c.db.close()
  await c.peer.close()
  const d = await member('durable', mesh)
  const td = d.db.collection('todos', { schema: Todo })
  assert.equal(await td.get(id), undefined, 'the deleted record is not found')
  await assert.rejects(td.insert({ title: 'again', done: false }, { id }), { name: 'RecordDeletedError' })
})

test('a database opened by its address on another peer', { timeout: 60_000 }, async () => {
  const { mesh, a, id } = await writerWithDurableTodo(3, 'by-address', 'x', 1)
  const peer = await joinedPeer(mesh)
  const db = await createDatabase({ address: a.db.address, peer, replication: quiet })
  dbs.push(db)
  assert.equal(db.name, 'by-address')
  const todos = db.collection('todos', { schema: Todo })
  await waitFor(async () => (await todos.get(id)) !== undefined, 'the record on the peer that opened by address', 30_000)
  await assert.rejects(createDatabase({ name: 'other', address: a.db.address, peer }), { name: 'InvalidArgumentError' })
})

test('durability: { replicas } resolves with enough DHT peers and rejects with too few', { timeout: 60_000 }, async () => {
  const { ta, id } = await writerWithDurableTodo(3, 'replicas', 'safe', 3)
  assert.ok(id.length > 0)
  await assert.rejects(ta.insert({ title: 'too many wanted', done: false }, { durability: { replicas: 10, timeout: 5000 } }), (error: Error & { acknowledged: number, wanted: number }) => {
    assert.equal(error.name, 'DurabilityError')
    assert.equal(error.wanted, 10)
    assert.ok(error.acknowledged < 10)
    return true
  })
  // The local write stands even so.
  assert.equal(await ta.count(), 2)
  const lone = await joinedPeer()
  const alone = await createDatabase({ name: 'replicas-alone', peer: lone, replication: quiet })
  dbs.push(alone)
  await assert.rejects(alone.collection('todos', { schema: Todo }).insert({ title: 'nobody', done: false }, { durability: { replicas: 1 } }), { name: 'DurabilityError' })
  const local = await createDatabase({ name: 'no-peer', storage: (await import('@kadmium/core')).memoryStorage() })
  dbs.push(local)
  await assert.rejects(local.collection('todos', { schema: Todo }).insert({ title: 'x', done: false }, { durability: { replicas: 1 } }), { name: 'DurabilityError' })
})

test('a 5 MiB record round-trips through the DHT', { timeout: 120_000 }, async () => {
  const mesh = await dhtMesh(3)
  const a = await member('big', mesh)
  const Blob = z.object({ data: z.instanceof(Uint8Array), note: z.string() })
  const ba = a.db.collection('blobs', { schema: Blob })
  const data = Uint8Array.from({ length: 5 * 1024 * 1024 }, (_, i) => (i * 31 + 7) % 251)
  const id = await ba.insert({ data, note: 'five mebibytes' }, { durability: { replicas: 1, timeout: 60_000 } })
  await a.db.close()
  await a.peer.close()
  const c = await member('big', mesh)
  const bc = c.db.collection('blobs', { schema: Blob })
  const row = await bc.get(id)
  assert.equal(row?.note, 'five mebibytes')
  assert.equal(row.data.length, data.length)
  assert.ok(Buffer.from(row.data).equals(Buffer.from(data)), 'the bytes are identical')
})

test('a database created offline puts its manifest in the DHT once a peer connects: others open it by address after it left', { timeout: 60_000 }, async () => {
  const datastore = new MemoryDatastore()
  const stranger = await createTestPeer({ datastore })
  peers.push(stranger)
  const offline = await joinedPeer()
  const db = await createDatabase({ name: 'made-offline', peer: offline, replication: quiet })
  dbs.push(db)
  const stored = async (): Promise<number> => {
    let n = 0
    for await (const _ of datastore.query({ prefix: '/dht/record' })) n++
    return n
  }
  assert.equal(await stored(), 0)
  await connect(offline, stranger)
  await waitFor(async () => await stored() > 0, 'the manifest at the stranger', 15_000)
  await db.close()
  await offline.close()
  const later = await joinedPeer()
  await connect(later, stranger)
  await waitFor(() => routingTableSize(later) > 0, 'the stranger in the routing table')
  const opened = await createDatabase({ address: db.address, peer: later, replication: quiet })
  dbs.push(opened)
  assert.equal(opened.name, 'made-offline')
})

test('a durable write resolves at its N-th acknowledgement and reaches every DHT peer afterwards; a read answers with the first replicas and applies what a later one holds', { timeout: 60_000 }, async () => {
  // DHT peers whose stored values the test can see.
  const stores = Array.from({ length: 4 }, () => new MemoryDatastore())
  const mesh = await Promise.all(stores.map(async (datastore) => createTestPeer({ datastore })))
  peers.push(...mesh)
  for (let i = 0; i < mesh.length; i++) for (let j = i + 1; j < mesh.length; j++) await connect(mesh[i] as TestPeer, mesh[j] as TestPeer)
  const holds = async (datastore: MemoryDatastore, key: Uint8Array): Promise<boolean> => {
    for await (const { value } of datastore.query({ prefix: '/dht/record/' })) if (bytesEqual(Libp2pRecord.deserialize(value).key, key)) return true
    return false
  }
  const a = await member('early', mesh)
  // (A lookup reaches only the peers a routing table knows.)
  await waitFor(() => routingTableSize(a.peer) >= mesh.length, 'the writer to know every DHT peer')
  const ta = a.db.collection('todos', { schema: Todo })
  const id = await ta.insert({ title: 'first', done: false }, { durability: { replicas: 1 } })
  const key = headKey(a.db.address, 'todos', id)
  await waitFor(async () => (await Promise.all(stores.map(async (d) => holds(d, key)))).every(Boolean), 'every DHT peer to hold the record', 15_000)
  // Closing right after a durable write ends the rest of its put cleanly.
  await ta.insert({ title: 'second', done: false }, { durability: { replicas: 1 } })
  await a.db.close()

  // Bob writes the record while alone, then joins: only his node holds his head.
  const loner = await joinedPeer()
  const bob = { signer: signerOf(loner.privateKey), access: OPEN_ACCESS }
  const look = new DhtStore((mesh[0] as TestPeer).libp2p.services.dht, a.db.address, {}, bob)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, await look.getRecord('todos', id, { complete: true }) ?? new Uint8Array())
  await look.stop()
  doc.getMap('fields').set('done', true)
  const alone = new DhtStore(loner.libp2p.services.dht, a.db.address, {}, bob)
  assert.equal(await alone.putRecord('todos', id, Y.encodeStateAsUpdate(doc)), 0)
  await alone.stop()
  for (const m of mesh) await connect(loner, m)

  // The reader hears from Bob's node only after its read answered.
  const { c, open } = await gatedReader('early', mesh, loner)
  const tc = c.collection('todos', { schema: Todo })
  const changes: string[] = []
  c.on('change', (e) => { if (e.id !== undefined) changes.push(e.id) })
  assert.deepEqual(await tc.get(id), { id, title: 'first', done: false }, 'the first replicas\' state')
  open()
  await waitFor(async () => (await tc.get(id, { network: false }))?.done === true, 'the later replica\'s head in the local database', 15_000)
  assert.ok(changes.includes(id), 'subscribers saw it')
  await c.close()
})

test('a durable delete puts a tombstone: a fresh peer reads nothing, and a later head of the live state does not bring the record back', { timeout: 90_000 }, async () => {
  const { mesh, a, ta, id } = await writerWithDurableTodo(4, 'deletes', 'to delete', 2)
  // Bob holds the live record (he read it before the delete) and never hears of the delete.
  const bobPeer = await joinedPeer(mesh)
  const bob = new DhtStore(bobPeer.libp2p.services.dht, a.db.address, {}, { signer: signerOf(bobPeer.privateKey), access: OPEN_ACCESS })
  const live = await bob.getRecord('todos', id, { complete: true })
  assert.ok(live !== undefined, 'Bob read the record')
  await ta.delete(id, { durability: { replicas: 2 } })
  await a.db.close()
  await a.peer.close()
  // Bob's edit of the live state: a head newer than the tombstone.
  const doc = new Y.Doc()
  Y.applyUpdate(doc, live)
  doc.getMap('fields').set('done', true)
  assert.ok(await bob.putRecord('todos', id, Y.encodeStateAsUpdate(doc)) >= 1)

  const d = await member('deletes', mesh)
  const td = d.db.collection('todos', { schema: Todo })
  assert.equal(await td.get(id), undefined, 'deleted: the tombstone wins over Bob\'s later head')
  await assert.rejects(td.insert({ title: 'again', done: false }, { id }), { name: 'RecordDeletedError' }, 'the tombstone is in the local index')
  // Known deleted here, the record is not looked up in the DHT again.
  const dht = d.peer.libp2p.services.dht
  const dhtGet = dht.get.bind(dht)
  let lookups = 0
  const counted: typeof dht.get = (...args) => { lookups++; return dhtGet(...args) }
  Object.defineProperty(dht, 'get', { value: counted, configurable: true })
  assert.equal(await td.get(id), undefined)
  assert.equal(lookups, 0, 'no DHT read for a record deleted here')
  Object.defineProperty(dht, 'get', { value: dhtGet, configurable: true })
  // Bob's next edit arrives too: the record stays deleted.
  doc.getMap('fields').set('title', 'edited after the delete')
  assert.ok(await bob.putRecord('todos', id, Y.encodeStateAsUpdate(doc)) >= 1)
  assert.equal(await td.get(id), undefined)
  assert.equal(await td.count(), 0)
  await bob.stop()
})

test('a tombstone only a later replica holds deletes the record on a reader that answered with the live state', { timeout: 60_000 }, async () => {
  const { mesh, a, id } = await writerWithDurableTodo(3, 'late-delete', 'short-lived', 2)
  await a.db.close()
  // Bob deletes while alone (only his node holds his tombstone), then joins.
  const loner = await joinedPeer()
  const bob = new DhtStore(loner.libp2p.services.dht, a.db.address, {}, { signer: signerOf(loner.privateKey), access: OPEN_ACCESS })
  assert.equal(await bob.putRecord('todos', id, TOMBSTONE), 0)
  await bob.stop()
  for (const m of mesh) await connect(loner, m)

  const { c, open } = await gatedReader('late-delete', mesh, loner)
  const tc = c.collection('todos', { schema: Todo })
  const deletes: string[] = []
  c.on('change', (e) => { if (e.type === 'delete' && e.id !== undefined) deletes.push(e.id) })
  assert.deepEqual(await tc.get(id), { id, title: 'short-lived', done: false }, 'the first replicas\' state')
  open()
  await waitFor(async () => await tc.get(id, { network: false }) === undefined, 'the later tombstone to delete the record here', 15_000)
  assert.ok(deletes.includes(id), 'subscribers saw the delete')
  await assert.rejects(tc.update(id, (t) => { t.done = true }), { name: 'RecordDeletedError' }, 'the tombstone is in the local index')
})

test('in a restricted database a non-writer\'s tombstone is ignored; an owner\'s durable delete holds', { timeout: 90_000 }, async () => {
  const mesh = await dhtMesh(3)
  const ownerPeer = await joinedPeer(mesh)
  const owners = [ownerPeer.libp2p.peerId.toString()]
  const restricted = async (peer: TestPeer): Promise<Database> => {
    const db = await createDatabase({ name: 'restricted-deletes', peer, access: { owners }, replication: quiet })
    dbs.push(db)
    return db
  }
  const a = await restricted(ownerPeer)
  const ta = a.collection('todos', { schema: Todo })
  const kept = await ta.insert({ title: 'kept', done: false }, { durability: { replicas: 2 } })
  const gone = await ta.insert({ title: 'gone', done: false }, { durability: { replicas: 2 } })
  await ta.delete(gone, { durability: { replicas: 2 } })
  await a.close()
  // Mallory (no writer) signs a well-formed tombstone: servers store it, they cannot tell.
  const mallory = mesh[0] as TestPeer
  const forger = new DhtStore(mallory.libp2p.services.dht, a.address, {}, { signer: signerOf(mallory.privateKey), access: OPEN_ACCESS })
  assert.ok(await forger.putRecord('todos', kept, TOMBSTONE) >= 1)
  await forger.stop()

  const dPeer = await joinedPeer(mesh)
  const d = await restricted(dPeer)
  const rejected: string[] = []
  d.on('rejected', (e) => rejected.push(e.reason))
  const td = d.collection('todos', { schema: Todo })
  assert.deepEqual(await td.get(kept), { id: kept, title: 'kept', done: false }, 'Mallory\'s tombstone changes nothing')
  assert.ok(rejected.some((r) => r.startsWith('UnauthorizedWriterError:')), 'and is reported')
  assert.equal(await td.get(gone), undefined, 'the owner\'s tombstone holds')
  assert.deepEqual((await td.find()).map((r) => r.id), [kept])
})

test('an encrypted database: a durable delete reaches a member that never met the writer', { timeout: 60_000 }, async () => {
  const mesh = await dhtMesh(3)
  const key = crypto.getRandomValues(new Uint8Array(32))
  const open = async (): Promise<{ peer: TestPeer, db: Database }> => {
    const peer = await createTestPeer()
    peers.push(peer)
    for (const m of mesh) await connect(peer, m)
    const db = await createDatabase({ name: 'sealed-deletes', peer, encryption: { key }, replication: quiet })
    dbs.push(db)
    return { peer, db }
  }
  const a = await open()
  const ta = a.db.collection('todos', { schema: Todo })
  const kept = await ta.insert({ title: 'kept', done: false }, { durability: { replicas: 2 } })
  const gone = await ta.insert({ title: 'gone', done: false }, { durability: { replicas: 2 } })
  await ta.delete(gone, { durability: { replicas: 2 } })
  await a.db.close()
  await a.peer.close()
  const d = await open()
  const td = d.db.collection('todos', { schema: Todo })
  assert.deepEqual(await td.get(kept), { id: kept, title: 'kept', done: false })
  assert.equal(await td.get(gone), undefined)
  await assert.rejects(td.insert({ title: 'again', done: false }, { id: gone }), { name: 'RecordDeletedError' })
})

test('a delete that does not wait for the DHT puts its tombstone in the background (closing flushes it)', { timeout: 60_000 }, async () => {
  const { mesh, a, ta, id } = await writerWithDurableTodo(3, 'background-delete', 'fleeting', 2)
  // The insert's background puts are done: the delete's tombstone is a put of its own.
  await waitFor(() => a.db.status.pendingWrites === 0, 'the insert\'s background puts', 15_000)
  await ta.delete(id)
  await a.db.close()
  await a.peer.close()
  const d = await member('background-delete', mesh)
  const td = d.db.collection('todos', { schema: Todo })
  assert.equal(await td.get(id), undefined)
  await assert.rejects(td.insert({ title: 'again', done: false }, { id }), { name: 'RecordDeletedError' })
})
