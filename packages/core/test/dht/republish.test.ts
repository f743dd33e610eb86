/**
 * What a replica holds is put in the DHT again after a restart, without
 * any new write: every record and the collection index, spread over the
 * republish interval (short here), and the manifest.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase, type StorageAdapter } from '@kadmium/core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { headKey } from '../../src/dht/dht-keys.ts'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { closedAfterFile, connect, createTestPeer, type TestPeer } from '../sync/helpers.ts'

const { peers, dbs } = closedAfterFile()
const decoder = new TextDecoder()

/** Records the keys a peer's DHT puts, from now on. */
function putKeys (peer: TestPeer): Set<string> {
  const keys = new Set<string>()
  const dht = peer.libp2p.services.dht
  const put = dht.put.bind(dht)
  dht.put = (key, value, options) => {
    keys.add(decoder.decode(key))
    return put(key, value, options)
  }
  return keys
}

test('a restarted replica puts every record it holds, its index and its manifest again, with no new write', { timeout: 60_000 }, async () => {
  const mesh = await Promise.all([createTestPeer(), createTestPeer(), createTestPeer()])
  peers.push(...mesh)
  for (let i = 0; i < mesh.length; i++) for (let j = i + 1; j < mesh.length; j++) await connect(mesh[i] as TestPeer, mesh[j] as TestPeer)
  const storages = new Map<string, StorageAdapter>()
  const privateKey = await generateKeyPair('Ed25519')
  const replication = { discoveryInterval: 3_600_000, syncInterval: 3_600_000, dht: { republishInterval: 3_000 } }

  const first = await createTestPeer({ storages, privateKey })
  peers.push(first)
  for (const node of mesh) await connect(first, node)
  const db = await createDatabase({ name: 'republished', peer: first, replication })
  const todos = db.collection('todos', { schema: Todo })
  const ids = await Promise.all([1, 2, 3, 4].map(async (n) => todos.insert({ title: `t${n}`, done: false })))
  await db.close()
  await first.close()

  // The same identity and storage, restarted: no write at all.
  const again = await createTestPeer({ storages, privateKey })
  peers.push(again)
  const keys = putKeys(again)
  for (const node of mesh) await connect(again, node)
  const reopened = await createDatabase({ name: 'republished', peer: again, replication })
  dbs.push(reopened)
  const heads = [...ids, null].map((id) => decoder.decode(headKey(reopened.address, 'todos', id)))
  await waitFor(() => heads.every((key) => keys.has(key)), 'every record and the index put again', 20_000)
  assert.equal(await reopened.collection('todos', { schema: Todo }).count(), 4)
  await waitFor(() => (reopened.status.dht?.republishing ?? 0) >= 5, 'every record and the index kept for republishing', 20_000)
  const dht = reopened.status.dht
  assert.ok(dht?.nextRepublish instanceof Date && dht.nextRepublish.getTime() > Date.now() - 1000, 'the next republish is due')
})
