/**
 * `@kadmium/core/profile`: what makes a libp2p node speak Kadmium, on any
 * platform — the kad-dht (Kadmium's protocol, validators and selectors),
 * gossipsub, identify and ping services with Kadmium's settings, noise and
 * yamux, the head-merging datastore, and the connection settings of a
 * local network. An adapter (`@kadmium/node`, a browser adapter) adds
 * only what is its platform's: transports, peer discovery, addresses, the
 * key and the datastore's storage.
 *
 * A separate entry point, so that apps which only open local databases
 * never load libp2p.
 *
 * Encryption (noise) and stream muxing (yamux) are part of the profile:
 * two Kadmium peers can only connect if they share both, and both are
 * plain JavaScript that runs in Node.js and in browsers alike.
 *
 * Beside the profile, what every adapter's `Peer` is made with, so that
 * adapters behave alike: the checks of the addresses a peer is given
 * ({@link checkBootstrapAddress}, `AddressError`), bootstrap dials with
 * retries and their status ({@link BootstrapDialer}), the key as bytes to
 * move an identity ({@link encodePeerKey}, {@link decodePeerKey}), and
 * {@link TrackedStorage}.
 * @example
 * ```ts
 * import { kadmiumLibp2pOptions } from '@kadmium/core/profile'
 * import { webSockets } from '@libp2p/websockets'
 * import { MemoryDatastore } from 'datastore-core'
 * import { createLibp2p } from 'libp2p'
 *
 * const libp2p = await createLibp2p({
 *   ...kadmiumLibp2pOptions({ network: 'public', dhtMode: 'client', datastore: new MemoryDatastore() }),
 *   transports: [webSockets()]
 * })
 * ```
 * @module \@kadmium/core/profile
 */
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { gossipsub, StrictNoSign, type GossipsubOpts } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { ConnectionGater } from '@libp2p/interface'
import { kadDHT, passthroughMapper, type KadDHTInit } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import type { Datastore } from 'interface-datastore'
import { InvalidArgumentError } from '../errors.ts'
import { mergingDatastore } from '../dht/merging-datastore.ts'
import { DHT_PROTOCOL } from '../dht/dht-keys.ts'
import { dhtSelectors, dhtValidators } from '../dht/validators.ts'
import { PING_STREAMS } from '../peer/peer.ts'

export { PING_STREAMS } from '../peer/peer.ts'
export type { KadmiumServices, KadmiumLibp2p } from '../peer/peer.ts'
// What every peer adapter shares beside the profile: address checks, bootstrap dials, the key's bytes, storage tracking.
export { parseAddress, checkBootstrapAddress, peerOfAddress } from '../peer/addresses.ts'
export { dialWithRetries, DIAL_ATTEMPTS, DIAL_BACKOFF_MS } from '../peer/dial.ts'
export { Closing } from '../peer/closing.ts'
export type { DialRetryOptions, DialTarget } from '../peer/dial.ts'
export { BootstrapDialer } from '../peer/bootstrap.ts'
export type { BootstrapStatus, BootstrapEvents } from '../peer/bootstrap.ts'
export { encodePeerKey, decodePeerKey } from '../peer/peer-key.ts'
export { TrackedStorage } from '../peer/tracked-storage.ts'

/**
 * Which network a peer runs on:
 * - `'public'`: real networks. libp2p's and kad-dht's defaults, among them
 *   kad-dht's filtering of private addresses out of the routing table and
 *   libp2p's limit of 5 inbound connections per second from one host.
 * - `'local'`: peers on one machine or LAN (tests, development, a LAN-only
 *   deployment). Private and loopback addresses are kept, one host may
 *   open any number of connections, gossipsub does not penalize many peers
 *   on one loopback IP, and a DHT server's queries run with no peer connected.
 */
export type NetworkMode = 'public' | 'local'

/**
 * The part a peer plays in the DHT:
 * - `'server'`: it stores other peers' records and answers their queries
 *   (an always-on peer: Node.js peers are servers);
 * - `'client'`: it only queries (a browser tab, which comes and goes).
 */
export type DhtMode = 'server' | 'client'

/**
 * Options of the Kadmium profile: {@link kadmiumServices} and the other
 * factories here, which throw `InvalidArgumentError` for a `network` or
 * `dhtMode` they do not know.
 */
