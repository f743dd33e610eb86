/**
 * `nodePeer()`: a Kadmium peer for Node.js — a libp2p node (TCP,
 * WebSockets, WebRTC-Direct when asked for, mDNS, a relay server for
 * browsers when asked for, and Kadmium's profile from `@kadmium/core/profile`:
 * noise, yamux, kad-dht, gossipsub) whose key, DHT records and peer store
 * live in a data directory (its DHT server merging Kadmium heads:
 * `kadmiumDatastore`), and LevelDB storage for each database.
 * @module
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidArgumentError, PeerClosedError, StorageError, TypedEmitter, type KadmiumLibp2p, type Peer, type StorageAdapter, type Unsubscribe } from '@kadmium/core'
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
import { LevelDatastore } from 'datastore-level'
import { createLibp2p, type Libp2p } from 'libp2p'
import { databaseDirectoryName } from './database-directory.ts'
import { libp2pOptions, type NodePeerServices } from './libp2p-options.ts'
import { resolveOptions, type NodePeerOptions, type ResolvedNodePeerOptions } from './node-peer-options.ts'
import { levelStorage, type StorageDamagedEvent } from './level-storage.ts'
import { loadPeerKey } from './peer-key.ts'
import { releaseWebRTCDirect } from './webrtc-direct.ts'

// Where a bootstrap peer stands: shared by every adapter.
export type { BootstrapStatus } from '@kadmium/core/profile'

/** Subdirectory of the data directory that holds libp2p's datastore. */
const LIBP2P_DIR = 'libp2p'
/** Subdirectory of the data directory that holds one LevelDB directory per database. */
const DATABASES_DIR = 'databases'
/** Subdirectory of the data directory that holds the manifests of the databases opened here, by address. */
const MANIFESTS_DIR = 'manifests'
/** What a database address (a CID) is made of: nothing else names a manifest file. */
const ADDRESS = /^[a-zA-Z0-9]{8,128}$/

/**
 * Starts a Kadmium peer for Node.js. Resolves once libp2p listens on every
 * address; the bootstrap peers are dialed in the background.
 *
 * Rejects with `PeerKeyError` if the data directory's key cannot be read or
 * is another identity than `options.privateKey`, with `StorageError` if the
 * data directory is used by another peer, with `AddressError` for an
 * address that does not parse (or a bootstrap address without a valid
 * `/p2p/<peer id>`), with `InvalidArgumentError` for other bad options, and with libp2p's error if it cannot start (an address is
 * taken, ...). Nothing stays open then.
 *
 * @example
 * ```ts
 * import { nodePeer } from '@kadmium/node'
 *
 * const peer = await nodePeer({ dataDir: './data', bootstrap: ['/dns4/boot.example.com/tcp/4001/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'] })
 * console.log(peer.peerId.toString(), peer.multiaddrs.map(String))
 * // ... open databases with peer.storage(name)
 * await peer.close()
 * ```
 */
export async function nodePeer (options: NodePeerOptions): Promise<NodePeer> {
  const resolved = resolveOptions(options)
  await mkdir(resolved.dataDir, { recursive: true, mode: 0o700 })
  // LevelDB locks its directory: opening the datastore first keeps a second peer off this data directory
  // before it can touch the key file.
  const datastore = await openDatastore(join(resolved.dataDir, LIBP2P_DIR))
  try {
    const privateKey = await loadPeerKey(resolved.dataDir, options.privateKey)
    // libp2pOptions wraps the datastore so that this peer's DHT server merges Kadmium heads instead of replacing them.
    const libp2p = await createLibp2p(await libp2pOptions(resolved, privateKey, datastore)).catch(async (error: unknown) => {
      if (resolved.webRTCDirect) await releaseWebRTCDirect()
      throw error
    })
    return new NodePeer(libp2p, privateKey, datastore, resolved)
  } catch (error) {
    await datastore.close()
    throw error
  }
}

/** What a {@link NodePeer} reports. */
export interface NodePeerEvents extends BootstrapEvents {
  /**
   * A database's storage was found damaged on disk as it opened, moved
   * aside (`setAsideTo`) and begun empty: catch-up refills it from the
   * peers that hold the database. Writes that had reached no other peer
   * are only in the directory set aside. See {@link NodePeer.storage}.
   */
  damaged: StorageDamagedEvent
}

/** A peer's state: see {@link NodePeer.status}. */
export interface NodePeerStatus {
  /** Open connections. */
  readonly connections: number
  /** Each bootstrap peer, in the order given. */
  readonly bootstrap: readonly BootstrapStatus[]
}

/** A running Kadmium peer on Node.js: see {@link nodePeer}. */
export class NodePeer implements Peer {
  /** The libp2p node, started: its key is the user's identity. */
  readonly libp2p: KadmiumLibp2p
  /** The peer's Ed25519 key: the user's identity, which signs what this peer writes. */
  readonly privateKey: PrivateKey
  readonly #datastore: LevelDatastore
  readonly #databasesDir: string
  readonly #manifestsDir: string
  readonly #storages = new Set<StorageAdapter>()
  /** Aborts the dials of {@link dial} at close. */
  readonly #stopping = new AbortController()
  /** Dials the bootstrap peers and follows where each stands. */
  readonly #bootstrap: BootstrapDialer
  /** Whether the node has the WebRTC-Direct transport, to release at close. */
  readonly #webRTCDirect: boolean
  /** The events that are not the bootstrap dialer's. */
  readonly #events = new TypedEmitter<Pick<NodePeerEvents, 'damaged'>>()
  #closed: Promise<void> | undefined

