import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { StorageAdapter } from '../storage/storage.ts'

/**
 * The libp2p services Kadmium uses. An adapter's node must have them under
 * these names: `kadmiumServices()` from `@kadmium/core/profile` makes them.
 */
// A type alias, not an interface: libp2p's ServiceMap needs an index signature.
export type KadmiumServices = {
  /** gossipsub, configured for Kadmium (see `kadmiumGossipsubOptions` in `@kadmium/core/profile`). */
  pubsub: GossipSub
  /** kad-dht with Kadmium's protocol, validators and selectors (see `kadmiumDhtOptions`). */
  dht: KadDHT
  /** identify: kad-dht and gossipsub rely on it. */
  identify: Identify
  /** ping, with {@link PING_STREAMS} streams each way: kad-dht finds it under this key. */
  ping: Ping
}

/**
 * Ping streams a Kadmium libp2p node lets one connection carry at once,
 * each way (`ping({ maxOutboundStreams, maxInboundStreams })`, as
 * `kadmiumServices()` configures it; the ping service's defaults are 1
 * and 2). libp2p's connection monitor pings every connection every 10 s
 * and kad-dht pings the contacts of its routing table, both on
 * `/ipfs/ping/1.0.0`: with one outbound stream, a monitor ping that meets
 * a DHT ping fails, and the monitor then aborts the whole connection
 * (gossipsub mesh, sync session and all), only for the reconnect queue to
 * dial it again — in a busy 50-peer network, hundreds of connections a
 * minute.
 */
export const PING_STREAMS = 4

/** A libp2p node with the services Kadmium needs. */
export type KadmiumLibp2p = Libp2p<KadmiumServices>

/**
 * What an adapter gives a database: a started libp2p node, and storage on
 * this device for each database. `nodePeer()` (Node) and `browserPeer()`
 * (browsers) make one.
 */
export interface Peer {
  /** The libp2p node: its key is the user's identity. */
  readonly libp2p: KadmiumLibp2p
  /**
   * The node's private key (Ed25519): the user's identity, which signs
   * every envelope, catch-up message and DHT head this peer sends.
   */
  readonly privateKey: PrivateKey
  /** Storage for the database of this name on this device. */
  storage (database: string): StorageAdapter | Promise<StorageAdapter>
  /** Stops the node and releases what it holds. */
  close (): Promise<void>
  /**
   * The manifest of a database this device opened before, by its address,
   * if the peer keeps them: opening by address then needs no network (the
   * data is on the device already). Optional.
   */
  readManifest? (address: string): Promise<Uint8Array | undefined>
  /** Keeps a database's manifest (called each time a database opens with this peer). Optional. */
  keepManifest? (address: string, manifest: Uint8Array): Promise<void>
}