export interface KadmiumProfileOptions {
  /**
   * Which network the peer runs on: see {@link NetworkMode}.
   * @default 'public'
   */
  readonly network?: NetworkMode
  /**
   * The part the peer plays in the DHT: see {@link DhtMode}.
   * @default 'server'
   */
  readonly dhtMode?: DhtMode
}

/** Options of {@link kadmiumLibp2pOptions}: the profile's, and the datastore. */
export interface KadmiumLibp2pOptions extends KadmiumProfileOptions {
  /**
   * libp2p's datastore (DHT records, the peer store), on the platform's
   * storage. It is wrapped with {@link kadmiumDatastore}, so that this
   * peer's DHT server merges the Kadmium heads it is sent instead of
   * replacing them.
   * @default none: libp2p's own in-memory datastore, unwrapped (a DHT
   * server on it replaces heads; pass `new MemoryDatastore()` to merge)
   */
  readonly datastore?: Datastore
}

/**
 * The libp2p service factories of a Kadmium peer, to pass as `services`
 * to `createLibp2p`; the node they make has {@link KadmiumServices}.
 */
// A type alias, not an interface: libp2p's ServiceFactoryMap needs an index signature.
export type KadmiumServiceFactories = {
  /** identify: kad-dht and gossipsub learn a peer's protocols and addresses through it. */
  readonly identify: ReturnType<typeof identify>
  /** ping, with {@link PING_STREAMS} streams each way; kad-dht finds it under this key. */
  readonly ping: ReturnType<typeof ping>
  /** kad-dht: see {@link kadmiumDhtOptions}. */
  readonly dht: ReturnType<typeof kadDHT>
  /** gossipsub: see {@link kadmiumGossipsubOptions}. */
  readonly pubsub: ReturnType<typeof gossipsub>
}

/** libp2p connection manager settings of a local network (see {@link kadmiumConnectionOptions}). */
export interface KadmiumConnectionManagerOptions {
  /** Inbound connections a second accepted from one host. */
  readonly inboundConnectionThreshold: number
  /** Inbound connections being set up at once. */
  readonly maxIncomingPendingConnections: number
}

/**
 * The connection settings of the profile, to spread into `createLibp2p`'s
 * options: empty on a public network (libp2p's defaults), set on a local
 * one.
 */
export interface KadmiumConnectionOptions {
  /** Set on a local network only. */
  readonly connectionManager?: KadmiumConnectionManagerOptions
  /** Set on a local network only: dials private and loopback addresses. */
  readonly connectionGater?: ConnectionGater
}

/**
 * Everything of a libp2p node's options that makes it speak Kadmium (see
 * {@link kadmiumLibp2pOptions}); an adapter adds transports, addresses,
 * peer discovery and the private key.
 */
export interface KadmiumLibp2pInit extends KadmiumConnectionOptions {
  /** See {@link kadmiumServices}. */
  readonly services: KadmiumServiceFactories
  /** noise. */
  readonly connectionEncrypters: Array<ReturnType<typeof noise>>
  /** yamux. */
  readonly streamMuxers: Array<ReturnType<typeof yamux>>
  /** The datastore given, wrapped with {@link kadmiumDatastore}; absent if none was given. */
  readonly datastore?: Datastore
}

/**
 * gossipsub mesh degrees: a database's peers should sit in each other's
 * mesh (gossip that only reaches a peer through heartbeat gossip can be a
 * second late), so the mesh is a little wider than gossipsub's default of
 * D = 6 (Dlo 4, Dhi 12).
 */
const MESH = { D: 8, Dlo: 6, Dhi: 12, Dout: 3 } as const

/** Loopback IPs that gossipsub must not count as colocated Sybils on a local network. */
const LOOPBACK_IPS = ['127.0.0.1', '::1']

/** Checks the options and fills in the defaults. */
function resolve (options: KadmiumProfileOptions): { local: boolean, server: boolean } {
  const given: unknown = options
  if (typeof given !== 'object' || given === null) throw new InvalidArgumentError('the Kadmium profile takes an options object')
  const network = options.network ?? 'public'
  const dhtMode = options.dhtMode ?? 'server'
  if (network !== 'public' && network !== 'local') throw new InvalidArgumentError(`network must be 'public' or 'local', not ${JSON.stringify(network)}`)
  if (dhtMode !== 'server' && dhtMode !== 'client') throw new InvalidArgumentError(`dhtMode must be 'server' or 'client', not ${JSON.stringify(dhtMode)}`)
  return { local: network === 'local', server: dhtMode === 'server' }
}

