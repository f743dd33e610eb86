import type * as Y from 'yjs'
import type { CollectionStore } from './store/collection-store.ts'
import type { ChangeEvent } from './store/types.ts'
import { InvalidArgumentError, InvalidRecordError, ValidationError, type ValidationIssue } from './errors.ts'
import type { Unsubscribe } from './events.ts'
import { checkId, newId } from './model/ids.ts'
import type { RejectedEvent } from './replica/replica.ts'
import { compileQuery, type CompiledQuery, type Query, type QueryContext, type Row as AnyRow } from './query/query.ts'
import type { CheckedRow } from './query/row-check.ts'
import { check, knownFields, validate, type InferInput, type InferOutput, type StandardSchemaV1 } from './model/schema.ts'
import { toStoredObject, type StoredObject } from './model/values.ts'

/** A record as reads return it: its fields and its `id`, frozen. */
export type Row<T> = Readonly<T> & {
  /** The record's id. */
  readonly id: string
}

/** The names of the string fields of `T`: the fields that can be collaborative text. */
export type StringField<T> = { [K in keyof T & string]-?: NonNullable<T[K]> extends string ? K : never }[keyof T & string]

/**
 * A stored record that fails the collection's schema (see
 * {@link Collection.invalid}): a peer wrote it, or an older schema allowed it.
 */
export interface InvalidRecord {
  /** The record's id. */
  readonly id: string
  /** Every failing field, as the schema reported it. */
  readonly issues: readonly ValidationIssue[]
  /** The stored fields as they are (not a `T`), with `id`; frozen. */
  readonly value: Readonly<Record<string, unknown>>
}

/** Options of {@link Database.collection}. */
export interface CollectionOptions<S extends StandardSchemaV1> {
  /**
   * The schema every write is checked against: any Standard Schema
   * (zod, valibot, arktype, ...). Its output type is the record type.
   * The field name `id` is reserved for the record id.
   */
  readonly schema: S
  /**
   * String fields stored as collaborative text (`Y.Text`): concurrent edits
   * to one such field merge character by character instead of one value
   * winning. Reads still return plain strings; `doc(id)` gives the `Y.Text`
   * for editor bindings. @default []
   */
  readonly text?: ReadonlyArray<StringField<InferOutput<S>>>
}

/**
 * When a write's promise resolves: `'local'` once it is durable on this
 * device (the offline-first default), `{ replicas: N }` once N DHT peers
 * also hold the record (rejecting with `DurabilityError` if that does not
 * happen within `timeout` ms, 15 s by default; the local write stands).
 *
 * What `{ replicas: N }` guarantees: N DHT peers hold the record by its id
 * as this device has it — its content, or for a `delete` its tombstone —
 * so that `get(id)` on any peer finds it (or finds it deleted) even once
 * this device is gone. The collection's listing in the DHT (its index)
 * is not awaited: it follows with the background put every write gets,
 * retried until a DHT peer holds it, and `close()` waits for it (up to
 * its close timeout).
 */
export type Durability = 'local' | {
  /** How many DHT peers must hold the record. */
  readonly replicas: number
  /** How long to wait for them (ms). @default 15000 */
  readonly timeout?: number
}

/** Options of every write. */
export interface WriteOptions {
  /** When the promise resolves. @default 'local' */
  readonly durability?: Durability
}

/** Options of {@link Collection.insert}. */
export interface InsertOptions extends WriteOptions {
  /** The record id. @default a new time-sortable id (ULID) */
  readonly id?: string
}

/** Options of {@link Collection.get}. */
export interface GetOptions {
  /**
   * On a local miss, look the record up in the DHT (when the database has
   * a peer and is online). @default true
   */
  readonly network?: boolean
}

/** What the internals hand a collection. */
export interface CollectionContext {
  readonly store: CollectionStore
  readonly assertOpen: () => void
  /** Runs an operation that close() must wait for (checks that the database is open first). */
  readonly track: <R>(operation: () => Promise<R>) => Promise<R>
  readonly onChange: (listener: (event: ChangeEvent) => void) => Unsubscribe
  readonly onError: (error: Error) => void
  /** Resolves once `replicas` DHT peers hold the record. */
  readonly durable: (id: string, options: { replicas: number, timeout?: number }) => Promise<void>
  /** Looks a record up in the DHT; resolves whether it was found. */
  readonly fetch: (id: string) => Promise<boolean>
  /** Fetches the collection's index and the records it lacks from the DHT; resolves how many records were found. */
  readonly fetchAll: () => Promise<number>
  /** Emits the database's `rejected` event. */
  readonly onRejected?: (event: RejectedEvent) => void
}

