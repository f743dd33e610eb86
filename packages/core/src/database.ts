import { decode, encode } from 'cborg'
import { Collection, type CollectionOptions, type CollectionType, type CollectionInput } from './collection.ts'
import { CollectionStore } from './store/collection-store.ts'
import type { ChangeEvent, UpdateEvent } from './store/types.ts'
import { CollectionConflictError, DatabaseClosedError, DatabaseMismatchError, DurabilityError, InvalidArgumentError, MalformedMessageError } from './errors.ts'
import { TypedEmitter, type Unsubscribe } from './events.ts'
import { checkCollectionName, checkId } from './model/ids.ts'
import { META_KEY, SequenceKeys } from './storage/layout.ts'
import { isStandardSchema, type StandardSchemaV1 } from './model/schema.ts'
import type { StorageAdapter } from './storage/storage.ts'
import { WriteQueue } from './storage/write-queue.ts'
import type { Peer } from './peer/peer.ts'
import { checkUpdate } from './guard/update-guard.ts'
import type { Replicator, RejectedEvent, ReplicationOptions, SyncEvent } from './sync/replicator.ts'
import type { DurableSource } from './dht/durable-records.ts'
import type { Digest } from './store/digest.ts'
import type { EncryptionOptions } from './crypto/secret.ts'
import { ACCESS_COLLECTION, AccessList } from './access/access-list.ts'
import type { ApplyMeter } from './sync/apply-budget.ts'
import { AccessControl, type DatabaseAccess } from './access/database-access.ts'
import { signerOf, type Signer } from './access/identity.ts'
import { setUpDatabase, type AccessOptions, type DatabaseSetup } from './manifest/setup.ts'

/** Options of {@link createDatabase}. */
export interface DatabaseOptions {
  /**
   * The database's name; storage that holds another database is refused.
   * Give `name` or `address`.
   */
  readonly name?: string
  /**
   * The address of a database another peer shares (`db.address`): its
   * name is read from the manifest in the DHT, which needs `peer`.
   */
  readonly address?: string
  /**
   * Where the database lives on this device (`memoryStorage()`, or an
   * adapter's: LevelDB, IndexedDB). @default the peer's storage for this database
   */
  readonly storage?: StorageAdapter
  /**
   * The libp2p peer to replicate through (`nodePeer()` from `@kadmium/node`,
   * `browserPeer()` from `@kadmium/browser`). Without one the database is
   * local only.
   */
  readonly peer?: Peer
  /** Timing of replication, when there is a peer. */
  readonly replication?: ReplicationOptions
  /**
   * A restricted database: only its owners and the writers they grant
   * (`db.access.grant`) may write; every peer drops everyone else's
   * updates. The owners are part of the address. @default open: anyone may write
   */
  readonly access?: AccessOptions
  /**
   * End-to-end encryption: `{ key }` (32 random bytes) or `{ passphrase }`.
   * Updates on the wire, DHT blocks and heads are sealed with AES-GCM, and
   * DHT keys are keyed pseudonyms, so peers without the key (DHT peers that
   * store the data) see ciphertext only. Part of the address. Data on this
   * device is not encrypted.
   */
  readonly encryption?: EncryptionOptions
  /** Records' `Y.Doc`s kept in memory at most per collection (more are loaded on demand). @default 1000 */
  readonly cacheSize?: number
  /** Compact a record's update log into one snapshot once it holds this many updates. @default 64 */
  readonly compactEvery?: number
  /** Largest record accepted, in bytes of its encoded fields. @default 16 MiB */
  readonly maxRecordBytes?: number
}

/** The events of a {@link Database}. */
export interface DatabaseEvents {
  /** A record was inserted, updated or deleted, here (`origin: 'local'`) or by a peer. */
  change: ChangeEvent
  /** A Yjs update was committed to storage: what a network layer sends to peers. */
  update: UpdateEvent
  /** Background work (compaction, a live query's load) failed. */
  error: Error
  /** A catch-up session with a peer started, progressed, ended or failed. */
  sync: SyncEvent
  /** Input from the network was refused (nothing changed), or left a record failing its schema (`via: 'schema'`). */
  rejected: RejectedEvent
  /** The access list changed (a writer was granted or revoked, here or by a peer). */
  access: { readonly writers: readonly string[] }
}

