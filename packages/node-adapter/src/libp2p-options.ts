/**
 * The libp2p configuration of a Node.js Kadmium peer.
 * @module
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { DHT_PROTOCOL, dhtSelectors, dhtValidators, PING_STREAMS, type KadmiumServices } from '@kadmium/core'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub, StrictNoSign, type GossipsubOpts } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { kadDHT, passthroughMapper, type KadDHTInit } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import type { LevelDatastore } from 'datastore-level'
import type { Libp2pOptions } from 'libp2p'
import type { ResolvedNodePeerOptions } from './node-peer-options.ts'

/** The services of a Node.js peer: Kadmium's, and the two kad-dht relies on. */
export type NodePeerServices = KadmiumServices & {
  identify: Identify
  /** kad-dht finds the ping service under this key. */
  ping: Ping
}

/**
 * gossipsub mesh degrees: a database's peers should sit in each other's
 * mesh (gossip that only reaches a peer through heartbeat gossip can be a
 * second late), so the mesh is a little wider than gossipsub's default of
 * D = 6 (Dlo 4, Dhi 12).
 */
const MESH = { D: 8, Dlo: 6, Dhi: 12, Dout: 3 } as const

/** Loopback IPs that gossipsub must not count as colocated Sybils. */
const LOOPBACK_IPS = ['127.0.0.1', '::1']

/**
 * The libp2p options of a peer: transports, encryption, muxing, discovery
 * and the services Kadmium needs, tuned for `options.network`.
 */
export function libp2pOptions (
  options: ResolvedNodePeerOptions,
  privateKey: PrivateKey,
  datastore: LevelDatastore
): Libp2pOptions<NodePeerServices> {
  const local = options.network === 'local'

  const transports: NonNullable<Libp2pOptions['transports']> = [tcp(), webSockets()]
  if (options.memory) transports.push(memory())

  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  if (options.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: [...options.bootstrap] }))
  if (options.mdns) peerDiscovery.push(mdns())

  const dht: KadDHTInit = {
    protocol: DHT_PROTOCOL,
    validators: dhtValidators,
    selectors: dhtSelectors,
    // A Node.js peer answers DHT queries; kad-dht would otherwise wait to see a public address of its own.
    clientMode: false,
    ...(local
      ? {
          // kad-dht's default mapper drops private and loopback addresses from what peers tell each other.
          peerInfoMapper: passthroughMapper,
          // A lone local peer (or one whose peers are all offline) still reads its own records.
          allowQueryWithZeroPeers: true
        }
      : {})
  }

  const pubsub: Partial<GossipsubOpts> = {
    // Kadmium envelopes carry their author's signature: signing again here would be paid twice.
    globalSignaturePolicy: StrictNoSign,
    // A write made before any peer subscribed is caught up later, not an error.
    allowPublishToZeroTopicPeers: true,
    // Kadmium peers all speak gossipsub.
    fallbackToFloodsub: false,
    ...MESH,
    ...(local
      ? {
          // Past 10 peers on one IP gossipsub's colocation penalty graylists them all.
          scoreParams: { IPColocationFactorWhitelist: new Set(LOOPBACK_IPS) }
        }
      : {})
  }

  return {
    privateKey,
    datastore,
    addresses: {
      listen: [...options.listen],
      ...(options.announce.length > 0 ? { announce: [...options.announce] } : {})
    },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    ...(local
      ? {
          connectionManager: {
            // libp2p refuses more than 5 inbound connections a second from one host: every local peer is one host.
            inboundConnectionThreshold: Infinity,
            // Many local peers dialing one bootstrap peer at once.
            maxIncomingPendingConnections: 64
          },
          // Dial private and loopback addresses (libp2p's Node.js default too; browsers refuse them).
          connectionGater: { denyDialMultiaddr: () => false }
        }
      : {}),
    services: {
      identify: identify(),
      ping: ping({ maxOutboundStreams: PING_STREAMS, maxInboundStreams: PING_STREAMS }),
      dht: kadDHT(dht),
      pubsub: gossipsub(pubsub)
    }
  }
}
