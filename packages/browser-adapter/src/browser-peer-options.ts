/**
 * The options of `browserPeer()`, their defaults, and their checks.
 * @module
 */
import { InvalidArgumentError, type StorageAdapter } from '@kadmium/core'
import { checkBootstrapAddress, type NetworkMode } from '@kadmium/core/profile'
import type { PrivateKey } from '@libp2p/interface'
import { DEFAULT_PEER_STORE } from './peer-store.ts'

// Which network a peer runs on: defined with Kadmium's profile, re-exported for browserPeer's options.
export type { NetworkMode } from '@kadmium/core/profile'

/** Options of {@link browserPeer}. */
export interface BrowserPeerOptions {
  /**
   * Multiaddrs (with `/p2p/<peer id>`) of always-on peers to join the
   * network through, such as a `kadmium serve`: WebSockets
   * (`/dns4/sync.example.org/tcp/443/wss/p2p/...`; plain `ws` only from an
   * `http` page) or WebRTC-Direct
   * (`/ip4/203.0.113.7/udp/4001/webrtc-direct/certhash/.../p2p/...`, from
   * any page, no TLS certificate needed). They are dialed at start (in the
   * background, with retries) and again by libp2p's bootstrap discovery
   * while the peer has few connections. A bootstrap peer that runs a
   * circuit relay server also relays this browser: other browsers reach it
   * through it, and set up a direct WebRTC connection that way.
   * @default []
   */
  readonly bootstrap?: readonly string[]
  /**
   * Which network the peer runs on (see `NetworkMode`): `'local'` for a
   * server on the same machine or LAN in development (browsers refuse to
   * dial private addresses and plain `ws` otherwise).
   * @default 'public'
   */
  readonly network?: NetworkMode
  /**
   * The identity to run with, for example imported from another device
   * with `decodePeerKey`. Kept in the peer store if that holds no key yet;
   * `browserPeer` rejects with `PeerKeyError` if it holds another one
   * (`writePeerKey` replaces it on purpose).
   * @default the key kept in the peer store, or a new Ed25519 key (then kept)
   */
  readonly privateKey?: PrivateKey
  /**
   * The IndexedDB database of this origin that holds the peer's key and the
   * manifests of the databases opened with it (they open by address again
   * offline). Two peers of one origin with different identities need two
   * names.
   * @default 'kadmium-peer'
   */
  readonly peerStore?: string
  /**
   * The storage of each database opened with the peer.
   * @default `indexedDbStorage(name)`: the IndexedDB database of the database's name (the storage a local database of that name has too)
   */
  readonly storage?: (name: string) => StorageAdapter | Promise<StorageAdapter>
  /**
   * Listen through circuit relays (`/p2p-circuit`) for WebRTC connections
   * from other browsers (`/webrtc`): the peer reserves a slot on a
   * connected peer that runs a relay server (`kadmium serve` does), and
   * other browsers dial it there; the relayed connection only carries the
   * WebRTC signalling, then the two talk directly.
   * @default true
   */
  readonly relayed?: boolean
  /**
   * The `RTCConfiguration` of the peer's WebRTC connections: its ICE
   * (STUN and TURN) servers. Pass `{ iceServers: [] }` where no STUN server
   * is reachable (a LAN, tests).
   * @default libp2p's: public STUN servers
   */
  readonly rtcConfiguration?: RTCConfiguration
}

/** {@link BrowserPeerOptions} with every default filled in. */
export interface ResolvedBrowserPeerOptions {
  readonly bootstrap: readonly string[]
  readonly network: NetworkMode
  readonly privateKey: PrivateKey | undefined
  readonly peerStore: string
  readonly storage: ((name: string) => StorageAdapter | Promise<StorageAdapter>) | undefined
  readonly relayed: boolean
  readonly rtcConfiguration: RTCConfiguration | undefined
}

/**
 * Checks the options and fills in defaults.
 * @throws {InvalidArgumentError} a bad option (`AddressError` for a bootstrap address)
 */
export function resolveOptions (options: BrowserPeerOptions): ResolvedBrowserPeerOptions {
  const given: unknown = options
  if (typeof given !== 'object' || given === null) throw new InvalidArgumentError('browserPeer takes an options object')
  const network = options.network ?? 'public'
  if (network !== 'public' && network !== 'local') throw new InvalidArgumentError(`network must be 'public' or 'local', not ${JSON.stringify(network)}`)
  const bootstrap: unknown = options.bootstrap ?? []
  if (!Array.isArray(bootstrap) || !bootstrap.every((a) => typeof a === 'string')) throw new InvalidArgumentError('bootstrap must be an array of multiaddr strings')
  for (const address of bootstrap) checkBootstrapAddress(address)
  const peerStore = options.peerStore ?? DEFAULT_PEER_STORE
  if (typeof peerStore !== 'string' || peerStore.length === 0) throw new InvalidArgumentError('peerStore must be the name of an IndexedDB database: a non-empty string')
  if (options.storage !== undefined && typeof options.storage !== 'function') throw new InvalidArgumentError('storage must be a function of a database name')
  if (options.relayed !== undefined && typeof options.relayed !== 'boolean') throw new InvalidArgumentError('relayed must be true or false')
  if (options.rtcConfiguration !== undefined && (typeof options.rtcConfiguration !== 'object' || options.rtcConfiguration === null)) {
    throw new InvalidArgumentError('rtcConfiguration must be an RTCConfiguration object')
  }
  return {
    bootstrap,
    network,
    privateKey: options.privateKey,
    peerStore,
    storage: options.storage,
    relayed: options.relayed ?? true,
    rtcConfiguration: options.rtcConfiguration
  }
}
