import { deleteDB, openDB, unwrap, type DBSchema, type IDBPDatabase } from 'idb'
import { applyJournal, completion, foldJournal, inRange, JOURNAL, readKey, readRound, STORE, type JournalBatch } from './indexeddb-journal.ts'
import { InvalidArgumentError, StorageError, type BatchOperation, type ScanOptions, type StorageAdapter } from '@kadmium/core'
import { prefixRange, rangeAfter } from './key-range.ts'

/** Options of {@link indexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /**
   * When a write resolves. `'relaxed'`: once the browser has handed it to
   * the operating system, so it survives the tab or the browser crashing
   * (as Node's LevelDB writes do). `'strict'`: once it is flushed to disk,
   * so it survives the operating system crashing too; slower.
   * @default 'relaxed'
   */
  readonly durability?: 'relaxed' | 'strict'
}

/**
 * The object stores of a Kadmium IndexedDB database: `entries`, string keys
 * and byte values; `journal`, batches written and not yet folded into
 * `entries` (see {@link IndexedDbStorage}), under keys IndexedDB numbers in
 * the order they were added.
 */
interface Schema extends DBSchema {
  entries: { key: string, value: Uint8Array }
  journal: { key: number, value: JournalBatch }
}

/** The schema version: 1 held the object store `entries`; 2 adds `journal`. */
const VERSION = 2
/**
 * The journal is folded into `entries` once no write came for this long
 * (ms), or at once when it holds {@link FOLD_BATCHES} batches. Folding
 * costs as much per entry as writing it did (~0.1 ms in Chromium), but in
 * one transaction rather than one per batch; folded every 50 ms while
 * writes went on, the folds took half of the time of sequential writes
 * (each waiting for the fold before it), so they wait for a pause. Every
 * read reads the journal, so it is kept short.
 */
const FOLD_IDLE_MS = 100
const FOLD_BATCHES = 512
const EMPTY = new Uint8Array(0)
/**
 * Entries a scan reads per transaction: its first round, then four times
 * as many each round, up to the most entries, and the most bytes of
 * values (by the last round's mean size), that a round holds in memory
 * until they are yielded. (A transaction is a round trip to the browser's
 * storage process: 10,000 rows of ~60 bytes read in rounds of 512 took
 * twice as long as in rounds of thousands.)
 */
const FIRST_ROUND = 32
const MAX_ROUND = 8192
const MAX_ROUND_BYTES = 1024 * 1024

/**
 * A {@link StorageAdapter} on IndexedDB (through `idb`): the data lives in
 * the IndexedDB database `name` of the page's origin and persists across
 * reloads and browser restarts. Keys are IndexedDB string keys, values
 * `Uint8Array`s; a batch is one transaction.
 *
 * Several storages (in several tabs) may hold one database open at once:
 * each sees the others' writes once they resolve. A storage closes itself
 * when another connection deletes or upgrades its database (see
 * {@link deleteIndexedDbStorage}); its calls then reject with
 * {@link StorageError}.
 *
 * The database is opened in the background; if that fails, every call
 * rejects with a `StorageError` whose `cause` says why.
 *
 * @throws {InvalidArgumentError} if `name` is not a non-empty string or an option is unknown
 * @throws {StorageError} if this environment has no IndexedDB
 *
 * @example
 * ```ts
 * import { createDatabase } from '@kadmium/core'
 * import { indexedDbStorage } from '@kadmium/browser'
 *
 * const db = await createDatabase({ name: 'acme-todos', storage: indexedDbStorage('acme-todos') })
 * // ...
 * await db.close() // closes the IndexedDB connection too
 * ```
 */
export function indexedDbStorage (name: string, options: IndexedDbStorageOptions = {}): StorageAdapter {
  checkName(name)
  const durability = options.durability ?? 'relaxed'
  if (durability !== 'relaxed' && durability !== 'strict') {
    throw new InvalidArgumentError(`durability must be 'relaxed' or 'strict', not ${JSON.stringify(durability)}`)
  }
  checkAvailable()
  return new IndexedDbStorage(name, durability)
}

/**
 * Deletes the IndexedDB database `name` (what {@link indexedDbStorage}
 * wrote there) for good. Storages open on it, in this tab or another,
 * close themselves first; resolves once it is gone (at once if it never
 * existed).
 *
 * @throws {InvalidArgumentError} if `name` is not a non-empty string
 * @throws {StorageError} if this environment has no IndexedDB, or the browser refuses
 *
 * @example
 * ```ts
 * await deleteIndexedDbStorage('acme-todos') // on sign-out: nothing of it stays on the device
 * ```
 */
export async function deleteIndexedDbStorage (name: string): Promise<void> {
  checkName(name)
  checkAvailable()
  try {
    await deleteDB(name)
  } catch (cause) {
    throw new StorageError(`cannot delete IndexedDB storage "${name}": ${reason(cause)}`, { cause })
  }
}

