import { InvalidArgumentError } from '@kadmium/core'
import type { NetworkMode } from '@kadmium/core/profile'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { AddressError } from './errors.ts'

// Which network a peer runs on: defined with Kadmium's profile, re-exported for nodePeer's options.
export type { NetworkMode } from '@kadmium/core/profile'

/** Options of {@link nodePeer}. */
export interface NodePeerOptions {
  /**
   * The peer's data directory (created if missing): its key (`peer-key`),
   * libp2p's datastore of DHT records and known peers (`libp2p/`), and one
   * LevelDB directory per database (`databases/`). One directory is used by
   * one peer at a time.
   */
  readonly dataDir: string
  /**
   * Multiaddrs to listen on. TCP, WebSockets (`.../ws`) and, in-process,
   * memory (`/memory/<name>`) addresses are understood.
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
   * The identity to run with, for example imported from another device
   * with `decodePeerKey`. Stored in `dataDir` if that holds no key yet;
   * `nodePeer` rejects with `PeerKeyError` if it holds another one.
   * @default the key stored in `dataDir`, or a new Ed25519 key (then stored)
   */
  readonly privateKey?: PrivateKey
}

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
}

/**
 * Checks the options and fills in defaults; `memory` becomes true when an
 * address needs the memory transport. Throws {@link InvalidArgumentError}.
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
  for (const address of [...listen, ...options.announce ?? []]) checkAddress(address)
  for (const address of bootstrap) checkBootstrapAddress(address)
  const isMemory = (address: string): boolean => address.startsWith('/memory/')
  return {
    dataDir: options.dataDir,
    listen,
    announce: options.announce ?? [],
    bootstrap,
    mdns: options.mdns ?? true,
    network: options.network ?? 'public',
    memory: (options.memory ?? false) || listen.some(isMemory) || bootstrap.some(isMemory)
  }
}

/**
 * Parses a multiaddr given as text.
 * @throws {AddressError} it does not parse
 */
function checkAddress (address: string): Multiaddr {
  try {
    return multiaddr(address)
  } catch (cause) {
    throw new AddressError(address, `"${address}" is not a multiaddr: ${(cause as Error).message}`, { cause })
  }
}

/**
 * Checks a bootstrap address: a multiaddr that names its peer (`/p2p/<peer id>`).
 * @throws {AddressError} it does not parse, names no peer, or a peer id that is not one
 */
function checkBootstrapAddress (address: string): void {
  const parsed = checkAddress(address)
  const id = parsed.getComponents().findLast((c) => c.name === 'p2p')?.value
  if (id === undefined) throw new AddressError(address, `the bootstrap address "${address}" names no peer: it must end with /p2p/<peer id>`)
  try {
    peerIdFromString(id)
  } catch (cause) {
    throw new AddressError(address, `the bootstrap address "${address}" has "${id}" as its peer id, which is not one: ${(cause as Error).message}`, { cause })
  }
}
