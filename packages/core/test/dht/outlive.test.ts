/**
 * Data outlives its writers in the DHT, over simulated days: kad-dht drops
 * what was put more than 48 hours ago, so only what a replica republishes
 * (its records, its indexes, the manifest, the access list) is there for
 * a newcomer that meets DHT peers only.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createDatabase, type Database, type DatabaseOptions, type StorageAdapter } from '@kadmium/core'
import { identifyAgain, simulatedTime } from '@kadmium/core/testing'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { headKey } from '../../src/dht/dht-keys.ts'
import { DhtStore } from '../../src/dht/dht-store.ts'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { closedAfterFile, connect, createTestPeer, type TestPeer } from '../sync/helpers.ts'

const HOUR = 60 * 60 * 1000
const time = simulatedTime()
after(() => { time.restore() })
const { peers, dbs } = closedAfterFile()
const replication = { discoveryInterval: 3_600_000, syncInterval: 3_600_000, dhtReadTimeout: 10_000, dht: { clock: time.clock } }

async function peer (options: Parameters<typeof createTestPeer>[0] = {}, nodes: readonly TestPeer[] = []): Promise<TestPeer> {
  const p = await createTestPeer(options)
  peers.push(p)
  for (const node of nodes) await connect(p, node)
  return p
}

async function open (options: DatabaseOptions): Promise<Database> {
  const db = await createDatabase(options)
  dbs.push(db)
  return db
}

/** Lets `hours` pass an hour at a time, each time waiting until `db`'s DHT puts are done. */
async function pass (hours: number, db: Database): Promise<void> {
  for (let h = 0; h < hours; h++) {
    await time.advance(HOUR)
    await identifyAgain(peers.map((p) => p.libp2p))
    await waitFor(() => db.status.dht?.waiting === 0, 'the republished records put', 30_000)
  }
}

test('a granted writer writes, restarts, 50 hours pass: a newcomer that meets DHT peers only reads every record and the access list', { timeout: 240_000 }, async () => {
  const mesh = await Promise.all([peer(), peer(), peer(), peer()])
  for (let i = 0; i < mesh.length; i++) for (let j = i + 1; j < mesh.length; j++) await connect(mesh[i] as TestPeer, mesh[j] as TestPeer)

  // The owner grants a writer, puts one record of another database (never republished: the control), and leaves for good.
  const ownerPeer = await peer({}, mesh)
  const owner = await open({ name: 'outlive', peer: ownerPeer, access: { owners: [ownerPeer.libp2p.peerId.toString()] }, replication })
  const control = await open({ name: 'control', peer: ownerPeer, replication })
  const controlId = await control.collection('todos', { schema: Todo }).insert({ title: 'put once', done: false }, { durability: { replicas: 2 } })
  const storages = new Map<string, StorageAdapter>()
  const privateKey = await generateKeyPair('Ed25519')
  const first = await peer({ storages, privateKey }, [...mesh, ownerPeer])
  await owner.access.grant(first.libp2p.peerId.toString())

  // The writer opens it by address, catches up, writes (by the DHT too), and restarts.
  const writer = await open({ address: owner.address, peer: first, replication })
  await waitFor(() => writer.access.canWrite(), 'the grant reached the writer', 20_000)
  const todos = writer.collection('todos', { schema: Todo })
  const ids: string[] = []
  for (let n = 0; n < 5; n++) ids.push(await todos.insert({ title: `todo ${n}`, done: n % 2 === 0 }, { durability: { replicas: 2 } }))
  await owner.close()
  await control.close()
  await ownerPeer.close()
  await writer.close()
  await first.close()
  const again = await peer({ storages, privateKey }, mesh)
  const restarted = await open({ address: owner.address, peer: again, replication })
  assert.equal(await restarted.collection('todos', { schema: Todo }).count(), 5)

  await pass(50, restarted)

  const newcomerPeer = await peer({ never: [again.libp2p.peerId, ownerPeer.libp2p.peerId] }, mesh)
  const newcomer = await open({ address: owner.address, peer: newcomerPeer, replication })
  const rejected: string[] = []
  newcomer.on('rejected', (e) => rejected.push(e.reason))
  const theirs = newcomer.collection('todos', { schema: Todo })
  assert.equal(await theirs.fetchFromDht(), 5, 'every record found in the DHT')
  assert.deepEqual((await theirs.find()).map((row) => row.id).sort(), [...ids].sort())
  assert.deepEqual(await theirs.get(ids[1] as string), { id: ids[1], title: 'todo 1', done: false })
  assert.ok(newcomer.access.writers().includes(again.libp2p.peerId.toString()), 'the access list read from the DHT names the granted writer')
  assert.deepEqual(rejected.filter((r) => r.startsWith('UnauthorizedWriterError')), [], 'no head of the granted writer refused')

  // The control: what nobody republished is gone after 50 hours (it was there at first).
  const reader = new DhtStore(newcomerPeer.libp2p.services.dht, control.address, { queryTimeout: 5_000 })
  assert.equal(await reader.getRecordContent('todos', controlId, { complete: true }), undefined, 'the record put once is gone')
  await reader.stop()
})