/**
 * Writes go to the journal, one record per batch in one transaction: a
 * transaction costs a round trip to the browser's storage process, and
 * each record in it costs more again, so a batch of several keys is
 * stored as one record (a record of 4 keys took ~0.8 ms less per
 * transaction than 4 records in Chromium). A batch is as durable as
 * before once its transaction completes. The journal is folded into
 * `entries` a moment later, many batches in one transaction, by whichever
 * connection comes first; every read reads the journal in the same
 * transaction as `entries` and applies what it holds over them, so a
 * write is seen by every connection (every tab) once it resolves.
 */
class IndexedDbStorage implements StorageAdapter {
  readonly #name: string
  readonly #durability: 'relaxed' | 'strict'
  readonly #opened: Promise<IDBPDatabase<Schema>>
  #db: IDBPDatabase<Schema> | undefined
  #closed: Promise<void> | undefined
  /** Why the connection was lost without `close` (deleted or upgraded elsewhere, or ended by the browser). */
  #lost: string | undefined
  /** Batches this connection wrote to the journal since its last fold, and the fold scheduled, or running. */
  #unfolded = 0
  #foldTimer: ReturnType<typeof setTimeout> | undefined
  #folding: Promise<void> | undefined

  constructor (name: string, durability: 'relaxed' | 'strict') {
    this.#name = name
    this.#durability = durability
    this.#opened = openDB<Schema>(name, VERSION, {
      upgrade: (db) => {
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE)
        if (!db.objectStoreNames.contains(JOURNAL)) db.createObjectStore(JOURNAL, { autoIncrement: true })
      },
      // Another connection wants to delete or upgrade the database: let it.
      blocking: (_current, _blocked, event) => {
        this.#lost = 'it was deleted or upgraded by another connection'
        this.#cancelFold()
        ;(event.target as IDBDatabase).close()
      },
      terminated: () => {
        this.#lost = 'the browser closed its connection'
        this.#cancelFold()
      }
    }).then((db) => {
      this.#db = db
      if (this.#closed !== undefined) {
        db.close()
      } else {
        // What a connection that did not close left in the journal.
        this.#scheduleFold()
      }
      return db
    }, (cause: unknown) => {
      throw new StorageError(`cannot open IndexedDB storage "${name}": ${reason(cause)}`, { cause })
    })
    this.#opened.catch(() => {}) // reported by every call that awaits it
  }

  async get (key: string): Promise<Uint8Array | undefined> {
    checkKey(key)
    const db = this.#db ?? await this.#open()
    this.#check()
    const value = await this.#run('get', async () => readKey(unwrap(db), key))
    return value === undefined ? undefined : bytesOf(key, value)
  }

  async put (key: string, value: Uint8Array): Promise<void> {
    await this.batch([{ type: 'put', key, value }])
  }

  async delete (key: string): Promise<void> {
    await this.batch([{ type: 'del', key }])
  }

  async batch (operations: readonly BatchOperation[]): Promise<void> {
    const given: unknown = operations
    if (!Array.isArray(given)) throw new StorageError('batch takes an array of operations')
    // Check everything first: a batch applies all of its operations or none.
    for (const op of operations) {
      checkKey(op.key)
      if (op.type === 'put') checkValue(op.key, op.value)
      else if (op.type !== 'del') throw new StorageError(`batch operation of unknown type "${String((op as { type: unknown }).type)}"`)
    }
    const db = this.#db ?? await this.#open()
    this.#check()
    if (operations.length === 0) return
    // (IndexedDB clones the values when the record is added: the caller may reuse its buffers once this returns.)
    const batch: JournalBatch = operations.map((op) => op.type === 'put' ? [op.key, storedBytes(op.value)] : [op.key])
    await this.#run('batch', async () => {
      const tx = unwrap(db).transaction(JOURNAL, 'readwrite', { durability: this.#durability })
      tx.objectStore(JOURNAL).add(batch)
      await completion(tx)
    })
    this.#unfolded++
    this.#scheduleFold()
  }

  async * scan (prefix: string, options: ScanOptions = {}): AsyncIterable<[string, Uint8Array]> {
    checkKey(prefix)
    const db = this.#db ?? await this.#open()
    this.#check()
    let left = options.limit ?? Infinity
    const keysOnly = options.keysOnly === true
    const whole = prefixRange(prefix)
    let range = whole
    let round = FIRST_ROUND
    // A transaction ends once the caller awaits something else, so each round reads a run of
    // entries in a transaction of its own, and the next run starts after the last key seen.
    while (left > 0) {
      const count = Math.min(left, round)
      this.#check()
      const read = await this.#run('scan', async () => readRound(unwrap(db), range, count, keysOnly))
      // Entries up to the last key read (all of the range's, if the round was not full), with the journal's writes applied.
      const last = read.keys.length < count ? undefined : read.keys[read.keys.length - 1]
      const entries = applyJournal(read, (key) => key.startsWith(prefix) && inRange(range, key) && (last === undefined || key <= last))
      let bytes = 0
      for (const [key, value] of entries) {
        if (left <= 0) return
        const checked = keysOnly ? EMPTY : bytesOf(key, value)
        bytes += checked.byteLength
        left--
        yield [key, checked]
      }
      if (last === undefined) return
      range = rangeAfter(whole, last)
      round = Math.min(round * 4, MAX_ROUND, Math.max(FIRST_ROUND, Math.floor(MAX_ROUND_BYTES / Math.max(1, bytes / Math.max(1, entries.length)))))
    }
  }

  /** Resolves once every batch written so far is in `entries` (the journal folded). */
  async settled (): Promise<void> {
    const db = this.#db ?? await this.#open()
    this.#check()
    await this.#run('fold', async () => this.#fold(db))
  }

  close (): Promise<void> {
    this.#closed ??= (async () => {
      this.#cancelFold()
      const db = this.#db
      // What this connection wrote goes into `entries` first, if it can (else the next open folds it).
      if (db !== undefined && this.#lost === undefined) await this.#fold(db).catch(() => {})
      // IndexedDB closes the connection once its pending transactions are done.
      db?.close()
    })()
    return this.#closed
  }

  /** Folds the journal soon: at once if it grew long, else once writes pause for {@link FOLD_IDLE_MS}. */
  #scheduleFold (): void {
    if (this.#closed !== undefined || this.#lost !== undefined) return
    this.#cancelFold()
    if (this.#unfolded >= FOLD_BATCHES && this.#folding === undefined) {
      void this.#foldNow()
      return
    }
    this.#foldTimer = setTimeout(() => {
      this.#foldTimer = undefined
      void this.#foldNow()
    }, FOLD_IDLE_MS)
  }

  #cancelFold (): void {
    if (this.#foldTimer !== undefined) clearTimeout(this.#foldTimer)
    this.#foldTimer = undefined
  }

  /** A background fold: a failure leaves the journal as it was (reads apply it; the next write or open folds it). */
  async #foldNow (): Promise<void> {
    const db = this.#db
    if (db === undefined || this.#closed !== undefined || this.#lost !== undefined) return
    await this.#fold(db).catch(() => {})
  }

  /** Folds the journal into `entries`, one fold at a time per connection. */
  async #fold (db: IDBPDatabase<Schema>): Promise<void> {
    while (this.#folding !== undefined) await this.#folding.catch(() => {})
    const written = this.#unfolded
    this.#folding = foldJournal(unwrap(db), this.#durability).then(() => {
      this.#unfolded = Math.max(0, this.#unfolded - written)
    }).finally(() => { this.#folding = undefined })
    await this.#folding
  }

  /** Waits for the database to open, rejecting if this storage is closed. */
  async #open (): Promise<IDBPDatabase<Schema>> {
    this.#check()
    return await this.#opened
  }

  #check (): void {
    if (this.#closed !== undefined) throw new StorageError(`IndexedDB storage "${this.#name}" is closed`)
    if (this.#lost !== undefined) throw new StorageError(`IndexedDB storage "${this.#name}" is closed: ${this.#lost}`)
  }

  async #run<T> (what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (cause) {
      if (cause instanceof StorageError) throw cause
      this.#check()
      throw new StorageError(`IndexedDB ${what} failed in "${this.#name}": ${reason(cause)}`, { cause })
    }
  }
}

