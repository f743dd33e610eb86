import { ClassicLevel } from 'classic-level'
import { PREFIX_END, StorageError, type BatchOperation, type ScanOptions, type StorageAdapter } from '@kadmium/core'
import { Journal, readJournal, removeJournal } from './journal.ts'
import { WriteBehind } from './write-behind.ts'

/** Options of {@link levelStorage}. */
export interface LevelStorageOptions {
  /** Create the database directory (and its parents) if it does not exist. @default true */
  readonly createIfMissing?: boolean
  /** Refuse to open a directory that holds a database already. @default false */
  readonly errorIfExists?: boolean
}

/**
 * A {@link StorageAdapter} on LevelDB (through `classic-level`): the
 * database lives in the directory `path` and persists across processes.
 * Keys are stored as UTF-8; values as raw bytes.
 *
 * Writes go first to a journal file in the directory, with one synchronous
 * append, and resolve then; LevelDB gets them a moment later, many at once.
 * They are as durable as LevelDB's own (unsynced) writes: a process that
 * dies loses none of them, the next open applies what LevelDB lacked.
 *
 * The directory is opened in the background; if that fails (the
 * directory is held by another open database, is not a directory, ...),
 * every call rejects with a {@link StorageError} whose `cause` says why.
 * One directory can be open once at a time, across all processes.
 *
 * @example
 * ```ts
 * import { createDatabase } from '@kadmium/core'
 * import { levelStorage } from '@kadmium/node'
 *
 * const db = await createDatabase({ name: 'acme-todos', storage: levelStorage('./data/todos') })
 * // ...
 * await db.close() // closes the LevelDB directory too
 * ```
 */
export function levelStorage (path: string, options: LevelStorageOptions = {}): StorageAdapter {
  if (typeof path !== 'string' || path.length === 0) throw new StorageError('levelStorage takes the path of a directory')
  return new LevelStorage(path, options)
}

const EMPTY = new Uint8Array(0)
/** Operations replayed from a journal per LevelDB batch. */
const REPLAY_CHUNK = 10_000

class LevelStorage implements StorageAdapter {
  readonly #path: string
  readonly #db: ClassicLevel<string, Uint8Array>
  readonly #opened: Promise<void>
  /** The journal in front of LevelDB, once open. */
  #behind: WriteBehind | undefined
  /** Whether the directory is open: then calls reach LevelDB on the caller's tick. */
  #open = false
  #closed: Promise<void> | undefined

  constructor (path: string, options: LevelStorageOptions) {
    this.#path = path
    this.#db = new ClassicLevel<string, Uint8Array>(path, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
      createIfMissing: options.createIfMissing ?? true,
      errorIfExists: options.errorIfExists ?? false
    })
    this.#opened = this.#db.open().then(async () => {
      await this.#recover().catch((cause: unknown) => {
        throw new StorageError(`cannot apply the journal of LevelDB storage at "${path}": ${reason(cause)}`, { cause })
      })
      let journal: Journal
      try {
        journal = new Journal(path)
      } catch (cause) {
        throw new StorageError(`cannot open the journal of LevelDB storage at "${path}": ${reason(cause)}`, { cause })
      }
      this.#behind = new WriteBehind(journal, async (operations) => { await this.#db.batch(operations) }, path)
      this.#open = true
    }, (cause: unknown) => {
      throw new StorageError(`cannot open LevelDB storage at "${path}": ${reason(cause)}`, { cause })
    })
    this.#opened.catch(() => {}) // reported by every call that awaits it
  }

  async get (key: string): Promise<Uint8Array | undefined> {
    checkKey(key)
    const opening = this.#ready()
    if (opening !== undefined) await opening
    const latest = this.#behind?.latest(key)
    // (A copy: the journal's bytes are still on their way to LevelDB.)
    if (latest !== undefined) return latest.value?.slice()
    const value = await this.#run('get', () => this.#db.get(key))
    return value === undefined ? undefined : plain(value)
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
    // Check everything first: LevelDB would store `String(value)` for a value that is not bytes.
    for (const op of operations) {
      checkKey(op.key)
      if (op.type === 'put') checkValue(op.key, op.value)
      else if (op.type !== 'del') throw new StorageError(`batch operation of unknown type "${String((op as { type: unknown }).type)}"`)
    }
    const opening = this.#ready()
    if (opening !== undefined) await opening
    if (operations.length > 0) await (this.#behind as WriteBehind).write(operations)
  }

  async * scan (prefix: string, options: ScanOptions = {}): AsyncIterable<[string, Uint8Array]> {
    checkKey(prefix)
    const opening = this.#ready()
    if (opening !== undefined) await opening
    // A scan reads LevelDB alone: it waits for LevelDB to hold what was written before it under the prefix.
    const unstored = this.#behind?.beforeScan(prefix)
    if (unstored !== undefined) await this.#run('scan', async () => { await unstored })
    // LevelDB orders keys by their UTF-8 bytes, so every key with the prefix lies in this range.
    const range = { gte: prefix, lt: prefix + PREFIX_END, limit: options.limit ?? Infinity }
    try {
      if (options.keysOnly === true) {
        for await (const key of this.#db.keys(range)) yield [key, EMPTY]
      } else {
        for await (const [key, value] of this.#db.iterator(range)) yield [key, plain(value)]
      }
    } catch (cause) {
      throw wrap('scan', this.#path, cause)
    }
  }

  /** Resolves once LevelDB holds every write resolved so far (the journal is then empty). */
  async settled (): Promise<void> {
    const opening = this.#ready()
    if (opening !== undefined) await opening
    await this.#run('settled', async () => { await this.#behind?.stored() })
  }

  close (): Promise<void> {
    this.#closed ??= (async () => {
      await this.#opened.catch(() => {})
      try {
        await this.#behind?.close()
      } finally {
        await this.#run('close', () => this.#db.close())
      }
    })()
    return this.#closed
  }

  /** Throws once closed; while opening, the wait for it (none once open: an `await` would cost the caller a tick). */
  #ready (): Promise<void> | undefined {
    if (this.#closed !== undefined) throw new StorageError(`LevelDB storage at "${this.#path}" is closed`)
    return this.#open ? undefined : this.#opened
  }

  /** Applies what a journal left by a process that did not close the directory holds, then deletes it. */
  async #recover (): Promise<void> {
    const operations = readJournal(this.#path).flat()
    for (let at = 0; at < operations.length; at += REPLAY_CHUNK) {
      await this.#db.batch(operations.slice(at, at + REPLAY_CHUNK))
    }
    removeJournal(this.#path)
  }

  async #run<T> (what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (cause) {
      throw wrap(what, this.#path, cause)
    }
  }
}

function wrap (what: string, path: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause
  return new StorageError(`LevelDB ${what} failed at "${path}": ${reason(cause)}`, { cause })
}

/** The message of an error, and of its cause (LevelDB's own words are there). */
function reason (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message
}

function checkKey (key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new StorageError(`a key must be a string, not ${typeof key}`)
  // UTF-8 cannot encode a lone surrogate: two such keys would collide.
  if (!key.isWellFormed()) throw new StorageError('a key must be a well-formed string (it holds a lone surrogate)')
}

function checkValue (key: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new StorageError(`the value of "${key}" must be a Uint8Array`)
}

/** A plain `Uint8Array` view of LevelDB's `Buffer` (no copy), as the contract's type promises. */
function plain (value: Uint8Array): Uint8Array {
  return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
}
