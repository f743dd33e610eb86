import { decode, encode } from 'cborg'
import { Collection, type CollectionOptions, type CollectionType, type CollectionInput } from './collection.ts'
import { CollectionConflictError, DatabaseClosedError, DatabaseMismatchError, DurabilityError, InvalidArgumentError } from './errors.ts'
import { TypedEmitter, type Unsubscribe } from './events.ts'
import { checkCollectionName } from './model/ids.ts'
import { META_KEY } from './storage/layout.ts'
import { isStandardSchema, type StandardSchemaV1 } from './model/schema.ts'
import type { SharedStorage, StorageAdapter } from './storage/storage.ts'
import type { Peer } from './peer/peer.ts'
import type { Replicator, ReplicationOptions } from './replication/replicator.ts'
import type { ManifestAnswer } from './sync/manifest-request.ts'
import type { Refusal, RemoteRecord, RemoteUpdate } from './replica/replica.ts'
import { COLLECTIONS_PREFIX, LocalReplica } from './replica/local-replica.ts'
import { ACCESS_COLLECTION } from './access/access-list.ts'
import type { DatabaseAccess } from './access/database-access.ts'
import { signerOf, type Signer } from './access/identity.ts'
import { setUpDatabase, type DatabaseSetup } from './manifest/setup.ts'
import type { ApplyOptions, DatabaseEvents, DatabaseOptions, DatabaseStatus } from './database-options.ts'
import { matchesAddress } from './manifest/address.ts'
import { PresenceKeeper, presenceOptions, type CheckedPresenceOptions, type Presence, type PresenceState } from './presence/presence.ts'
import type { PresenceChannel } from './presence/presence-channel.ts'

const FORMAT = 1
/** Longest wait for the manifest of a database opened by address (ms). */
const DEFAULT_OPEN_TIMEOUT = 15_000

/**
 * Opens (or creates) a database on the given storage. `P` types the
 * peers' presence states (`db.presence`): given, or from `presence.schema`.
 *
 * @example
 * ```ts
 * import { createDatabase, memoryStorage } from '@kadmium/core'
 * const db = await createDatabase({ name: 'acme-todos', storage: memoryStorage() })
 * ```
 * @throws {DatabaseMismatchError} the storage holds a database of another name
 * @throws {PeersUnreachableError} opening by address: no peer could be reached in `openTimeout`
 * @throws {DatabaseNotFoundError} opening by address: no peer reached (nor the DHT) has the database
 */
export async function createDatabase<P extends object = PresenceState> (options: DatabaseOptions<P>): Promise<Database<P>> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('createDatabase takes { name, storage } or { name, peer }')
  const { peer } = options
  if (peer !== undefined) checkPeer(peer)
  const presence = presenceOptions(options.presence)
  // The network layer loads with the first database that has a peer: start loading it now,
  // while the manifest or the storage is awaited (a fresh process spends tens of ms on it).
  if (peer !== undefined) import('./replication/replicator.ts').catch(() => {})
  // The stream of the peer that sent the manifest (opening by address): the catch-up session with it rides on it.
  let ridden: ManifestAnswer | undefined
  try {
    const setup = await setUpDatabase(options, peer === undefined
      ? undefined
      : async (address) => {
        // Opened here before: the manifest is on the device (no network needed).
        const kept = await peer.readManifest?.(address).catch(() => undefined)
        if (kept !== undefined && matchesAddress(kept, address)) return kept
        // The network layer loads with the first database that has a peer.
        const { lookUpManifest } = await import('./replication/manifest-lookup.ts')
        const found = await lookUpManifest(peer.libp2p, address, positive(options.openTimeout, 'openTimeout') ?? DEFAULT_OPEN_TIMEOUT)
        ridden = found.answer
        return found.manifest
      })
    const db = await openDatabase(options, setup, presence)
    // Kept while replication starts: a write to the device that the catch-up need not wait
    // for. (Not keeping it only means the next open by address asks the network.)
    const keeping = peer?.keepManifest?.(setup.address, setup.manifest).catch(() => {})
    const session = ridden
    ridden = undefined
    await db.startReplication(session)
    await keeping
    return db
  } finally {
    const unused: ManifestAnswer | undefined = ridden
    unused?.stream.close().catch(() => {})
  }
}

