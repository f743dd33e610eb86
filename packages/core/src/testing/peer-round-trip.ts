import { createDatabase, type Database, type Peer, type Row } from '../index.ts'
import { assert, assertDeepEqual } from './assert.ts'
import type { Note } from './note-schema.ts'
import { closeAll, DEFAULT_WAIT_MS, dialPeer, idOf, notesOf, SUITE_REPLICATION, waitUntil, type PeerHarness } from './peer-harness.ts'

/**
 * What a platform runs in a fresh process for {@link PeerHarness.exitsCleanly}
 * (that process should then end by itself): two peers from `harness`, a
 * database on each; a record written before they connect arrives by
 * catch-up, one written after by gossip (with `durability: { replicas: 1 }`,
 * so a DHT put runs too) and reaches a live query; then every database and
 * peer is closed, and neither peer has a connection left. Throws
 * (`AssertionError` or the failing call's error) if anything fails; closes
 * what it opened either way.
 *
 * @example
 * ```ts
 * // a child process, spawned by the Node adapter's harness:
 * await peerRoundTrip({ create: async (name) => nodePeer({ dataDir: join(root, name), listen: ['/ip4/127.0.0.1/tcp/0'] }) })
 * // nothing else: the process must now exit by itself
 * ```
 */
export async function peerRoundTrip (harness: Pick<PeerHarness, 'create' | 'connect' | 'waitMs'>): Promise<void> {
  const waitMs = harness.waitMs ?? DEFAULT_WAIT_MS
  const connect = harness.connect?.bind(harness) ?? dialPeer
  const peers: Peer[] = []
  const databases: Database[] = []
  const open = async (peer: Peer): Promise<Database> => {
    const db = await createDatabase({ name: 'round-trip', peer, replication: SUITE_REPLICATION })
    databases.push(db)
    return db
  }
  try {
    const a = await harness.create('round-trip-a')
    peers.push(a)
    const b = await harness.create('round-trip-b')
    peers.push(b)
    const notesA = notesOf(await open(a))
    const notesB = notesOf(await open(b))
    await notesA.insert({ title: 'before', rank: 1, done: false }, { id: 'before' })
    let rows: ReadonlyArray<Row<Note>> = []
    const stop = notesB.subscribe({ orderBy: 'rank' }, (result) => { rows = result })
    await connect(a, b)
    await waitUntil('the record written before connecting at B', () => rows.length === 1, waitMs)
    await notesA.insert({ title: 'after', rank: 2, done: false }, { id: 'after', durability: { replicas: 1, timeout: waitMs } })
    await waitUntil('the record written after connecting at B', () => rows.length === 2, waitMs)
    stop()
    assertDeepEqual(rows.map((row) => row.id), ['before', 'after'], 'the live query on B')
    // Closed one by one here, so that a close that fails fails the round trip.
    for (const db of databases) await db.close()
    for (const peer of peers) await peer.close()
    for (const peer of peers) {
      assert(peer.libp2p.getConnections().length === 0, `peer ${idOf(peer)} has ${peer.libp2p.getConnections().length} connection(s) left after closing`)
    }
  } finally {
    await closeAll(databases, peers)
  }
}
