import { deleteDB, openDB, unwrap, type DBSchema, type IDBPDatabase } from 'idb'
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

/** The one object store of a Kadmium IndexedDB database: string keys, byte values. */
interface Schema extends DBSchema {
  entries: { key: string, value: Uint8Array }
}

const STORE = 'entries'
/** The schema version: 1 holds the object store `entries` and nothing else. */
const VERSION = 1
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

class IndexedDbStorage implements StorageAdapter {
  readonly #name: string
  readonly #durability: 'relaxed' | 'strict'
  readonly #opened: Promise<IDBPDatabase<Schema>>
  #db: IDBPDatabase<Schema> | undefined
  #closed: Promise<void> | undefined
  /** Why the connection was lost without `close` (deleted or upgraded elsewhere, or ended by the browser). */
  #lost: string | undefined

  constructor (name: string, durability: 'relaxed' | 'strict') {
    this.#name = name
    this.#durability = durability
    this.#opened = openDB<Schema>(name, VERSION, {
      upgrade: (db) => {
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE)
      },
      // Another connection wants to delete or upgrade the database: let it.
      blocking: (_current, _blocked, event) => {
        this.#lost = 'it was deleted or upgraded by another connection'
        ;(event.target as IDBDatabase).close()
      },
      terminated: () => {
        this.#lost = 'the browser closed its connection'
      }
    }).then((db) => {
      this.#db = db
      if (this.#closed !== undefined) db.close()
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
    const value = await this.#run('get', () => db.get(STORE, key))
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
    await this.#run('batch', async () => {
      const tx = db.transaction(STORE, 'readwrite', { durability: this.#durability })
      const pending: Array<Promise<unknown>> = [tx.done]
      try {
        for (const op of operations) {
          pending.push(op.type === 'put' ? tx.store.put(storedBytes(op.value), op.key) : tx.store.delete(op.key))
        }
      } catch (error) {
        // A request the browser refused at once: undo the others (their promises then reject, handled here).
        for (const request of pending) request.catch(() => {})
        tx.abort()
        throw error
      }
      await Promise.all(pending)
    })
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
      const [keys, values] = await this.#run('scan', async () => readRound(unwrap(db), range, count, keysOnly))
      let bytes = 0
      for (const [i, key] of keys.entries()) {
        const value = values === undefined ? EMPTY : bytesOf(key, values[i])
        bytes += value.byteLength
        yield [key, value]
      }
      if (keys.length < count) return
      left -= keys.length
      range = rangeAfter(whole, keys[keys.length - 1] as string)
      round = Math.min(round * 4, MAX_ROUND, Math.max(FIRST_ROUND, Math.floor(MAX_ROUND_BYTES / Math.max(1, bytes / keys.length))))
    }
  }

  close (): Promise<void> {
    this.#closed ??= (async () => {
      // IndexedDB closes the connection once its pending transactions are done.
      this.#db?.close()
    })()
    return this.#closed
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

/** An object store with `getAllRecords` (keys and values in one request: Chromium 141 and later), where the browser has it. */
interface RecordsStore {
  getAllRecords?: (options: { query: IDBKeyRange | null, count: number }) => IDBRequest<Array<{ primaryKey: IDBValidKey, value: unknown }>>
}

/**
 * One round of a scan: up to `count` keys of `range` and (unless
 * `keysOnly`) their values, in one read-only transaction; resolves as soon
 * as the results are in (the transaction then ends by itself).
 */
async function readRound (db: IDBDatabase, range: IDBKeyRange | undefined, count: number, keysOnly: boolean): Promise<[string[], unknown[] | undefined]> {
  return await new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, 'readonly')
    const store = tx.objectStore(STORE)
    const failed = (): void => { reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError')) }
    tx.onerror = failed
    tx.onabort = failed
    const query = range ?? null
    const records = (store as RecordsStore).getAllRecords
    if (keysOnly) {
      const request = store.getAllKeys(query, count)
      request.onsuccess = () => { resolve([request.result as string[], undefined]) }
    } else if (records !== undefined) {
      const request = records.call(store, { query, count })
      request.onsuccess = () => {
        const result = request.result
        resolve([result.map((r) => r.primaryKey as string), result.map((r) => r.value)])
      }
    } else {
      const keys = store.getAllKeys(query, count)
      const values = store.getAll(query, count)
      // (Requests of a transaction succeed in order: the values come last.)
      values.onsuccess = () => { resolve([keys.result as string[], values.result]) }
    }
  })
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