function checkName (name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('an IndexedDB storage takes the name of a database: a non-empty string')
}

function checkAvailable (): void {
  if (typeof indexedDB === 'undefined') throw new StorageError('IndexedDB is not available in this environment')
}

function checkKey (key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new StorageError(`a key must be a string, not ${typeof key}`)
}

function checkValue (key: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new StorageError(`the value of "${key}" must be a Uint8Array`)
}

/**
 * The bytes to hand to IndexedDB, which clones the whole buffer under a
 * view: a view into a larger (or shared) buffer is copied first, so only
 * its own bytes are stored.
 */
function storedBytes (value: Uint8Array): Uint8Array {
  const whole = value.constructor === Uint8Array && value.byteOffset === 0 &&
    value.buffer instanceof ArrayBuffer && value.byteLength === value.buffer.byteLength
  return whole ? value : new Uint8Array(value)
}

/** A stored value, checked: something else than this adapter may have written the database. */
function bytesOf (key: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  throw new StorageError(`the value of "${key}" in IndexedDB is not a Uint8Array: the database holds data Kadmium did not write`)
}

/** The message of an error (a `DOMException`'s name says most: `QuotaExceededError`, `VersionError`, ...). */
function reason (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  return error.name !== 'Error' && !error.message.includes(error.name) ? `${error.name}: ${error.message}` : error.message
}