/**
 * kad-dht's options for a Kadmium peer: Kadmium's protocol (not the
 * public IPFS DHT), validators and selectors for its namespaces, server or
 * client mode, and on a local network the mapper that keeps private
 * addresses and, for a server, queries with no peer connected.
 */
export function kadmiumDhtOptions (options: KadmiumProfileOptions = {}): KadDHTInit {
  const { local, server } = resolve(options)
  return {
    protocol: DHT_PROTOCOL,
    validators: dhtValidators,
    selectors: dhtSelectors,
    // A server answers DHT queries from the start: kad-dht would otherwise wait to see a public address of its own
    // (which a peer on loopback or a LAN never has). A client never serves.
    clientMode: !server,
    ...(local
      ? {
          // kad-dht's default mapper drops private and loopback addresses from what peers tell each other.
          peerInfoMapper: passthroughMapper,
          // A lone local server (or one whose peers are all offline) still reads its own records. Never a client:
          // it stores no records, and with no peer its queries would end at once, so that libp2p's random walk (what
          // a browser's circuit relay transport looks for relays with) would loop on them without ever yielding.
          ...(server ? { allowQueryWithZeroPeers: true } : {})
        }
      : {})
  }
}

/**
 * gossipsub's options for a Kadmium peer: no message signing, publishing
 * with no subscriber, no floodsub, a mesh of degree 8 (6 to 12, 3 outbound), and on a local
 * network loopback exempt from IP-colocation scoring.
 */
export function kadmiumGossipsubOptions (options: KadmiumProfileOptions = {}): Partial<GossipsubOpts> {
  const { local } = resolve(options)
  return {
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
}

/**
 * The libp2p services of a Kadmium peer (identify, ping, kad-dht,
 * gossipsub), to pass as `services` to `createLibp2p`.
 *
 * @example
 * ```ts
 * const libp2p = await createLibp2p({ services: kadmiumServices({ network: 'local' }), ... })
 * ```
 */
export function kadmiumServices (options: KadmiumProfileOptions = {}): KadmiumServiceFactories {
  return {
    identify: identify(),
    ping: ping({ maxOutboundStreams: PING_STREAMS, maxInboundStreams: PING_STREAMS }),
    dht: kadDHT(kadmiumDhtOptions(options)),
    pubsub: gossipsub(kadmiumGossipsubOptions(options))
  }
}

/**
 * The connection manager and gater settings of the profile: none on a
 * public network; on a local one, any number of connections from one host
 * and dials to private and loopback addresses.
 */
export function kadmiumConnectionOptions (options: KadmiumProfileOptions = {}): KadmiumConnectionOptions {
  const { local } = resolve(options)
  if (!local) return {}
  return {
    connectionManager: {
      // libp2p refuses more than 5 inbound connections a second from one host: every local peer is one host.
      inboundConnectionThreshold: Infinity,
      // Many local peers dialing one bootstrap peer at once.
      maxIncomingPendingConnections: 64
    },
    // Dial private and loopback addresses (libp2p's Node.js default too; browsers refuse them).
    connectionGater: { denyDialMultiaddr: () => false }
  }
}

/**
 * Wraps libp2p's datastore so that the peer's DHT server merges the
 * Kadmium heads it is sent instead of replacing them (`mergingDatastore`
 * with its defaults).
 */
export function kadmiumDatastore (datastore: Datastore): Datastore {
  return mergingDatastore(datastore)
}

/**
 * Everything a libp2p node needs to speak Kadmium but its transports:
 * {@link kadmiumServices}, noise, yamux, {@link kadmiumConnectionOptions}
 * and, if given, the datastore wrapped with {@link kadmiumDatastore}.
 * Spread it into `createLibp2p`'s options and add the platform's
 * transports, addresses, peer discovery and private key.
 */
export function kadmiumLibp2pOptions (options: KadmiumLibp2pOptions = {}): KadmiumLibp2pInit {
  return {
    ...(options.datastore !== undefined ? { datastore: kadmiumDatastore(options.datastore) } : {}),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...kadmiumConnectionOptions(options),
    services: kadmiumServices(options)
  }
}