/** Opens the storage of a database whose name, address and keys are set up. */
async function openDatabase<P extends object> (options: DatabaseOptions<P>, setup: DatabaseSetup, presence: CheckedPresenceOptions<P>): Promise<Database<P>> {
  const { peer } = options
  const { name } = setup
  const storage = options.storage ?? await peer?.storage(name)
  if (storage === undefined) throw new InvalidArgumentError('createDatabase needs "storage" or "peer"')
  if (typeof storage?.get !== 'function' || typeof storage.batch !== 'function' || typeof storage.scan !== 'function') {
    throw new InvalidArgumentError('"storage" must be a StorageAdapter')
  }
  const stored = await storage.get(META_KEY)
  if (stored === undefined) {
    await storage.put(META_KEY, encode({ name, format: FORMAT, address: setup.address }))
  } else {
    const meta = decode(stored) as { name?: unknown, format?: unknown, address?: unknown }
    if (meta.name !== name) {
      throw new DatabaseMismatchError(`the storage holds database "${String(meta.name)}", not "${name}"`)
    }
    if (meta.format !== FORMAT) throw new DatabaseMismatchError(`the storage is in format ${String(meta.format)}; this version reads ${FORMAT}`)
    if (meta.address !== undefined && meta.address !== setup.address) {
      throw new DatabaseMismatchError(`the storage holds database "${name}" at another address (other owners or key), not "${setup.address}"`)
    }
  }
  const known = new Set<string>()
  for await (const [key] of storage.scan(COLLECTIONS_PREFIX, { keysOnly: true })) known.add(key.slice(COLLECTIONS_PREFIX.length))
  return new Database<P>({ ...options, name, storage }, known, setup, presence)
}

/**
 * A database: named collections of records on this device, and the
 * presence of its peers. Make one with {@link createDatabase}; close it
 * with {@link Database.close}. `P` is the type of presence states.
 */
export class Database<P extends object = PresenceState> {
  /** The database's name. */
  readonly name: string
  /**
   * The database's address: the content hash (a CID) of its manifest.
   * Peers that open the same database share it; it names the database's
   * gossip topic and DHT records.
   */
  readonly address: string
  /**
   * Who else has the database open, and their ephemeral state (a nick,
   * "typing", a cursor): this peer's with `presence.set(state)`, the
   * others' with `presence.peers()` and `presence.subscribe(…)`. Never
   * stored; see {@link Presence}.
   */
  readonly presence: Presence<P>
  readonly #presence: PresenceKeeper<P>
  #presenceChannel: PresenceChannel | undefined
  #peer: Peer | undefined
  readonly #replication: ReplicationOptions | undefined
  /** The data on this device, as replication sees it. */
  readonly #replica: LocalReplica
  #replicator: Replicator | undefined
  readonly #events = new TypedEmitter<DatabaseEvents>()
  readonly #collections = new Map<string, Collection<object, unknown>>()
  #closed: Promise<void> | undefined
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #setup: DatabaseSetup
  #signer: Signer | undefined
  #loaded: Promise<void> | undefined

