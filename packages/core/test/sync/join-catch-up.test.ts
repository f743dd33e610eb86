/**
 * A write that gossip could not carry to a peer, because that peer's
 * subscription had not reached the writer yet, reaches it by a catch-up
 * once the subscription arrives, whichever peer leads, and not only at the
 * next periodic session. (Found by the peer suite in Chromium: a browser
 * that wrote right after connecting lost the write when it did not lead.)
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase } from '@kadmium/core'
import type { PeerId } from '@libp2p/interface'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { closedAfterFile, connect, createTestPeer, NO_TIMERS, type TestPeer } from './helpers.ts'

const { peers, dbs } = closedAfterFile()

/**
 * Holds back on `peer` what its gossipsub learns of `other`'s subscriptions
 * (its `subscription-change` events, and `other` among the subscribers)
 * until the returned function is called: as if `other`'s subscription were
 * still on its way.
 */
function holdSubscriptionsOf (peer: TestPeer, other: PeerId): () => void {
  const pubsub = peer.libp2p.services.pubsub
  const held: Event[] = []
  let holding = true
  const dispatch = pubsub.dispatchEvent.bind(pubsub)
  const subscribers = pubsub.getSubscribers.bind(pubsub)
  pubsub.dispatchEvent = (event: Event): boolean => {
    const from = (event as CustomEvent<{ peerId?: PeerId }>).detail?.peerId
    if (holding && event.type === 'subscription-change' && from?.equals(other) === true) {
      held.push(event)
      return true
    }
    return dispatch(event)
  }
  pubsub.getSubscribers = (topic: string): PeerId[] => subscribers(topic).filter((id) => !holding || !id.equals(other))
  return () => {
    holding = false
    for (const event of held.splice(0)) dispatch(event)
  }
}

test('a peer that does not lead, and wrote before it saw the leader\'s subscription, catches the leader up once it sees it', { timeout: 60_000 }, async () => {
  const [leader, follower] = (await Promise.all([createTestPeer(), createTestPeer()]))
    .sort((x, y) => x.libp2p.peerId.toString() < y.libp2p.peerId.toString() ? -1 : 1)
  peers.push(leader, follower)
  const release = holdSubscriptionsOf(follower, leader.libp2p.peerId)
  const f = await createDatabase({ name: 'joined', peer: follower, replication: NO_TIMERS })
  dbs.push(f)
  await connect(follower, leader)
  const l = await createDatabase({ name: 'joined', peer: leader, replication: NO_TIMERS })
  dbs.push(l)
  // The leader's session at open (with the follower, connected already) ends before the follower writes.
  await waitFor(() => l.status.lastSync !== undefined, 'the leader\'s first catch-up with the follower', 20_000)
  assert.equal(f.status.peers, 0, 'the follower has not seen the leader\'s subscription')
  const id = await f.collection('todos', { schema: Todo }).insert({ title: 'written before the subscription arrived', done: false })
  // Gossip had no one to carry it to; the leader's subscription now arrives at the follower.
  release()
  const todos = l.collection('todos', { schema: Todo })
  await waitFor(async () => (await todos.get(id, { network: false })) !== undefined, 'the follower\'s write at the leader (periodic catch-up is an hour away)', 20_000)
})
