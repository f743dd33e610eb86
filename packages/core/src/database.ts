import { decode, encode } from 'cborg'
import { Collection, type CollectionOptions, type CollectionType, type CollectionInput } from './collection.ts'
import { CollectionStore, type ChangeEvent, type UpdateEvent } from './collection-store.ts'
import { CollectionConflictError, DatabaseClosedError, DatabaseMismatchError, InvalidArgumentError } from './errors.ts'
import { TypedEmitter, type Unsubscribe } from './events.ts'
import { checkCollectionName, checkId } from './ids.ts'
import { META_KEY, SequenceKeys } from './keys.ts'
import { isStandardSchema, type StandardSchemaV1 } from './schema.ts'
import type { StorageAdapter } from './storage.ts'
import { WriteQueue } from './write-queue.ts'

/** Options of {@link createDatabase}. */
export interface DatabaseOptions {
  /** The database's name; storage that holds another database is refused. */
  readonly name: string
  /** Where the database lives on this device (`memoryStorage()`, or an adapter's: LevelDB, IndexedDB). */
  readonly storage: StorageAdapter
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
  /** Writes handed to storage and not yet durable. */
  readonly pendingWrites: number
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
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('createDatabase takes { name, storage }')
  const { name, storage } = options
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
    throw new InvalidArgumentError('a database name is a string of 1 to 256 characters')
  }
  if (typeof storage?.get !== 'function' || typeof storage.batch !== 'function' || typeof storage.scan !== 'function') {
    throw new InvalidArgumentError('"storage" must be a StorageAdapter')
  }
  const stored = await storage.get(META_KEY)
  if (stored === undefined) {
    await storage.put(META_KEY, encode({ name, format: FORMAT }))
  } else {
    const meta = decode(stored) as { name?: unknown, format?: unknown }
    if (meta.name !== name) {
      throw new DatabaseMismatchError(`the storage holds database "${String(meta.name)}", not "${name}"`)
    }
    if (meta.format !== FORMAT) throw new DatabaseMismatchError(`the storage is in format ${String(meta.format)}; this version reads ${FORMAT}`)
  }
  return new Database(options)
}

/**
 * A database: named collections of records on this device. Make one with
 * {@link createDatabase}; close it with {@link Database.close}.
 */
export class Database {
  /** The database's name. */
  readonly name: string
  readonly #storage: StorageAdapter
  readonly #queue: WriteQueue
  readonly #seq = new SequenceKeys()
  readonly #events = new TypedEmitter<DatabaseEvents>()
  readonly #stores = new Map<string, CollectionStore>()
  readonly #collections = new Map<string, Collection<object, unknown>>()
  readonly #options: Required<Pick<DatabaseOptions, 'cacheSize' | 'compactEvery' | 'maxRecordBytes'>>
  #closed: Promise<void> | undefined
  readonly #inFlight = new Set<Promise<unknown>>()

  /** @internal Use {@link createDatabase}. */
  constructor (options: DatabaseOptions) {
    this.name = options.name
    this.#storage = options.storage
    this.#queue = new WriteQueue(options.storage)
    this.#options = {
      cacheSize: positive(options.cacheSize, 'cacheSize') ?? 1000,
      compactEvery: positive(options.compactEvery, 'compactEvery') ?? 64,
      maxRecordBytes: positive(options.maxRecordBytes, 'maxRecordBytes') ?? 16 * 1024 * 1024
    }
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
      onError: (error) => { this.#events.emit('error', error) }
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
   * @throws {MalformedUpdateError} the bytes are not a valid update; nothing changed
   */
  async applyRemoteUpdate (remote: RemoteUpdate): Promise<boolean> {
    return this.#track(async () => {
      if (!(remote.update instanceof Uint8Array)) throw new InvalidArgumentError('"update" must be a Uint8Array')
      const store = this.#store(checkCollectionName(remote.collection))
      if (remote.target === 'index') return store.applyRemoteIndex(remote.update)
      if (remote.target === 'record') return store.applyRemoteRecord(checkId(remote.id), remote.update)
      throw new InvalidArgumentError('"target" is "record" or "index"')
    })
  }

  /** Whether the database is open, and how many writes are not yet durable. */
  get status (): DatabaseStatus {
    return { open: this.#closed === undefined, pendingWrites: this.#queue.pending }
  }

  /**
   * Waits for every write under way, then releases the storage. Every call
   * on the database or its collections then rejects with {@link DatabaseClosedError}.
   */
  close (): Promise<void> {
    this.#closed ??= (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
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
        onUpdate: (event) => { this.#events.emit('update', event) },
        onError: (error) => { this.#events.emit('error', error) }
      })
      this.#stores.set(name, store)
    }
    return store
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

function positive (value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`"${name}" must be a whole number >= 1`)
  return value
}

function sameSet (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x))
}
