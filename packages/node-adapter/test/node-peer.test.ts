import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { NodePeer } from '@kadmium/node'
import { blockKey, collect, PeerSandbox, plain, randomBlock, waitFor } from './fixtures/peers.ts'

const TEST_TIMEOUT = { timeout: 30_000 }

describe('nodePeer: two peers on loopback TCP', () => {
  const sandbox = new PeerSandbox()
  let a: NodePeer
  let b: NodePeer

  before(async () => {
    a = await sandbox.peer('a')
    const address = a.multiaddrs[0]
    assert.ok(address !== undefined, 'A listens on an address')
    b = await sandbox.peer('b', { bootstrap: [address.toString()] })
  })
  after(() => sandbox.close())

  test('listens on loopback only, with its peer id in the address', TEST_TIMEOUT, () => {
    assert.ok(a.multiaddrs.length > 0)
    for (const address of a.multiaddrs) {
      assert.match(address.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
      assert.equal(address.getComponents().at(-1)?.value, a.peerId.toString())
    }
  })

  test('B bootstraps from A: both see the connection', TEST_TIMEOUT, async () => {
    await waitFor('A and B connected', () => a.libp2p.getConnections(b.peerId).length > 0 && b.libp2p.getConnections(a.peerId).length > 0)
  })

  test('a gossipsub message on a topic both subscribe to arrives', TEST_TIMEOUT, async () => {
    const topic = 'kadmium-test/gossip'
    a.libp2p.services.pubsub.subscribe(topic)
    b.libp2p.services.pubsub.subscribe(topic)
    // A knows B's subscription once B's stream to A is open, but publishes only once its own stream to B
    // is: B seeing A's subscription (sent on that stream) shows it is.
    await waitFor('A and B to see each other subscribed', () =>
      a.libp2p.services.pubsub.getSubscribers(topic).some((p) => p.equals(b.peerId)) &&
      b.libp2p.services.pubsub.getSubscribers(topic).some((p) => p.equals(a.peerId)))

    const data = randomBlock(32)
    const received = new Promise<Uint8Array>((resolve) => {
      b.libp2p.services.pubsub.addEventListener('message', (event) => {
        if (event.detail.topic === topic) resolve(event.detail.data)
      })
    })
    const result = await a.libp2p.services.pubsub.publish(topic, data)
    assert.ok(result.recipients.some((p) => p.equals(b.peerId)), 'B is among the recipients')
    assert.deepEqual(plain(await withTimeout(received, 'the message at B')), data)
  })

  test('a valid block put on A is read on B', TEST_TIMEOUT, async () => {
    const value = randomBlock()
    const key = blockKey(value)
    // A's routing table learns B shortly after they connect: put until B has taken it.
    await waitFor('B to accept the put', async () => {
      const events = await collect(a.libp2p.services.dht.put(key, value, { signal: AbortSignal.timeout(5_000) }))
      return events.some((e) => e.name === 'PEER_RESPONSE' && e.messageName === 'PUT_VALUE' && e.from.equals(b.peerId))
    })
    const found = await collect(b.libp2p.services.dht.get(key, { signal: AbortSignal.timeout(5_000) }))
    const values = found.flatMap((e) => e.name === 'VALUE' ? [e.value] : [])
    assert.equal(values.length, 1)
    assert.deepEqual(plain(values[0]), value)
  })

  test('an invalid block (bytes not matching their hash) is refused by the other peer', TEST_TIMEOUT, async () => {
    const key = blockKey(randomBlock())
    const forged = randomBlock()
    const events = await collect(a.libp2p.services.dht.put(key, forged, { signal: AbortSignal.timeout(5_000) }))
    const responses = events.filter((e) => e.name === 'PEER_RESPONSE' && e.messageName === 'PUT_VALUE')
    const errors = events.filter((e) => e.name === 'QUERY_ERROR' && e.from.equals(b.peerId))
    assert.deepEqual(responses, [], 'no peer accepted the forged block')
    assert.ok(errors.length > 0, 'B answered the PUT with an error')

    // B holds no copy, and does not take A's (local, unvalidated) one either.
    const found = await collect(b.libp2p.services.dht.get(key, { signal: AbortSignal.timeout(5_000) }))
    assert.deepEqual(found.filter((e) => e.name === 'VALUE'), [])
  })
})

/** `promise`, or a rejection naming `what` after 10 s. */
async function withTimeout<T> (promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