/** A Yjs update from a peer, as {@link Database.applyRemoteUpdate} takes it. */
export interface RemoteUpdate {
  readonly collection: string
  readonly target: 'record' | 'index'
  /** The record id, for `target: 'record'`. */
  readonly id?: string
  readonly update: Uint8Array
}

/** What {@link Database.status} reports. */
export interface DatabaseStatus {
  /** Whether the database is open. */
  readonly open: boolean
  /** Whether the peer has a connection to any other peer (always false without a peer). */
  readonly online: boolean
  /** Connected peers that replicate this database. */
  readonly peers: number
  /** Writes not yet durable on the device, or not yet put in the DHT. */
  readonly pendingWrites: number
  /** When the last catch-up session with a peer ended well. */
  readonly lastSync: Date | undefined
  /**
   * Live envelopes from peers dropped unapplied since the database opened,
   * because too many arrived at once or their author was over its apply
   * budget. A catch-up with the peer follows and brings what they carried.
   */
  readonly droppedEnvelopes: number
}

const FORMAT = 1

/**
 * Opens (or creates) a database on the given storage.
 *
 * @example
 * ```ts
 * import { createDatabase, memoryStorage } from '@kadmium/core'
 * const db = await createDatabase({ name: 'acme-todos', storage: memoryStorage() })
 * ```
 * @throws {DatabaseMismatchError} the storage holds a database of another name
 */
export async function createDatabase (options: DatabaseOptions): Promise<Database> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('createDatabase takes { name, storage } or { name, peer }')
  const { peer } = options
  if (peer !== undefined && (typeof peer.storage !== 'function' || typeof peer.libp2p !== 'object')) {
    throw new InvalidArgumentError('"peer" must be a Peer (nodePeer(), browserPeer())')
  }
  const setup = await setUpDatabase(options)
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
  const db = new Database({ ...options, name, storage }, known, setup)
  await db.startReplication()
  return db
}

/** Keys `n/<collection>` list the collections a database holds. */
const COLLECTIONS_PREFIX = 'n/'

/**
 * A database: named collections of records on this device. Make one with
 * {@link createDatabase}; close it with {@link Database.close}.
 */
export class Database {
  /** The database's name. */
  readonly name: string
  /**
   * The database's address: the content hash (a CID) of its manifest.
   * Peers that open the same database share it; it names the database's
   * gossip topic and DHT records.
   */
  readonly address: string
  readonly #storage: StorageAdapter
  readonly #peer: Peer | undefined
  readonly #replication: ReplicationOptions | undefined
  #replicator: Replicator | undefined
  /** Collections this database holds, here or as known from peers. */
  readonly #known: Set<string>
  readonly #queue: WriteQueue
  readonly #seq = new SequenceKeys()
  readonly #events = new TypedEmitter<DatabaseEvents>()
  readonly #stores = new Map<string, CollectionStore>()
  readonly #collections = new Map<string, Collection<object, unknown>>()
  readonly #options: Required<Pick<DatabaseOptions, 'cacheSize' | 'compactEvery' | 'maxRecordBytes'>>
  #closed: Promise<void> | undefined
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #setup: DatabaseSetup
  readonly #signer: Signer | undefined
  readonly #access: AccessControl
  #accessLoaded: Promise<void> | undefined

