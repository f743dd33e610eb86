/**
 * An envelope lost on the way (gossip gives no guarantee) leaves a gap: the
 * updates after it wait for it. The reader asks the writer for a catch-up
 * itself, not waiting for the periodic one (off here).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createDatabase, type Database, type RejectedEvent } from '@kadmium/core'
import { Todo, type Todos } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { closedAfterFile, connect, createTestPeer, NO_TIMERS, type TestPeer } from './helpers.ts'

const { peers, dbs } = closedAfterFile()

/** Makes `peer`'s gossipsub lose the next envelope it publishes; resolves once it did. */
function loseNextEnvelope (peer: TestPeer): Promise<void> {
  const pubsub = peer.libp2p.services.pubsub
  const publish = pubsub.publish.bind(pubsub)
  return new Promise((resolve) => {
    pubsub.publish = async () => {
      pubsub.publish = publish
      resolve()
      return { recipients: [] }
    }
  })
}

/** Writer a and reader b of database `name`, connected, without periodic catch-up. */
async function writerAndReader (name: string): Promise<{ pa: TestPeer, ta: Todos, tb: Todos, rejected: RejectedEvent[] }> {
  const [pa, pb] = await Promise.all([createTestPeer(), createTestPeer()])
  peers.push(pa, pb)
  const a = await createDatabase({ name, peer: pa, replication: NO_TIMERS })
  const b = await createDatabase({ name, peer: pb, replication: NO_TIMERS })
  dbs.push(a, b)
  const rejected: RejectedEvent[] = []
  b.on('rejected', (e) => rejected.push(e))
  await connect(pa, pb)
  await waitFor(() => a.status.peers === 1 && b.status.peers === 1, 'a and b on the topic', 10_000)
  return { pa, ta: a.collection('todos', { schema: Todo }), tb: b.collection('todos', { schema: Todo }), rejected }
}

/**
 * Writer `pa` inserts a record and, once `reader` has it, edits it five
 * times; the first edit's envelope is lost. Resolves once the last edit is
 * at `reader`.
 */
async function editsAcrossALoss (pa: TestPeer, ta: Todos, reader: Todos): Promise<void> {
  const id = await ta.insert({ title: 'edit 0', done: false })
  await waitFor(async () => (await reader.get(id, { network: false })) !== undefined, 'the record at the reader')
  const lost = loseNextEnvelope(pa)
  await ta.update(id, (t) => { t.title = 'edit 1' })
  await lost
  for (let i = 2; i <= 5; i++) await ta.update(id, (t) => { t.title = `edit ${i}` })
  await waitFor(async () => (await reader.get(id, { network: false }))?.title === 'edit 5', 'the last edit at the reader', 10_000)
}

test('a lost edit: the edits after it wait; a catch-up brings the last', { timeout: 30_000 }, async () => {
  const { pa, ta, tb, rejected } = await writerAndReader('lost-edit')
  await editsAcrossALoss(pa, ta, tb)
  assert.deepEqual(rejected, [])
})

test('a lost insert: the index updates after it wait; a catch-up makes every record visible', { timeout: 30_000 }, async () => {
  const { pa, ta, tb, rejected } = await writerAndReader('lost-insert')
  await ta.insert({ title: 'first', done: false })
  await waitFor(async () => await tb.count() === 1, 'the first record at b')
  const lost = loseNextEnvelope(pa)
  await ta.insert({ title: 'lost', done: false })
  await lost
  for (let i = 0; i < 5; i++) await ta.insert({ title: `after ${i}`, done: false })
  await waitFor(async () => await tb.count() === 7, 'every record listed at b', 10_000)
  assert.deepEqual((await tb.find()).map((t) => t.title).sort(), ['after 0', 'after 1', 'after 2', 'after 3', 'after 4', 'first', 'lost'])
  assert.deepEqual(rejected, [])
})

test('a gap two hops from the writer: filled through the neighbour that forwarded the updates', { timeout: 30_000 }, async () => {
  // a — b — c: c hears a only through b.
  const [ka, kc] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
  const [pa, pb, pc] = await Promise.all([
    createTestPeer({ privateKey: ka, never: [peerIdFromPrivateKey(kc)] }),
    createTestPeer(),
    createTestPeer({ privateKey: kc, never: [peerIdFromPrivateKey(ka)] })
  ])
  peers.push(pa, pb, pc)
  const open = async (peer: TestPeer): Promise<Database> => await createDatabase({ name: 'two-hops', peer, replication: NO_TIMERS })
  const [a, b, c] = await Promise.all([open(pa), open(pb), open(pc)])
  dbs.push(a, b, c)
  await connect(pa, pb)
  await connect(pb, pc)
  await waitFor(() => a.status.peers >= 1 && b.status.peers === 2 && c.status.peers >= 1, 'a line of peers on the topic', 10_000)
  await editsAcrossALoss(pa, a.collection('todos', { schema: Todo }), c.collection('todos', { schema: Todo }))
  assert.equal(pa.libp2p.getConnections(pc.libp2p.peerId).length, 0, 'a and c never met')
})
