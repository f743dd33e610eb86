/**
 * Kadmium's libp2p profile (`@kadmium/core/profile`): its settings as
 * documented for each network and DHT mode, and its services running in
 * real libp2p nodes over the in-process memory transport — two nodes
 * connect, ping, store and read a Kadmium block through kad-dht, and
 * exchange a gossipsub message.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { BLOCK_NS, DHT_PROTOCOL, dhtSelectors, dhtValidators, InvalidArgumentError } from '@kadmium/core'
import { HeadMergingDatastore } from '@kadmium/core/dht-server'
import {
  kadmiumConnectionOptions,
  kadmiumDatastore,
  kadmiumDhtOptions,
  kadmiumGossipsubOptions,
  kadmiumLibp2pOptions,
  kadmiumServices,
  type KadmiumLibp2p,
  type KadmiumLibp2pOptions,
  type KadmiumProfileOptions
} from '@kadmium/core/profile'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { StrictNoSign } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { passthroughMapper, type QueryEvent } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { blockKey } from '../../src/dht/dht-keys.ts'
import { sha256 } from '../../src/util/hash.ts'
import { waitFor } from '../helpers/wait.ts'

/** Bounds every network wait. */
const WAIT_MS = 10_000

describe('the Kadmium profile: settings', () => {
  test('kad-dht: Kadmium protocol, validators and selectors; a server by default, on a public network', () => {
    const dht = kadmiumDhtOptions()
    assert.equal(dht.protocol, DHT_PROTOCOL)
    assert.equal(dht.validators, dhtValidators)
    assert.equal(dht.selectors, dhtSelectors)
    assert.equal(dht.clientMode, false)
    assert.equal('peerInfoMapper' in dht, false, "kad-dht's default mapper drops private addresses")
    assert.equal(dht.allowQueryWithZeroPeers, undefined)
    assert.deepEqual(kadmiumDhtOptions({ network: 'public', dhtMode: 'server' }), dht)
  })

  test('kad-dht: a local network keeps private addresses and a server queries with no peer; a client never serves', async () => {
    const local = kadmiumDhtOptions({ network: 'local' })
    const info = {
      id: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
      multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip4/192.168.1.7/tcp/4001')]
    }
    assert.deepEqual(local.peerInfoMapper?.(info), info, 'private and loopback addresses are kept')
    assert.deepEqual(passthroughMapper(info), info)
    assert.equal(local.allowQueryWithZeroPeers, true)
    assert.equal(local.clientMode, false)
    assert.equal(kadmiumDhtOptions({ dhtMode: 'client' }).clientMode, true)
    const client = kadmiumDhtOptions({ network: 'local', dhtMode: 'client' })
    assert.equal(client.clientMode, true)
    assert.deepEqual(client.peerInfoMapper?.(info), info, 'a local client keeps private addresses too')
    assert.equal(client.allowQueryWithZeroPeers, undefined, 'a client with no peer fails its queries at once (a random walk on it must not spin)')
  })

  test('gossipsub: unsigned, publishes to no one, no floodsub, mesh 8 (6..12, 3 out); loopback whitelisted on a local network only', () => {
    const common = {
      globalSignaturePolicy: StrictNoSign,
      allowPublishToZeroTopicPeers: true,
      fallbackToFloodsub: false,
      D: 8,
      Dlo: 6,
      Dhi: 12,
      Dout: 3
    }
    assert.deepEqual(kadmiumGossipsubOptions(), common)
    assert.deepEqual(kadmiumGossipsubOptions({ network: 'public' }), common)
    assert.deepEqual(kadmiumGossipsubOptions({ network: 'local' }), {
      ...common,
      scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']) }
    })
    assert.deepEqual(kadmiumGossipsubOptions({ network: 'local', dhtMode: 'client' }), kadmiumGossipsubOptions({ network: 'local' }))
  })

  test("connections: libp2p's defaults on a public network; on a local one, any number from one host and private dials", async () => {
    assert.deepEqual(kadmiumConnectionOptions(), {})
    assert.deepEqual(kadmiumConnectionOptions({ network: 'public' }), {})
    const local = kadmiumConnectionOptions({ network: 'local' })
    assert.deepEqual(local.connectionManager, { inboundConnectionThreshold: Infinity, maxIncomingPendingConnections: 64 })
    assert.equal(await local.connectionGater?.denyDialMultiaddr?.(multiaddr('/ip4/192.168.1.7/tcp/4001')), false)
  })

  test('libp2p options: services, noise, yamux, connection settings, and the datastore wrapped only if given', () => {
    const bare = kadmiumLibp2pOptions()
    assert.deepEqual(Object.keys(bare.services).sort(), ['dht', 'identify', 'ping', 'pubsub'])
    assert.deepEqual(Object.keys(kadmiumServices()).sort(), ['dht', 'identify', 'ping', 'pubsub'])
    assert.equal(bare.connectionEncrypters.length, 1)
    assert.equal(bare.streamMuxers.length, 1)
    assert.equal('datastore' in bare, false, "libp2p's own datastore then")
    assert.equal('connectionManager' in bare, false)
    assert.equal('connectionGater' in bare, false)

    const inner = new MemoryDatastore()
    const local = kadmiumLibp2pOptions({ network: 'local', datastore: inner })
    assert.ok(local.datastore instanceof HeadMergingDatastore)
    assert.notEqual(local.datastore, inner)
    assert.ok(kadmiumDatastore(inner) instanceof HeadMergingDatastore)
    assert.equal(local.connectionManager?.inboundConnectionThreshold, Infinity)
  })

  test('unknown modes are refused', () => {
    const bad = (options: unknown): KadmiumProfileOptions => options as KadmiumProfileOptions
    assert.throws(() => kadmiumDhtOptions(bad({ network: 'lan' })), InvalidArgumentError)
    assert.throws(() => kadmiumGossipsubOptions(bad({ dhtMode: 'both' })), InvalidArgumentError)
    assert.throws(() => kadmiumServices(bad(null)), InvalidArgumentError)
    assert.throws(() => kadmiumLibp2pOptions(bad({ network: 'local', dhtMode: 'relay' })), InvalidArgumentError)
  })
})