  /** @internal Use {@link createDatabase}. */
  constructor (options: DatabaseOptions & { name: string, storage: StorageAdapter }, known: Set<string>, setup: DatabaseSetup) {
    this.name = options.name
    this.address = setup.address
    this.#setup = setup
    this.#signer = options.peer === undefined ? undefined : signerOf(options.peer.privateKey)
    this.#storage = options.storage
    this.#peer = options.peer
    this.#replication = options.replication
    this.#known = known
    this.#queue = new WriteQueue(options.storage)
    this.#options = {
      cacheSize: positive(options.cacheSize, 'cacheSize') ?? 1000,
      compactEvery: positive(options.compactEvery, 'compactEvery') ?? 64,
      maxRecordBytes: positive(options.maxRecordBytes, 'maxRecordBytes') ?? 16 * 1024 * 1024
    }
    this.#access = new AccessControl({
      list: new AccessList(setup.address, setup.owners),
      storage: options.storage,
      queue: this.#queue,
      signer: this.#signer,
      publish: (id, update) => { this.#replicator?.publish({ collection: ACCESS_COLLECTION, target: 'record', id, update, origin: 'local' }) },
      changed: () => { this.#events.emit('access', { writers: this.#access.writers() }) }
    })
  }

  /**
   * Who may write: anyone (an open database), or its owners and the
   * writers they grant (`createDatabase({ access: { owners } })`).
   */
  get access (): DatabaseAccess {
    return this.#access
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
      store: this.#store(name),
      assertOpen: () => { this.#assertOpen() },
      track: async (operation) => this.#track(operation),
      onChange: (listener) => this.#events.on('change', listener),
      onError: (error) => { this.#events.emit('error', error) },
      durable: async (id, options) => {
        if (this.#replicator === undefined) throw new DurabilityError(0, options.replicas)
        await this.#replicator.ensure(name, id, options)
      },
      fetch: async (id) => this.#replicator?.fetch(name, id) ?? false,
      onRejected: (event) => { this.#events.emit('rejected', event) }
    })
    this.#collections.set(name, collection)
    return collection
  }

  /** Listens to the database's events. */
  on<K extends keyof DatabaseEvents> (type: K, listener: (detail: DatabaseEvents[K]) => void): Unsubscribe {
    return this.#events.on(type, listener)
  }

  /**
   * Applies a Yjs update that a peer sent. Resolves `true` if it changed
   * anything; updates of collections not opened here are stored too.
   * @throws {MalformedUpdateError} the bytes are not a valid update (checked before Yjs sees them); nothing changed
   */
  async applyRemoteUpdate (remote: RemoteUpdate): Promise<boolean> {
    return this.#applyRemote(remote)
  }

  /** {@link applyRemoteUpdate}, with `meter` counting the time spent computing on the update. */
  async #applyRemote (remote: RemoteUpdate, meter?: ApplyMeter): Promise<boolean> {
    return this.#track(async () => {
      if (!(remote.update instanceof Uint8Array)) throw new InvalidArgumentError('"update" must be a Uint8Array')
      if (remote.collection === ACCESS_COLLECTION) {
        if (remote.target !== 'record') throw new MalformedMessageError('the access list has no index')
        meter?.start()
        const applied = this.#access.applyRemote(remote.update)
        meter?.stop()
        return applied
      }
      // Untrusted bytes: their structure is checked before Yjs sees them (crafted updates can hang Yjs).
      meter?.start()
      checkUpdate(remote.update)
      meter?.stop()
      const store = this.#store(checkCollectionName(remote.collection))
      if (remote.target === 'index') return store.applyRemoteIndex(remote.update, meter)
      if (remote.target === 'record') return store.applyRemoteRecord(checkId(remote.id), remote.update, meter)
      throw new InvalidArgumentError('"target" is "record" or "index"')
    })
  }

  /** Whether the database is open and online, its peers, pending writes, last sync and dropped envelopes. */
  get status (): DatabaseStatus {
    return {
      open: this.#closed === undefined,
      online: this.#peer !== undefined && this.#closed === undefined && this.#peer.libp2p.getConnections().length > 0,
      peers: this.#replicator?.peers ?? 0,
      pendingWrites: this.#queue.pending + (this.#replicator?.pending ?? 0),
      lastSync: this.#replicator?.lastSync,
      droppedEnvelopes: this.#replicator?.dropped ?? 0
    }
  }

  /** The peer this database replicates through, if any. */
  get peer (): Peer | undefined {
    return this.#peer
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

  /** @internal Starts replication when the database has a peer; called by {@link createDatabase}. */
  async startReplication (): Promise<void> {
    this.#accessLoaded ??= this.#access.load()
    await this.#accessLoaded
    if (this.#peer === undefined || this.#replicator !== undefined || this.#signer === undefined) return
    const secret = this.#setup.secret
    const security = { signer: this.#signer, access: this.#access.list, sealer: secret, namer: secret }
    // The network layer (gossipsub, kad-dht clients, sync) loads with the first
    // database that has a peer: a local-only app never holds it in memory.
    const { Replicator } = await import('./sync/replicator.ts')
    if (this.#replicator !== undefined || this.#closed !== undefined) return
    this.#replicator = new Replicator(this.#peer.libp2p, this.#syncSource(), security, {
      onSync: (event) => { this.#events.emit('sync', event) },
      onRejected: (event) => { this.#events.emit('rejected', event) }
    }, this.#replication)
    await this.#replicator.start()
  }

  /**
   * Waits for every write under way, then releases the storage. Every call
   * on the database or its collections then rejects with {@link DatabaseClosedError}.
   */
  close (): Promise<void> {
    this.#closed ??= (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
      await this.#replicator?.stop()
      await Promise.all([...this.#stores.values()].map(async (store) => store.close()))
      await this.#queue.drain()
      await this.#storage.close?.()
    })()
    return this.#closed
  }

  #store (name: string): CollectionStore {
    let store = this.#stores.get(name)
    if (store === undefined) {
      store = new CollectionStore(name, {
        storage: this.#storage,
        queue: this.#queue,
        seq: this.#seq,
        ...this.#options,
        onChange: (event) => { this.#events.emit('change', event) },
        checkWrite: (collection) => { this.#access.assertWritable(collection) },
        onPublish: (event) => {
          // (Edits a non-writer makes through `doc(id)` stay on this device: peers would refuse them.)
          return this.#access.canWrite() && this.#replicator?.publish(event) === true
        },
        onUpdate: (event) => { this.#events.emit('update', event) },
        onError: (error) => { this.#events.emit('error', error) }
      })
      this.#stores.set(name, store)
      if (!this.#known.has(name)) {
        this.#known.add(name)
        this.#queue.write([{ type: 'put', key: COLLECTIONS_PREFIX + name, value: new Uint8Array(0) }]).catch((error: Error) => { this.#events.emit('error', error) })
      }
    }
    return store
  }

  /** What catch-up sessions and the DHT read from and write to. The access list rides along as the pseudo-collection `$access`. */
  #syncSource (): DurableSource {
    const ops = (): ReadonlyMap<string, Uint8Array> => this.#access.list.ops()
    return {
      address: this.address,
      manifest: this.#setup.manifest,
      collections: async () => [...(this.#access.restricted ? [ACCESS_COLLECTION] : []), ...this.#known],
      digests: async (c) => c === ACCESS_COLLECTION ? accessDigests(ops()) : this.#store(c).digests(),
      indexDigest: async (c) => c === ACCESS_COLLECTION ? NO_INDEX : this.#store(c).indexDigest(),
      indexDiff: async (c, sv) => this.#store(c).indexDiff(sv),
      recordDiff: async (c, id, sv) => c === ACCESS_COLLECTION ? ops().get(id) : this.#store(c).recordDiff(id, sv),
      storedUpdates: (c, ids) => c === ACCESS_COLLECTION ? accessUpdates(ops(), ids) : this.#store(c).storedUpdates(ids),
      apply: (update, meter) => this.#applyRemote(update, meter),
      waiting: (c, id) => c !== ACCESS_COLLECTION && this.#closed === undefined && this.#store(c).waiting(id)
    }
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

/** The access list's "index": the same on every peer, so that sessions never send one. */
const NO_INDEX: Digest = { sv: new Uint8Array([0]), hash: new Uint8Array(8) }

/** Access operations as catch-up digests: an operation is its own id, so equal ids mean equal content. */
function accessDigests (ops: ReadonlyMap<string, Uint8Array>): ReadonlyMap<string, Digest> {
  const out = new Map<string, Digest>()
  for (const id of ops.keys()) out.set(id, NO_INDEX)
  return out
}

async function * accessUpdates (ops: ReadonlyMap<string, Uint8Array>, ids: ReadonlySet<string>): AsyncIterable<[string, Uint8Array[]]> {
  for (const id of ids) {
    const bytes = ops.get(id)
    if (bytes !== undefined) yield [id, [bytes]]
  }
}

function positive (value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`"${name}" must be a whole number >= 1`)
  return value
}

function sameSet (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x))
}