  /** @internal Use {@link createDatabase}. */
  constructor (options: DatabaseOptions<P> & { name: string, storage: StorageAdapter }, known: Set<string>, setup: DatabaseSetup, presence: CheckedPresenceOptions<P>) {
    this.name = options.name
    this.address = setup.address
    this.#presence = new PresenceKeeper<P>(presence, {
      isOpen: () => this.#closed === undefined,
      onError: (error) => { this.#events.emit('error', error instanceof Error ? error : new Error(String(error))) }
    })
    this.presence = this.#presence
    this.#setup = setup
    this.#signer = options.peer === undefined ? undefined : signerOf(options.peer.privateKey)
    this.#peer = options.peer
    this.#replication = options.replication
    this.#replica = new LocalReplica({
      address: setup.address,
      manifest: setup.manifest,
      owners: setup.owners,
      storage: options.storage,
      shared: sharedStorage(options.sharedStorage),
      signer: this.#signer,
      known,
      cacheSize: positive(options.cacheSize, 'cacheSize') ?? 1000,
      compactEvery: positive(options.compactEvery, 'compactEvery') ?? 64,
      maxRecordBytes: positive(options.maxRecordBytes, 'maxRecordBytes') ?? 16 * 1024 * 1024,
      onChange: (event) => { this.#events.emit('change', event) },
      onUpdate: (event) => { this.#events.emit('update', event) },
      onError: (error) => { this.#events.emit('error', error) },
      onAccess: (writers) => { this.#events.emit('access', { writers }) },
      track: async (operation) => this.#track(operation),
      isOpen: () => this.#closed === undefined
    })
  }

  /**
   * Who may write: anyone (an open database), or its owners and the
   * writers they grant (`createDatabase({ access: { owners } })`).
   */
  get access (): DatabaseAccess {
    return this.#replica.access
  }

  /** Whether the database is end-to-end encrypted (`createDatabase({ encryption })`). */
  get encrypted (): boolean {
    return this.#setup.secret !== undefined
  }

  /**
   * A typed collection. Call it again with the same name to get the same
   * collection; record types come from the schema.
   * @throws {CollectionConflictError} the name is already open with another schema or other text fields
   */
  collection<S extends StandardSchemaV1> (name: string, options: CollectionOptions<S>): Collection<CollectionType<S>, CollectionInput<S>> {
    this.#assertOpen()
    checkCollectionName(name)
    if (!isStandardSchema(options?.schema)) throw new InvalidArgumentError('"schema" must be a Standard Schema (zod, valibot, arktype, ...)')
    const existing = this.#collections.get(name)
    if (existing !== undefined) {
      const text = new Set(options.text as readonly string[] | undefined ?? [])
      if (existing.schema !== options.schema || !sameSet(existing.textFields, text)) {
        throw new CollectionConflictError(`collection "${name}" is already open with another schema or other text fields`)
      }
      return existing as unknown as Collection<CollectionType<S>, CollectionInput<S>>
    }
    const collection = new Collection<CollectionType<S>, CollectionInput<S>>(name, options as unknown as CollectionOptions<StandardSchemaV1>, {
      store: this.#replica.store(name),
      assertOpen: () => { this.#assertOpen() },
      track: async (operation) => this.#track(operation),
      onChange: (listener) => this.#events.on('change', listener),
      onError: (error) => { this.#events.emit('error', error) },
      durable: async (id, options) => {
        if (this.#replicator === undefined) throw new DurabilityError(0, options.replicas)
        await this.#replicator.ensure(name, id, options)
      },
      fetch: async (id) => this.#replicator?.fetch(name, id) ?? false,
      fetchAll: async () => this.#replicator?.fetchCollection(name) ?? 0,
      onRejected: (event) => { this.#events.emit('rejected', event) }
    })
    this.#collections.set(name, collection)
    return collection
  }

  /** Listens to the database's events. */
  on<K extends keyof DatabaseEvents> (type: K, listener: (detail: DatabaseEvents[K]) => void): Unsubscribe {
    return this.#events.on(type, listener)
  }

  /** The names of the collections this database holds on this device: opened here, or brought by peers. */
  async collectionNames (): Promise<string[]> {
    this.#assertOpen()
    return (await this.#replica.collections()).filter((name) => name !== ACCESS_COLLECTION).sort()
  }

  /**
   * Applies a Yjs update that a peer sent. Resolves `true` if it changed
   * anything; updates of collections not opened here are stored too.
   * @throws {MalformedUpdateError} the bytes are not a valid update (checked before Yjs sees them); nothing changed
   */
  async applyRemoteUpdate (remote: RemoteUpdate, options: ApplyOptions = {}): Promise<boolean> {
    const changed = await this.#replica.apply(remote)
    // (Published whether or not it changed anything here: the tab that made it stored it first.)
    if (options.publish === true) this.#replica.publish({ ...remote, origin: 'local' })
    return changed
  }

  /**
   * Applies many records a peer sent whole (each its id and its updates,
   * as a catch-up brings them): records new here are stored together in
   * one storage batch. Resolves once they are stored, with the updates
   * refused (they changed nothing: malformed bytes, a bad id).
   */
  async applyRemoteRecords (collection: string, records: readonly RemoteRecord[]): Promise<readonly Refusal[]> {
    const applied = await this.#replica.applyRecords(collection, records)
    await applied.stored
    return applied.refused
  }

  /** Whether the database is open and online, its peers, pending writes, last sync and dropped envelopes. */
  get status (): DatabaseStatus {
    return {
      open: this.#closed === undefined,
      online: this.#peer !== undefined && this.#closed === undefined && this.#peer.libp2p.getConnections().length > 0,
      peers: this.#replicator?.peers ?? 0,
      pendingWrites: this.#replica.queue.pending + (this.#replicator?.pending ?? 0),
      ...(this.#replicator !== undefined ? { dht: this.#replicator.dht } : {}),
      lastSync: this.#replicator?.lastSync,
      droppedEnvelopes: this.#replicator?.dropped ?? 0
    }
  }

  /** The peer this database replicates through, if any. */
  get peer (): Peer | undefined {
    return this.#peer
  }

  /**
   * Starts replicating through `peer`, for a database opened without one:
   * a browser tab that takes the network over from another (see
   * `@kadmium/browser`'s tabs). Its key signs this database's writes from
   * now on. Resolves once replication runs; the database keeps the peer
   * until it closes (closing the peer stays the caller's).
   * @throws {InvalidArgumentError} the database has a peer already, or `peer` is not a Peer
   * @throws {DatabaseClosedError} the database is closed
   */
  async replicate (peer: Peer): Promise<void> {
    this.#assertOpen()
    if (this.#peer !== undefined) throw new InvalidArgumentError('the database has a peer already')
    checkPeer(peer)
    const signer = signerOf(peer.privateKey)
    this.#peer = peer
    this.#signer = signer
    this.#replica.useSigner(signer)
    await peer.keepManifest?.(this.address, this.#setup.manifest).catch(() => {})
    try {
      await this.startReplication()
    } catch (error) {
      const started = this.#replicator
      this.#replicator = undefined
      this.#presenceChannel = undefined
      this.#peer = undefined
      this.#signer = undefined
      this.#replica.useSigner(undefined)
      await started?.stop().catch(() => {})
      throw error
    }
  }

  /**
   * Catches up with every connected peer of the database now (it also
   * happens on connect and periodically); resolves when all sessions end.
   */
  async sync (): Promise<void> {
    this.#assertOpen()
    const replicator = this.#replicator
    if (replicator === undefined || this.#peer === undefined) return
    const peers = new Map(this.#peer.libp2p.getConnections().map((c) => [c.remotePeer.toString(), c.remotePeer]))
    await Promise.allSettled([...peers.values()].map(async (p) => replicator.sync(p)))
  }

  /**
   * @internal Loads the access list, and starts replication when the
   * database has a peer; called by {@link createDatabase}, with the stream
   * the manifest came on when opening by address (its session rides on it).
   */
  async startReplication (ridden?: ManifestAnswer): Promise<void> {
    const unused = (): void => { ridden?.stream.close().catch(() => {}) }
    this.#loaded ??= this.#replica.load()
    await this.#loaded
    if (this.#peer === undefined || this.#replicator !== undefined || this.#signer === undefined) return unused()
    const secret = this.#setup.secret
    const security = { signer: this.#signer, access: this.#replica.access.list, sealer: secret, namer: secret }
    // The network layer (gossipsub, kad-dht clients, sync) loads with the first
    // database that has a peer: a local-only app never holds it in memory.
    const [{ Replicator }, { PresenceChannel }] = await Promise.all([import('./replication/replicator.ts'), import('./presence/presence-channel.ts')])
    if (this.#replicator !== undefined || this.#closed !== undefined) return unused()
    const { libp2p } = this.#peer
    this.#replicator = new Replicator(libp2p, this.#replica, security, {
      onSync: (event) => { this.#events.emit('sync', event) },
      onRejected: (event) => { this.#events.emit('rejected', event) }
    }, this.#replication)
    this.#presenceChannel = new PresenceChannel(libp2p.services.pubsub, this.address, this.#presence, {
      signer: this.#signer, self: libp2p.peerId.toString(), access: this.#replica.access.list, sealer: secret
    }, {
      onRejected: (reason, from) => { this.#events.emit('rejected', { reason, via: 'presence', peer: from.toString() }) }
    })
    await this.#replicator.start(ridden)
    this.#presenceChannel.start()
  }

  /**
   * Waits for every write under way, then releases the storage. Every call
   * on the database or its collections then rejects with {@link DatabaseClosedError}.
   */
  close (): Promise<void> {
    this.#closed ??= (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
      // Peers hear that this one left before the topics close.
      await this.#presenceChannel?.stop()
      await this.#replicator?.stop()
      await this.#replica.close()
    })()
    return this.#closed
  }

  /** Runs an operation that close() waits for. */
  async #track<R> (operation: () => Promise<R>): Promise<R> {
    this.#assertOpen()
    const running = operation()
    this.#inFlight.add(running)
    try {
      return await running
    } finally {
      this.#inFlight.delete(running)
    }
  }

  #assertOpen (): void {
    if (this.#closed !== undefined) throw new DatabaseClosedError()
  }
}

function checkPeer (peer: Peer): void {
  if (typeof peer !== 'object' || peer === null || typeof peer.storage !== 'function' || typeof peer.libp2p !== 'object') {
    throw new InvalidArgumentError('"peer" must be a Peer (nodePeer(), browserPeer())')
  }
}

function sharedStorage (shared: SharedStorage | undefined): SharedStorage | undefined {
  if (shared !== undefined && typeof shared?.exclusive !== 'function') throw new InvalidArgumentError('"sharedStorage" must be { exclusive(work) }')
  return shared
}

function positive (value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`"${name}" must be a whole number >= 1`)
  return value
}

function sameSet (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x))
}