let counter = 0

/** A started node of the profile's options, on a fresh memory address. */
async function startNode (options: KadmiumLibp2pOptions): Promise<KadmiumLibp2p> {
  return await createLibp2p({
    ...kadmiumLibp2pOptions(options),
    addresses: { listen: [`/memory/kadmium-profile-${process.pid}-${counter++}`] },
    transports: [memory()]
  })
}

/** Whether `node`'s kad-dht routing table holds `peer`. */
async function inRoutingTable (node: KadmiumLibp2p, peer: PeerId): Promise<boolean> {
  const table = (node.services.dht as unknown as { routingTable: { find: (id: PeerId) => Promise<PeerId | undefined> } }).routingTable
  return await table.find(peer) !== undefined
}

/** The events of a kad-dht query, collected. */
async function collect (events: AsyncIterable<QueryEvent>): Promise<QueryEvent[]> {
  const all: QueryEvent[] = []
  for await (const event of events) all.push(event)
  return all
}

/** Whether `peer` answered a PUT_VALUE of `value` (its DHT server stored it) among a put's events. */
function accepted (events: readonly QueryEvent[], peer: PeerId, value: Uint8Array): boolean {
  return events.some((e) => e.name === 'PEER_RESPONSE' && e.messageName === 'PUT_VALUE' && e.from.equals(peer) &&
    e.record !== undefined && Buffer.from(e.record.value).equals(value))
}

