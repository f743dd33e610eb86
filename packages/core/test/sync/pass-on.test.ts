/**
 * What a peer learns by catch-up reaches its other peers without waiting
 * for the periodic session: catch-up updates are not gossiped, so the
 * peer that took them in catches its other peers up. (Found by the todo
 * example: a window that edited offline came back; the server caught up
 * with it, but the other window saw the edits only at the next periodic
 * session, 30 s later.)
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { closedAfterFile, connect, createTestPeer, disconnect, NO_TIMERS } from './helpers.ts'

const { peers, dbs } = closedAfterFile()

test('a write that reached a hub by catch-up reaches the hub\'s other peers, with no periodic session', { timeout: 60_000 }, async () => {
  // A and B never connect to each other: all goes through the hub.
  const hub = await createTestPeer()
  const b = await createTestPeer()
  const a = await createTestPeer({ never: [b.libp2p.peerId] })
  peers.push(a, hub, b)
  const neverAB = (): boolean => a.libp2p.getConnections(b.libp2p.peerId).length === 0
  await connect(a, hub)
  await connect(b, hub)
  const [dbA, dbHub, dbB] = await Promise.all([a, hub, b].map(async (peer) => await createDatabase({ name: 'pass-on', peer, replication: NO_TIMERS })))
  dbs.push(dbA as NonNullable<typeof dbA>, dbHub as NonNullable<typeof dbHub>, dbB as NonNullable<typeof dbB>)
  await waitFor(() => dbHub?.status.peers === 2, 'the hub to see both peers on the topic', 20_000)
  // A goes offline and writes.
  await disconnect(a, hub)
  const id = await dbA?.collection('todos', { schema: Todo }).insert({ title: 'written offline', done: false }) as string
  // A comes back: the catch-up between A and the hub brings the hub the write (gossip never carried it).
  await connect(a, hub)
  const hubTodos = dbHub?.collection('todos', { schema: Todo })
  await waitFor(async () => (await hubTodos?.get(id, { network: false })) !== undefined, 'the hub to catch up with A', 20_000)
  // B, connected to the hub all along, gets it from the hub: not by gossip, not by a periodic session (none runs).
  const bTodos = dbB?.collection('todos', { schema: Todo })
  await waitFor(async () => (await bTodos?.get(id, { network: false }))?.title === 'written offline', 'B to get the write from the hub', 20_000)
  assert.equal((await bTodos?.get(id, { network: false }))?.title, 'written offline')
  assert.ok(neverAB(), 'A and B were never connected')
})