/**
 * A typed collection of records. Every write is validated against the
 * schema first and is durable on the device when its promise resolves;
 * reads and queries are served locally.
 *
 * Records that fail the schema — changes from peers are merged without
 * it, and stored records may predate a new schema — stay stored and keep
 * merging, but reads never return them as a `T`: queries skip them, `get`
 * throws {@link InvalidRecordError}, the database emits `rejected` (`via:
 * 'schema'`) for each remote change that leaves a record failing, and
 * {@link Collection.invalid} lists them for repair. A record that passes
 * again (a peer's later change, or a local `update`) is back in reads.
 * Reads return the schema's output for a stored record, so a stripping
 * schema hides unknown keys and defaults fill fields that old records lack.
 *
 * @example
 * ```ts
 * const todos = db.collection('todos', { schema: z.object({ title: z.string(), done: z.boolean() }) })
 * const id = await todos.insert({ title: 'milk', done: false })
 * await todos.update(id, (t) => { t.done = true })
 * const open = await todos.find({ where: { done: false }, orderBy: 'title' })
 * ```
 */
export class Collection<T extends object, I = T> {
  /** The collection's name. */
  readonly name: string
  readonly #schema: StandardSchemaV1
  readonly #text: ReadonlySet<string>
  readonly #ctx: CollectionContext
  /** What queries are checked against, once a query needed it. */
  #queryContext: QueryContext | undefined

  /** @internal Made by {@link Database.collection}. */
  constructor (name: string, options: CollectionOptions<StandardSchemaV1>, ctx: CollectionContext) {
    this.name = name
    this.#schema = options.schema
    this.#text = new Set(options.text as readonly string[] | undefined ?? [])
    this.#ctx = ctx
    ctx.store.checkRows((fields) => check(this.#schema, fields), (id, issues) => {
      const error = new InvalidRecordError(name, id, issues)
      // `collection` and `id` ride along for listeners that look for them.
      const event = { reason: `${error.name}: ${error.message}`, via: 'schema' as const, collection: name, id }
      ctx.onRejected?.(event)
    })
  }

  /** The schema this collection checks writes against. */
  get schema (): StandardSchemaV1 {
    return this.#schema
  }

  /** The fields stored as collaborative text. */
  get textFields (): ReadonlySet<string> {
    return this.#text
  }

