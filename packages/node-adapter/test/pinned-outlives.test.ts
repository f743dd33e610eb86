/**
 * A pinned database outlives its writer: the writer leaves for good, one
 * `kadmium serve` peer pins the database, 100 simulated hours pass (kad-dht
 * drops what is not put again within 48), and a newcomer opens the
 * database by its address and reads every record.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createDatabase, type Database } from '@kadmium/core'
import { identifyAgain, simulatedTime } from '@kadmium/core/testing'
import { z } from 'zod'
import { KadmiumServer } from '../src/cli/server.ts'
import { LOOPBACK_TCP, PeerSandbox, waitFor } from './fixtures/peers.ts'

const HOUR = 60 * 60 * 1000
const Todo = z.object({ title: z.string(), n: z.number() })
const time = simulatedTime()
const replication = { syncInterval: 600_000, discoveryInterval: 600_000, dhtReadTimeout: 10_000, dht: { clock: time.clock } }
const sandbox = new PeerSandbox()
const dbs: Database[] = []
let server: KadmiumServer | undefined
after(async () => {
  await Promise.allSettled(dbs.splice(0).map(async (db) => db.close()))
  await server?.close()
  await sandbox.close()
  time.restore()
})

test('the writer gone for good, a pinning server alive, 100 hours later a newcomer opens the database by address and reads every record', { timeout: 240_000 }, async () => {
  const first = await sandbox.peer('dht-0')
  const bootstrap = [first.multiaddrs[0]?.toString() ?? '']
  const mesh = [first, await sandbox.peer('dht-1', { bootstrap }), await sandbox.peer('dht-2', { bootstrap })]
  const meshAddresses = mesh.map((peer) => peer.multiaddrs[0]?.toString() ?? '')

  const writerPeer = await sandbox.peer('writer', { bootstrap: meshAddresses })
  const writer = await createDatabase({ name: 'pinned-for-days', peer: writerPeer, replication })
  dbs.push(writer)
  const todos = writer.collection('todos', { schema: Todo })
  const records = new Map<string, { title: string, n: number }>()
  for (let n = 0; n < 20; n++) {
    const value = { title: `todo ${n}`, n }
    records.set(await todos.insert(value, { durability: { replicas: 2 } }), value)
  }

  const started = await KadmiumServer.start({
    dataDir: await sandbox.dir('server'),
    listen: LOOPBACK_TCP,
    announce: [],
    bootstrap: [...meshAddresses, writerPeer.multiaddrs[0]?.toString() ?? ''],
    pins: [writer.address],
    network: 'local',
    mdns: false,
    openTimeout: 10_000,
    log: () => {},
    replication
  })
  server = started
  const pin = async (): Promise<{ records: number, waiting: number }> => {
    const status = (await started.status()).pins[0]
    return { records: status?.records?.todos ?? 0, waiting: status?.dht?.waiting ?? 1 }
  }
  await waitFor('the server to hold every record', async () => (await pin()).records === records.size, 30_000)

  // The writer leaves for good.
  dbs.splice(dbs.indexOf(writer), 1)
  await writer.close()
  await writerPeer.close()

  for (let hour = 0; hour < 100; hour++) {
    await time.advance(HOUR)
    await identifyAgain([...mesh, started.peer].map((peer) => peer.libp2p))
    await waitFor('the server\'s republished records put', async () => (await pin()).waiting === 0, 30_000)
  }

  const newcomerPeer = await sandbox.peer('newcomer', { bootstrap: meshAddresses })
  const newcomer = await createDatabase({ address: writer.address, peer: newcomerPeer, replication, openTimeout: 30_000 })
  dbs.push(newcomer)
  assert.equal(newcomer.name, 'pinned-for-days')
  const theirs = newcomer.collection('todos', { schema: Todo })
  await theirs.fetchFromDht()
  await waitFor('every record on the newcomer', async () => await theirs.count() === records.size, 30_000)
  for (const [id, value] of records) assert.deepEqual({ ...await theirs.get(id, { network: false }) }, { id, ...value })
})