describe('the Kadmium profile: two nodes over the memory transport', { timeout: 60_000 }, () => {
  let a: KadmiumLibp2p
  let b: KadmiumLibp2p
  /** A DHT client on the same network. */
  let c: KadmiumLibp2p
  const nodes: KadmiumLibp2p[] = []

  before(async () => {
    for (const dhtMode of ['server', 'server', 'client'] as const) {
      nodes.push(await startNode({ network: 'local', dhtMode, datastore: new MemoryDatastore() }))
    }
    [a, b, c] = nodes as [KadmiumLibp2p, KadmiumLibp2p, KadmiumLibp2p]
    for (let attempt = 1; ; attempt++) {
      try {
        await a.dial(b.getMultiaddrs(), { signal: AbortSignal.timeout(5_000) })
        break
      } catch (error) {
        // A first dial between two fresh nodes sometimes fails once.
        if (attempt >= 3) throw error
      }
    }
    await waitFor(async () => await inRoutingTable(a, b.peerId) && await inRoutingTable(b, a.peerId), 'the routing tables to hold each other', WAIT_MS)
  })

  after(async () => {
    await Promise.all(nodes.map(async (node) => {
      await Promise.race([node.stop(), new Promise((resolve) => setTimeout(resolve, WAIT_MS).unref())])
    }))
  })

  test('ping answers, several streams at once', async () => {
    // More than the ping service's default of one outbound stream; not all PING_STREAMS: on the memory
    // transport one of libp2p's own pings keeps a stream open on the connection.
    const rtts = await Promise.all([1, 2].map(async () => await a.services.ping.ping(b.peerId, { signal: AbortSignal.timeout(WAIT_MS) })))
    for (const rtt of rtts) assert.ok(Number.isFinite(rtt) && rtt >= 0, `round trip ${rtt}`)
  })

  test('identify: each node learns the other speaks Kadmium\'s DHT protocol', async () => {
    await waitFor(async () => (await b.peerStore.get(a.peerId)).protocols.includes(DHT_PROTOCOL), 'b to learn a\'s protocols', WAIT_MS)
    assert.ok((await a.peerStore.get(b.peerId)).protocols.includes(DHT_PROTOCOL))
  })

  test('a server serves the DHT protocol; a client does not', () => {
    assert.equal(a.services.dht.getMode(), 'server')
    assert.ok(a.getProtocols().includes(DHT_PROTOCOL))
    assert.equal(c.services.dht.getMode(), 'client')
    assert.ok(!c.getProtocols().includes(DHT_PROTOCOL))
  })

  test('a Kadmium block put on one node is read on the other', async () => {
    const value = new TextEncoder().encode(`a block of the profile test ${Date.now()}`)
    const key = blockKey(sha256(value))
    const put = await collect(a.services.dht.put(key, value, { signal: AbortSignal.timeout(WAIT_MS) }))
    assert.ok(accepted(put, b.peerId, value), 'b stored the block')

    const got = await collect(b.services.dht.get(key, { signal: AbortSignal.timeout(WAIT_MS) }))
    const found = got.find((e) => e.name === 'VALUE')
    assert.ok(found !== undefined && found.name === 'VALUE', 'b reads the block')
    assert.deepEqual(found.value, value)
  })

  test("the other node's validators refuse a block that does not match its key", async () => {
    const value = new TextEncoder().encode(`a forged block ${Date.now()}`)
    const key = blockKey(sha256(new TextEncoder().encode('other bytes')))
    assert.ok(new TextDecoder().decode(key).startsWith(`/${BLOCK_NS}/`))
    const put = await collect(a.services.dht.put(key, value, { signal: AbortSignal.timeout(WAIT_MS) }))
    assert.ok(!accepted(put, b.peerId, value), 'b did not store the block')
    assert.ok(put.some((e) => e.name === 'QUERY_ERROR' && e.from.equals(b.peerId)), 'b refused the block')
  })

  test('gossipsub delivers an unsigned message', async () => {
    const topic = `kadmium-profile-test-${process.pid}`
    a.services.pubsub.subscribe(topic)
    b.services.pubsub.subscribe(topic)
    await waitFor(() => a.services.pubsub.getSubscribers(topic).some((p) => p.equals(b.peerId)), 'a to see b subscribed', WAIT_MS)
    const data = new TextEncoder().encode('hello over gossipsub')
    const received = new Promise<{ data: Uint8Array, type: string }>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no gossipsub message within the bound')) }, WAIT_MS)
      b.services.pubsub.addEventListener('message', (event) => {
        if (event.detail.topic !== topic) return
        clearTimeout(timer)
        resolve({ data: event.detail.data, type: event.detail.type })
      })
    })
    await a.services.pubsub.publish(topic, data)
    const message = await received
    assert.deepEqual(message.data, data)
    assert.equal(message.type, 'unsigned', 'StrictNoSign: no pubsub signature')
  })
})
