import { InvalidArgumentError } from '@kadmium/core'
import { checkBootstrapAddress, parseAddress, type NetworkMode } from '@kadmium/core/profile'
import type { PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

// Which network a peer runs on: defined with Kadmium's profile, re-exported for nodePeer's options.
export type { NetworkMode } from '@kadmium/core/profile'

/** Options of {@link nodePeer}. */
export interface NodePeerOptions {
  /**
   * The peer's data directory (created if missing): its key (`peer-key`),
   * libp2p's datastore of DHT records and known peers (`libp2p/`), one
   * LevelDB directory per database (`databases/`), and the manifests of the
   * databases opened here (`manifests/`: they open by address offline). One directory is used by
   * one peer at a time.
   */
  readonly dataDir: string
  /**
   * Multiaddrs to listen on. TCP, WebSockets (`.../tcp/<port>/ws`: browsers
   * dial it, `wss` behind a TLS proxy from an `https` page), WebRTC-Direct
   * (`.../udp/<port>/webrtc-direct`: browsers dial it from any page, with
   * no TLS certificate; the address the peer then reports carries the hash
   * of its own certificate, `/certhash/...`) and, in-process, memory
   * (`/memory/<name>`) addresses are understood.
   * @default ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws']
   */
  readonly listen?: readonly string[]
  /**
   * Multiaddrs to announce instead of the listening ones (a public address
   * behind port forwarding, a DNS name).
   * @default the listening addresses
   */
  readonly announce?: readonly string[]
  /**
   * Multiaddrs (with `/p2p/<peer id>`) of peers to join the network
   * through. They are dialed at start (in the background, with retries)
   * and redialed by libp2p's bootstrap discovery while the peer has few
   * connections.
   * @default []
   */
  readonly bootstrap?: readonly string[]
  /**
   * Find peers on the local network with multicast DNS.
   * @default true
   */
  readonly mdns?: boolean
  /**
   * Which network the peer runs on: see {@link NetworkMode}.
   * @default 'public'
   */
  readonly network?: NetworkMode
  /**
   * Add the in-process memory transport even if no address of `listen` or
   * `bootstrap` is a `/memory/...` one (it is added then anyway): for a
   * peer that only dials memory addresses it learns later.
   * @default false
   */
  readonly memory?: boolean
  /**
   * Add the WebRTC-Direct transport even if no address of `listen` or
   * `bootstrap` is a `.../webrtc-direct` one (it is added then anyway):
   * for a peer that only dials WebRTC-Direct addresses it learns later.
   * The transport runs on `node-datachannel` (a native module, installed
   * from npm); its certificate is kept in the data directory, so the
   * address's `/certhash/...` stays the same across restarts until the
   * certificate is renewed (libp2p renews it a day before it expires, 30
   * days after it was made).
   * @default false
   */
  readonly webRTCDirect?: boolean
  /**
   * The identity to run with, for example imported from another device
   * with `decodePeerKey`. Stored in `dataDir` if that holds no key yet;
   * `nodePeer` rejects with `PeerKeyError` if it holds another one.
   * @default the key stored in `dataDir`, or a new Ed25519 key (then stored)
   */
  readonly privateKey?: PrivateKey
  /**
   * Run a circuit relay v2 server, so that peers that cannot be dialed
   * (browsers) reserve a slot here and are reached through it (and set up
   * direct WebRTC connections through it). `true` takes
   * {@link DEFAULT_RELAY}'s limits.
   * @default false
   */
  readonly relay?: boolean | RelayOptions
}

/** Limits of a peer's circuit relay server. */
export interface RelayOptions {
  /** Peers that may hold a reservation at once. */
  readonly maxReservations?: number
  /** How long a relayed connection may last (ms) before the relay closes it (0: no limit). */
  readonly connectionDurationMs?: number
  /** How many bytes a relayed connection may carry each way before the relay closes it (0: no limit). */
  readonly connectionBytes?: number
}

/**
 * The relay limits `relay: true` takes: sized for an always-on server of
 * a few hundred browsers (libp2p's default is 15 reservations). A relayed
 * connection mostly carries the signalling of a direct WebRTC connection,
 * and catch-up until it is up.
 */
export const DEFAULT_RELAY: Required<RelayOptions> = Object.freeze({
  maxReservations: 1024,
  connectionDurationMs: 10 * 60_000,
  connectionBytes: 64 * 1024 * 1024
})

/** Listen addresses of a peer given none: every interface, TCP and WebSockets, ports chosen by the system. */
export const DEFAULT_LISTEN: readonly string[] = Object.freeze(['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'])

/** {@link NodePeerOptions} with every default filled in. */
export interface ResolvedNodePeerOptions {
  readonly dataDir: string
  readonly listen: readonly string[]
  readonly announce: readonly string[]
  readonly bootstrap: readonly string[]
  readonly mdns: boolean
  readonly network: NetworkMode
  readonly memory: boolean
  /** Whether the peer has the WebRTC-Direct transport. */
  readonly webRTCDirect: boolean
  /** The relay server's limits, if the peer runs one. */
  readonly relay: Required<RelayOptions> | undefined
}

/**
 * Checks the options and fills in defaults; `memory` and `webRTCDirect`
 * become true when an address needs their transport. Throws
 * {@link InvalidArgumentError} (`AddressError` for an address).
 */
export function resolveOptions (options: NodePeerOptions): ResolvedNodePeerOptions {
  const given: unknown = options
  if (typeof given !== 'object' || given === null) throw new InvalidArgumentError('nodePeer takes an options object')
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) throw new InvalidArgumentError('nodePeer needs a dataDir: the path of a directory')
  if (options.network !== undefined && options.network !== 'public' && options.network !== 'local') {
    throw new InvalidArgumentError(`network must be 'public' or 'local', not ${JSON.stringify(options.network)}`)
  }
  for (const name of ['listen', 'announce', 'bootstrap'] as const) {
    const list: unknown = options[name]
    if (list !== undefined && !(Array.isArray(list) && list.every((a) => typeof a === 'string'))) {
      throw new InvalidArgumentError(`${name} must be an array of multiaddr strings`)
    }
  }
  const listen = options.listen ?? DEFAULT_LISTEN
  const bootstrap = options.bootstrap ?? []
  const parsed = [...listen, ...options.announce ?? []].map(parseAddress)
  const dialed = bootstrap.map(checkBootstrapAddress)
  if (options.webRTCDirect !== undefined && typeof options.webRTCDirect !== 'boolean') throw new InvalidArgumentError('webRTCDirect must be true or false')
  const isWebRTCDirect = (address: Multiaddr): boolean => address.getComponents().some((c) => c.name === 'webrtc-direct')
  const isMemory = (address: string): boolean => address.startsWith('/memory/')
  return {
    dataDir: options.dataDir,
    listen,
    announce: options.announce ?? [],
    bootstrap,
    mdns: options.mdns ?? true,
    network: options.network ?? 'public',
    memory: (options.memory ?? false) || listen.some(isMemory) || bootstrap.some(isMemory),
    webRTCDirect: (options.webRTCDirect ?? false) || parsed.slice(0, listen.length).some(isWebRTCDirect) || dialed.some(isWebRTCDirect),
    relay: relayOptions(options.relay)
  }
}

function relayOptions (relay: NodePeerOptions['relay']): Required<RelayOptions> | undefined {
  if (relay === undefined || relay === false) return undefined
  if (relay === true) return DEFAULT_RELAY
  if (typeof relay !== 'object' || relay === null) throw new InvalidArgumentError('relay must be true, false or relay limits')
  const limits = { ...DEFAULT_RELAY, ...relay }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`relay.${name} must be a whole number >= 0`)
  }
  return limits
}
