/**
 * `browserPeer()`: a Kadmium peer for browsers — a libp2p node
 * (WebSockets and WebRTC-Direct to always-on peers, WebRTC between
 * browsers signalled through circuit relays, relayed connections upgraded
 * to direct WebRTC ones, kad-dht as a client,
 * gossipsub: Kadmium's profile from `@kadmium/core/profile`) whose key
 * and manifests live in the origin's IndexedDB, and IndexedDB storage for
 * each database.
 * @module
 */
import { InvalidArgumentError, PeerClosedError, type KadmiumLibp2p, type Peer, type StorageAdapter, type Unsubscribe } from '@kadmium/core'
import {
  BootstrapDialer,
  Closing,
  dialWithRetries,
  encodePeerKey,
  TrackedStorage,
  type BootstrapEvents,
  type BootstrapStatus,
  type DialRetryOptions,
  type DialTarget
} from '@kadmium/core/profile'
import type { Connection, PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { browserLibp2pOptions } from './browser-libp2p-options.ts'
import { DirectUpgrader } from './browser-peer-upgrade.ts'
import { resolveOptions, type BrowserPeerOptions, type ResolvedBrowserPeerOptions } from './browser-peer-options.ts'
import { indexedDbStorage } from './indexeddb-storage.ts'
import { loadPeerKey } from './peer-key.ts'
import { openPeerStore, type PeerStore } from './peer-store.ts'

/** What a database address (a CID) is made of: nothing else names a manifest. */
const ADDRESS = /^[a-zA-Z0-9]{8,128}$/

/**
 * Starts a Kadmium peer in a browser. Resolves once libp2p runs, without
 * waiting for the network: the bootstrap peers are dialed in the
 * background (see {@link BrowserPeer.status}), so an app opens its
 * databases from IndexedDB at once, offline too.
 *
 * The key is the one kept in the origin's IndexedDB (`peerStore`), or a
 * new one, kept there: a page has the same identity, and the same write
 * permissions, after a reload.
 *
 * @throws {AddressError} a bootstrap address does not parse or names no valid `/p2p/<peer id>` (nothing is opened then)
 * @throws {InvalidArgumentError} another bad option
 * @throws {PeerKeyError} the peer store holds another identity than `options.privateKey`, or no key
 * @throws {StorageError} IndexedDB is not available or refuses
 *
 * @example
 * ```ts
 * import { createDatabase } from '@kadmium/core'
 * import { browserPeer } from '@kadmium/browser'
 *
 * const peer = await browserPeer({
 *   bootstrap: ['/dns4/sync.example.org/tcp/443/wss/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq']
 * })
 * const db = await createDatabase({ name: 'acme-todos', peer })
 * // ...
 * await db.close()
 * await peer.close()
 * ```
 */
export async function browserPeer (options: BrowserPeerOptions = {}): Promise<BrowserPeer> {
  const resolved = resolveOptions(options)
  const store = await openPeerStore(resolved.peerStore)
  try {
    const privateKey = await loadPeerKey(store, resolved.peerStore, resolved.privateKey)
    const libp2p = await createLibp2p(browserLibp2pOptions(resolved, privateKey))
    return new BrowserPeer(libp2p, privateKey, store, resolved)
  } catch (error) {
    store.close()
    throw error
  }
}

/** What a {@link BrowserPeer} reports: a bootstrap peer's state changed (`bootstrap`: it connected, or could not be reached). */
export type BrowserPeerEvents = BootstrapEvents

/** A browser peer's state: see {@link BrowserPeer.status}. */
export interface BrowserPeerStatus {
  /** Open connections (relayed ones included). */
  readonly connections: number
  /** Each bootstrap peer, in the order given. */
  readonly bootstrap: readonly BootstrapStatus[]
}

/** A running Kadmium peer in a browser: see {@link browserPeer}. */
export class BrowserPeer implements Peer {
  /** The libp2p node, started: its key is the user's identity. */
  readonly libp2p: KadmiumLibp2p
  /** The peer's Ed25519 key: the user's identity, which signs what this peer writes. */
  readonly privateKey: PrivateKey
  readonly #store: PeerStore
  readonly #storage: (name: string) => StorageAdapter | Promise<StorageAdapter>
  readonly #storages = new Set<StorageAdapter>()
  /** Aborts the dials of {@link dial} at close. */
  readonly #stopping = new AbortController()
  /** Dials the bootstrap peers and follows where each stands. */
  readonly #bootstrap: BootstrapDialer
  /** Turns relayed connections to other browsers into direct WebRTC ones. */
  readonly #upgrader: DirectUpgrader
  #closed: Promise<void> | undefined

  /** Use {@link browserPeer}: it loads the key and opens the peer store this takes. */
  constructor (libp2p: KadmiumLibp2p, privateKey: PrivateKey, store: PeerStore, options: ResolvedBrowserPeerOptions) {
    this.libp2p = libp2p
    this.privateKey = privateKey
    this.#store = store
    this.#storage = options.storage ?? ((name) => indexedDbStorage(name))
    this.#bootstrap = new BootstrapDialer(libp2p, options.bootstrap)
    this.#upgrader = new DirectUpgrader(libp2p)
  }

  /** The peer's id, derived from its key. */
  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  /**
   * The addresses other peers reach this one on: once a relay took a
   * reservation, `<relay>/p2p-circuit/webrtc/p2p/<this peer>` (WebRTC,
   * signalled through the relay) and `<relay>/p2p-circuit/p2p/<this peer>`;
   * none before (a browser cannot be dialed directly).
   */
  get multiaddrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  /** Open connections, and where each bootstrap peer stands. */
  get status (): BrowserPeerStatus {
    return { connections: this.libp2p.getConnections().length, bootstrap: this.#bootstrap.statuses }
  }

  /** Listens to the peer's events (`bootstrap`: a bootstrap peer connected or could not be reached); returns what stops it. */
  on<K extends keyof BrowserPeerEvents> (type: K, listener: (event: BrowserPeerEvents[K]) => void): Unsubscribe {
    return this.#bootstrap.on(type, listener)
  }

  /**
   * The identity as bytes (libp2p's protobuf form of the private key, as
   * `nodePeer`'s `exportIdentity()` gives), to carry to another device:
   * `browserPeer({ privateKey: decodePeerKey(bytes) })` or
   * `nodePeer({ privateKey: decodePeerKey(bytes) })` there writes as the
   * same user. Keep it secret. Two devices with one identity are one peer
   * id on the network: run them one at a time, or give each device its
   * own identity and grant both as writers.
   */
  exportIdentity (): Uint8Array {
    return encodePeerKey(this.privateKey)
  }

  /**
   * Connects to a peer by multiaddr (text or parsed) or peer id, retrying
   * a few times with a short backoff: a WebRTC dial through a relay
   * sometimes fails once. Rejects with the last attempt's error, or
   * `PeerClosedError` once the peer closes.
   */
  async dial (target: DialTarget, options?: DialRetryOptions): Promise<Connection> {
    this.#throwIfClosed()
    const signal = options?.signal === undefined ? this.#stopping.signal : AbortSignal.any([options.signal, this.#stopping.signal])
    return dialWithRetries(this.libp2p, target, { ...options, signal })
  }

  /**
   * The storage of the database `name` (by default `indexedDbStorage(name)`).
   * A database closes its storage when it closes; {@link close} closes any
   * left open.
   */
  async storage (name: string): Promise<StorageAdapter> {
    if (typeof name !== 'string' || name.length === 0 || !name.isWellFormed()) throw new InvalidArgumentError('a database name must be a non-empty, well-formed string')
    this.#throwIfClosed()
    const opened = await this.#storage(name)
    const storage: StorageAdapter = new TrackedStorage(opened, () => this.#storages.delete(storage))
    if (this.#closed !== undefined) {
      await storage.close?.()
      this.#throwIfClosed()
    }
    this.#storages.add(storage)
    return storage
  }

  /**
   * The manifest of a database opened with this peer store before, so
   * that opening it by address again needs no network; `undefined` if none
   * is kept.
   */
  async readManifest (address: string): Promise<Uint8Array | undefined> {
    if (typeof address !== 'string' || !ADDRESS.test(address) || this.#closed !== undefined) return undefined
    return await this.#store.get('manifests', address).catch(() => undefined)
  }

  /** Keeps a database's manifest in the peer store (once: a manifest never changes under its address). */
  async keepManifest (address: string, manifest: Uint8Array): Promise<void> {
    if (typeof address !== 'string' || !ADDRESS.test(address)) throw new InvalidArgumentError(`"${String(address)}" is not a database address`)
    this.#throwIfClosed()
    await this.#store.add('manifests', address, manifest)
  }

  /**
   * Stops the bootstrap dials and libp2p, then closes every storage this
   * peer opened that is still open, and the peer store. Calling it again
   * returns the same promise.
   */
  close (): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  #throwIfClosed (): void {
    if (this.#closed !== undefined) throw new PeerClosedError('the peer is closed')
  }

  async #close (): Promise<void> {
    this.#stopping.abort(new PeerClosedError('the peer is closed'))
    this.#bootstrap.stop()
    this.#upgrader.stop()
    const closing = new Closing()
    await closing.attempt(() => this.libp2p.stop())
    await Promise.all([...this.#storages].map((storage) => closing.attempt(() => storage.close?.())))
    await closing.attempt(() => { this.#store.close() })
    closing.done()
  }
}