  /**
   * Inserts a record and resolves its id once durable.
   * @throws {ValidationError} the value fails the schema
   * @throws {DuplicateIdError} a live record has the given id
   * @throws {RecordDeletedError} the given id belonged to a deleted record
   */
  async insert (value: I, options: InsertOptions = {}): Promise<string> {
    const durability = checkDurability(options.durability)
    const id = await this.#ctx.track(async () => {
      const id = options.id === undefined ? newId() : checkId(options.id)
      const fields = await this.#check(value)
      // A generated id is new: there is nothing to read from storage for it.
      await this.#ctx.store.write(id, 'insert', async () => fields, this.#text, options.id === undefined)
      return id
    })
    await this.#durable(id, durability)
    return id
  }

  /**
   * Changes a record: `mutator` edits a draft (a mutable copy of the
   * record's stored fields) or returns a new value. Only the fields that
   * differ are written, in one Yjs transaction, so concurrent edits of
   * other fields on other replicas survive. This is how a record that fails
   * the schema is repaired: its draft holds the stored value as it is (not
   * a `T`, whatever the type says), and the result must pass the schema.
   * @throws {NotFoundError} no live record has this id
   * @throws {ValidationError} the result fails the schema
   */
  async update (id: string, mutator: (draft: T) => void | T | Promise<void | T>, options: WriteOptions = {}): Promise<void> {
    const durability = checkDurability(options.durability)
    await this.#ctx.track(async () => {
      checkId(id)
      if (typeof mutator !== 'function') throw new InvalidArgumentError('update takes a function that edits the draft')
      await this.#ctx.store.write(id, 'update', async (current) => {
        const draft = current as unknown as T
        const result = await mutator(draft)
        return this.#check(result === undefined ? draft : result)
      }, this.#text)
    })
    await this.#durable(id, durability)
  }

  /**
   * Makes record `id` equal `value`: inserts it, or replaces its fields
   * (writing only those that differ).
   */
  async upsert (id: string, value: I, options: WriteOptions = {}): Promise<void> {
    const durability = checkDurability(options.durability)
    await this.#ctx.track(async () => {
      checkId(id)
      const fields = await this.#check(value)
      await this.#ctx.store.write(id, 'upsert', async () => fields, this.#text)
    })
    await this.#durable(id, durability)
  }

  /**
   * Deletes a record for good: a tombstone in the collection index that
   * wins over concurrent edits on every replica.
   * @throws {NotFoundError} no live record has this id
   */
  async delete (id: string, options: WriteOptions = {}): Promise<void> {
    const durability = checkDurability(options.durability)
    await this.#ctx.track(async () => {
      checkId(id)
      await this.#ctx.store.delete(id)
    })
    await this.#durable(id, durability)
  }

  /**
   * The record, or `undefined` if there is no live record with this id.
   * A record this replica does not hold is looked up in the DHT when the
   * database is online (see {@link GetOptions.network}).
   *
   * A record that fails the schema throws rather than reading as
   * `undefined`: it does exist (an `insert` of its id would fail, an
   * `update` repairs it), and code that treats a missing record as "create
   * it" must not silently overwrite it.
   * @throws {InvalidRecordError} the stored record fails the schema (see {@link Collection.invalid})
   */
  async get (id: string, options: GetOptions = {}): Promise<Row<T> | undefined> {
    return this.#ctx.track(async () => {
      checkId(id)
      const local = await this.#ctx.store.get(id)
      if (local !== undefined || options.network === false) return this.#valid(id, local)
      // A deleted record never comes back: nothing to look up.
      if (await this.#ctx.store.isDeleted(id) || !await this.#ctx.fetch(id)) return undefined
      return this.#valid(id, await this.#ctx.store.get(id))
    })
  }

  /**
   * Fetches from the DHT what the collection holds there and this replica
   * lacks: the collection index (so deletes made elsewhere count here
   * too), then every record it lists live, a few at a time. For a peer
   * that meets DHT peers only, e.g. when every other replica is offline:
   * catch-up with a peer of the database brings all of it anyway. In a
   * restricted database the access list is read from the DHT first, so
   * that records of granted writers are taken. Resolves with the number
   * of records found; nothing when offline.
   *
   * @example
   * ```ts
   * const db = await createDatabase({ address, peer })
   * const todos = db.collection('todos', { schema: Todo })
   * await todos.fetchFromDht()
   * const all = await todos.find()
   * ```
   */
  async fetchFromDht (): Promise<number> {
    return this.#ctx.track(async () => await this.#ctx.fetchAll())
  }

  /**
   * The number of live records held here, from the collection index: no
   * row is read (unlike `count()`, which counts records that pass the
   * schema and match a query). A monitor's count of a large collection.
   */
  async size (): Promise<number> {
    return this.#ctx.track(async () => await this.#ctx.store.size())
  }

  /**
   * The records a query selects, in its order. Records that fail the schema are skipped.
   * @throws {QueryError} the query is malformed (see {@link Query}); nothing was read
   */
  async find (query: Query<T> = {}): Promise<Array<Row<T>>> {
    return this.#ctx.track(async () => await this.#ctx.store.find(this.#compile(query)) as Array<Row<T>>)
  }

  /**
   * The records stored here that fail the schema, so that an app can
   * repair them (`update`, `upsert`) or delete them. Reads skip them.
   */
  async invalid (): Promise<InvalidRecord[]> {
    return this.#ctx.track(async () => (await this.#ctx.store.invalid()).map(({ row, issues }) => ({ id: row.id, issues: issues ?? [], value: row })))
  }

  /**
   * How many records match a query (offset and limit aside). Records that fail the schema are not counted.
   * @throws {QueryError} the query is malformed (see {@link Query}); nothing was read
   */
  async count (query: Query<T> = {}): Promise<number> {
    return this.#ctx.track(async () => this.#ctx.store.count(this.#compile(query)))
  }

  /**
   * Watches one record: `callback` gets its current value soon, then every
   * new value, local or remote (`undefined` when there is none, or while
   * the record fails the schema).
   */
  subscribe (id: string, callback: (row: Row<T> | undefined) => void): Unsubscribe
  /**
   * A live query: `callback` gets the current result soon, then every
   * changed result. Each change is folded into the result incrementally.
   * A record that comes to fail the schema leaves the result; one that
   * passes again comes back.
   * @throws {QueryError} (synchronously) the query is malformed (see {@link Query})
   */
  subscribe (query: Query<T>, callback: (rows: ReadonlyArray<Row<T>>) => void): Unsubscribe
  subscribe (target: string | Query<T>, callback: ((row: Row<T> | undefined) => void) | ((rows: ReadonlyArray<Row<T>>) => void)): Unsubscribe {
    this.#ctx.assertOpen()
    if (typeof callback !== 'function') throw new InvalidArgumentError('subscribe takes a callback')
    if (typeof target === 'string') return this.#subscribeRecord(checkId(target), callback as (row: Row<T> | undefined) => void)
    const compiled = this.#compile(target)
    let stopped = false
    let stop: (() => void) | undefined
    const guarded = (rows: readonly AnyRow[]): void => {
      if (!stopped) (callback as (rows: readonly AnyRow[]) => void)(rows)
    }
    this.#ctx.store.watch(compiled, guarded).then((unwatch) => {
      if (stopped) unwatch()
      else stop = unwatch
    }, this.#ctx.onError)
    return () => {
      stopped = true
      stop?.()
    }
  }

  /**
   * The record's `Y.Doc`, for rich-text and editor bindings. Edits made
   * to it are stored and shared like any write; they are not refused by
   * the schema, but reads check the result (a record they leave failing
   * the schema is skipped by queries, and `get` throws). It stays in
   * memory while the database is open.
   * @throws {NotFoundError} no live record has this id, or its content has not arrived yet (a peer's index listed it first)
   */
  async doc (id: string): Promise<Y.Doc> {
    return this.#ctx.track(async () => {
      checkId(id)
      return this.#ctx.store.doc(id)
    })
  }

  /** Listens to changes of this collection's records, local and remote. */
  on (type: 'change', listener: (event: ChangeEvent) => void): Unsubscribe {
    if (type !== 'change') throw new InvalidArgumentError(`collections have no "${String(type)}" event`)
    return this.#ctx.onChange((event) => {
      if (event.collection === this.name) listener(event)
    })
  }

  #subscribeRecord (id: string, callback: (row: Row<T> | undefined) => void): Unsubscribe {
    let changed = false
    let stopped = false
    const unwatch = this.#ctx.store.watchRecord(id, (row) => {
      changed = true
      if (!stopped) callback(row as Row<T> | undefined)
    })
    this.#ctx.store.get(id).then((checked) => {
      if (!changed && !stopped) callback(checked?.issues === undefined ? checked?.row as Row<T> | undefined : undefined)
    }, this.#ctx.onError)
    return () => {
      stopped = true
      unwatch()
    }
  }

  /** Checks a query (throws {@link QueryError}), against the schema's fields when it tells them. */
  #compile (query: Query<T>): CompiledQuery {
    this.#queryContext ??= { collection: this.name, fields: knownFields(this.#schema) }
    return compileQuery(query as Query<unknown>, this.#queryContext)
  }

  /** A record's row if it passes the schema. */
  #valid (id: string, checked: CheckedRow | undefined): Row<T> | undefined {
    if (checked?.issues !== undefined) throw new InvalidRecordError(this.name, id, checked.issues)
    return checked?.row as Row<T> | undefined
  }

  async #durable (id: string, durability: Durability): Promise<void> {
    if (durability !== 'local') await this.#ctx.durable(id, durability)
  }

  async #check (value: unknown): Promise<StoredObject> {
    const output = await validate(this.name, this.#schema, value)
    const fields = toStoredObject(output)
    if (Object.hasOwn(fields, 'id')) {
      throw new ValidationError(this.name, [{ path: 'id', message: '"id" is reserved for the record id' }])
    }
    for (const field of this.#text) {
      const v = fields[field]
      if (v !== undefined && typeof v !== 'string') {
        throw new ValidationError(this.name, [{ path: field, message: 'a text field must hold a string' }])
      }
    }
    return fields
  }
}

function checkDurability (durability: Durability | undefined): Durability {
  if (durability === undefined || durability === 'local') return 'local'
  if (typeof durability !== 'object' || durability === null || !Number.isInteger(durability.replicas) || durability.replicas < 1 ||
    (durability.timeout !== undefined && !(durability.timeout > 0))) {
    throw new InvalidArgumentError('"durability" is \'local\' or { replicas: N >= 1, timeout?: ms }')
  }
  return durability
}

/** A collection's record type. */
export type CollectionType<S extends StandardSchemaV1> = InferOutput<S> extends object ? InferOutput<S> : never
/** What a collection's `insert` takes. */
export type CollectionInput<S extends StandardSchemaV1> = InferInput<S>