test('a replica down across its records\' slots puts them within minutes of its restart, not a day later', { timeout: 120_000 }, async () => {
  const mesh = await Promise.all([peer(), peer(), peer()])
  for (let i = 0; i < mesh.length; i++) for (let j = i + 1; j < mesh.length; j++) await connect(mesh[i] as TestPeer, mesh[j] as TestPeer)
  const storages = new Map<string, StorageAdapter>()
  const privateKey = await generateKeyPair('Ed25519')
  const first = await peer({ storages, privateKey }, mesh)
  const db = await open({ name: 'resume', peer: first, replication })
  const todos = db.collection('todos', { schema: Todo })
  const ids: string[] = []
  for (let n = 0; n < 6; n++) ids.push(await todos.insert({ title: `todo ${n}`, done: false }))
  // Running an hour: it takes its records in for republishing and notes how far it went.
  await pass(1, db)
  await db.close()
  await first.close()

  // Down for 30 hours: every record's slot passed meanwhile.
  await time.advance(30 * HOUR)
  const again = await peer({ storages, privateKey }, mesh)
  const put = new Set<string>()
  const dht = again.libp2p.services.dht
  const original = dht.put.bind(dht)
  dht.put = (key, value, options) => {
    put.add(new TextDecoder().decode(key))
    return original(key, value, options)
  }
  const reopened = await open({ name: 'resume', peer: again, replication })
  const heads = ids.map((id) => new TextDecoder().decode(headKey(reopened.address, 'todos', id)))
  for (let minute = 0; minute < 12; minute++) {
    await time.advance(60_000)
    await waitFor(() => reopened.status.dht?.waiting === 0, 'the puts done', 30_000)
  }
  assert.deepEqual(heads.filter((key) => !put.has(key)), [], 'every record put again within 12 minutes')
})

test('the writer gone for good, one pinning peer alive, 100 hours later a newcomer opens the database by address and reads everything', { timeout: 300_000 }, async () => {
  const mesh = await Promise.all([peer(), peer(), peer()])
  for (let i = 0; i < mesh.length; i++) for (let j = i + 1; j < mesh.length; j++) await connect(mesh[i] as TestPeer, mesh[j] as TestPeer)
  const writerPeer = await peer({}, mesh)
  const writer = await open({ name: 'pinned-for-days', peer: writerPeer, replication })
  const todos = writer.collection('todos', { schema: Todo })
  const records = new Map<string, { title: string, done: boolean }>()
  for (let n = 0; n < 20; n++) {
    const value = { title: `todo ${n}`, done: n % 3 === 0 }
    records.set(await todos.insert(value, { durability: { replicas: 2 } }), value)
  }

  // The pinning peer opens it by address, as `kadmium serve --pin` does, and keeps it.
  const pinnerPeer = await peer({}, [...mesh, writerPeer])
  const pinned = await open({ address: writer.address, peer: pinnerPeer, replication })
  const held = pinned.collection('todos', { schema: Todo })
  await waitFor(async () => await held.count() === records.size, 'the pinning peer holds every record', 30_000)
  await writer.close()
  await writerPeer.close()

  // (Every DHT peer keeps the writer in its routing table: lookups that meet it must not stall the puts.)
  await pass(100, pinned)

  const newcomerPeer = await peer({ never: [pinnerPeer.libp2p.peerId] }, mesh)
  const newcomer = await open({ address: writer.address, peer: newcomerPeer, replication })
  assert.equal(newcomer.name, 'pinned-for-days', 'the manifest, republished by the pinning peer, found in the DHT')
  const theirs = newcomer.collection('todos', { schema: Todo })
  assert.equal(await theirs.fetchFromDht(), records.size)
  for (const [id, value] of records) assert.deepEqual(await theirs.get(id, { network: false }), { id, ...value })
})
