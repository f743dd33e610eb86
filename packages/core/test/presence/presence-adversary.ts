/**
 * A raw peer on a database's presence topic, for the presence tests: it
 * speaks the wire format by hand (no database, no checks of its own).
 * @module
 */
import { presenceTopicOf } from '../../src/presence/presence-channel.ts'
import { waitFor } from '../helpers/wait.ts'
import { Adversary } from '../adversary/harness.ts'
import type { TestPeer } from '../sync/helpers.ts'

/** An {@link Adversary} subscribed to a database's presence topic. */
export interface PresenceAdversary {
  readonly adversary: Adversary
  readonly topic: string
  /** Publishes any bytes on the topic. */
  readonly publish: (bytes: Uint8Array) => Promise<void>
}

/**
 * Starts an adversary, connects it to `honest`, subscribes it to the
 * presence topic of `address`, and waits until it sees `honest`
 * subscribed (so that what it publishes reaches it). Stop it with
 * `adversary.close()`.
 */
export async function presenceAdversary (honest: TestPeer, address: string): Promise<PresenceAdversary> {
  const adversary = await Adversary.create()
  await adversary.connect({ libp2p: honest.libp2p } as unknown as TestPeer)
  const topic = presenceTopicOf(address)
  const pubsub = adversary.libp2p.services.pubsub
  pubsub.subscribe(topic)
  await waitFor(() => pubsub.getSubscribers(topic).some((p) => p.equals(honest.libp2p.peerId)), 'the honest peer\'s presence subscription', 10_000)
  return {
    adversary,
    topic,
    publish: async (bytes) => { await pubsub.publish(topic, bytes) }
  }
}