  /** Use {@link nodePeer}: it loads the key and opens the datastore this takes. */
  constructor (libp2p: Libp2p<NodePeerServices>, privateKey: PrivateKey, datastore: LevelDatastore, options: ResolvedNodePeerOptions) {
    this.libp2p = libp2p
    this.privateKey = privateKey
    this.#datastore = datastore
    this.#databasesDir = join(options.dataDir, DATABASES_DIR)
    this.#manifestsDir = join(options.dataDir, MANIFESTS_DIR)
    this.#bootstrap = new BootstrapDialer(libp2p, options.bootstrap)
    this.#webRTCDirect = options.webRTCDirect
  }

  /**
   * Listens to the peer's events (`bootstrap`: a bootstrap peer connected
   * or could not be reached; `damaged`: a database's storage was found
   * damaged and begun anew); returns what stops it.
   */
  on<K extends keyof NodePeerEvents> (type: K, listener: (event: NodePeerEvents[K]) => void): Unsubscribe {
    if (type === 'damaged') return this.#events.on('damaged', listener as (event: StorageDamagedEvent) => void)
    return this.#bootstrap.on(type, listener as (event: BootstrapStatus) => void)
  }

  /** Open connections, and where each bootstrap peer stands. */
  get status (): NodePeerStatus {
    return { connections: this.libp2p.getConnections().length, bootstrap: this.#bootstrap.statuses }
  }

  /** The peer's id, derived from its key. */
  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  /**
   * The identity as bytes (libp2p's protobuf form of the private key), to
   * carry to another device: `nodePeer({ privateKey: decodePeerKey(bytes) })`
   * there writes as the same user. Keep it secret. Two devices with one
   * identity are one peer id on the network: run them one at a time, or
   * give each device its own identity and grant both as writers.
   */
  exportIdentity (): Uint8Array {
    return encodePeerKey(this.privateKey)
  }

  /** The addresses other peers can dial this one on (with `/p2p/<peer id>`). */
  get multiaddrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  /**
   * Connects to a peer by multiaddr (text or parsed) or peer id, retrying
   * a few times with a short backoff: simultaneous dials between two
   * peers sometimes fail once. Rejects with the last attempt's error.
   */
  async dial (target: DialTarget, options?: DialRetryOptions): Promise<Connection> {
    this.#throwIfClosed()
    const signal = options?.signal === undefined ? this.#stopping.signal : AbortSignal.any([options.signal, this.#stopping.signal])
    return dialWithRetries(this.libp2p, target, { ...options, signal })
  }

  /**
   * LevelDB storage for the database `name`, in
   * `<dataDir>/databases/<slug>-<hash>` (see `databaseDirectoryName`).
   * A database closes its storage when it closes; {@link close} closes any
   * left open. One database directory can be open once at a time.
   *
   * A directory found damaged on disk as it opens (see `levelStorage`) is
   * renamed `<directory>.damaged-<UTC date and time>`, kept for a look or
   * a salvage, and the database begins empty there: catch-up refills it
   * from the peers that hold it. The peer emits `damaged` with both paths
   * and the `StorageCorruptionError` that says what was wrong.
   */
  async storage (name: string): Promise<StorageAdapter> {
    if (typeof name !== 'string' || !name.isWellFormed()) throw new InvalidArgumentError('a database name must be a well-formed string')
    this.#throwIfClosed()
    await mkdir(this.#databasesDir, { recursive: true })
    this.#throwIfClosed() // close() may have begun while the directory was made
    const storage: StorageAdapter = new TrackedStorage(
      levelStorage(join(this.#databasesDir, databaseDirectoryName(name)), {
        ifDamaged: 'set-aside',
        onDamaged: (event) => { this.#events.emit('damaged', event) }
      }),
      () => this.#storages.delete(storage)
    )
    this.#storages.add(storage)
    return storage
  }

  /**
   * The manifest of a database opened with this peer before
   * (`<dataDir>/manifests/<address>`), so that opening it by address again
   * needs no network; `undefined` if none is kept.
   */
  async readManifest (address: string): Promise<Uint8Array | undefined> {
    if (typeof address !== 'string' || !ADDRESS.test(address)) return undefined
    try {
      return new Uint8Array(await readFile(join(this.#manifestsDir, address)))
    } catch {
      return undefined
    }
  }

  /** Keeps a database's manifest, written whole (a new file renamed into place). */
  async keepManifest (address: string, manifest: Uint8Array): Promise<void> {
    if (!ADDRESS.test(address)) throw new InvalidArgumentError(`"${address}" is not a database address`)
    this.#throwIfClosed()
    const path = join(this.#manifestsDir, address)
    if ((await this.readManifest(address)) !== undefined) return
    await mkdir(this.#manifestsDir, { recursive: true })
    const partial = `${path}.${process.pid}.partial`
    await writeFile(partial, manifest)
    await rename(partial, path)
  }

  /**
   * Stops libp2p, then closes every storage this peer opened that is still
   * open and the datastore. Calling it again returns the same promise.
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
    const closing = new Closing()
    await closing.attempt(() => this.libp2p.stop())
    if (this.#webRTCDirect) await closing.attempt(releaseWebRTCDirect)
    await Promise.all([...this.#storages].map((storage) => closing.attempt(() => storage.close?.())))
    await closing.attempt(() => this.#datastore.close())
    closing.done()
  }
}

/** Opens libp2p's LevelDB datastore; a directory held by another peer rejects with {@link StorageError}. */
async function openDatastore (path: string): Promise<LevelDatastore> {
  const datastore = new LevelDatastore(path)
  try {
    await datastore.open()
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    throw new StorageError(`cannot open the libp2p datastore at "${path}" (is another peer using this data directory?): ${detail}`, { cause })
  }
  return datastore
}
