import { ClassicLevel } from 'classic-level'
import { PREFIX_END, StorageCorruptionError, StorageError, type BatchOperation, type ScanOptions, type StorageAdapter } from '@kadmium/core'
import { Journal, readJournalChecked, removeJournal } from './journal.ts'
import { damagedTables, droppedLog, markDamaged, markedDamaged, missingCurrent, openDamage, setAside, tablesOf } from './level-damage.ts'
import { mergeUnstored } from './merged-scan.ts'
import { reason, storageFailure } from './storage-failure.ts'
import { WriteBehind } from './write-behind.ts'

/** Options of {@link levelStorage}. */
export interface LevelStorageOptions {
  /** Create the database directory (and its parents) if it does not exist. @default true */
  readonly createIfMissing?: boolean
  /** Refuse to open a directory that holds a database already. @default false */
  readonly errorIfExists?: boolean
  /**
   * What to do with a directory found damaged when it is opened (see
   * {@link levelStorage}):
   * - `'reject'`: every call rejects with `StorageCorruptionError`; the
   *   directory is left as it is, to restore or to look into.
   * - `'set-aside'`: the directory is renamed `<path>.damaged-<UTC date and
   *   time>`, kept for a look or a salvage, and an empty database is begun
   *   at `path`; `onDamaged` is told. For storage that peers refill:
   *   `nodePeer`'s. Writes that reached no peer are then only in the
   *   directory set aside.
   * @default 'reject'
   */
  readonly ifDamaged?: 'reject' | 'set-aside'
  /** Told when a damaged directory was set aside (`ifDamaged: 'set-aside'`), before any call is answered. */
  readonly onDamaged?: (event: StorageDamagedEvent) => void
}

/** A damaged LevelDB directory was set aside and an empty one begun: see {@link LevelStorageOptions.ifDamaged}. */
export interface StorageDamagedEvent {
  /** The storage's directory: now an empty database. */
  readonly path: string
  /** Where the damaged directory is now. */
  readonly setAsideTo: string
  /** What is damaged, in its message. */
  readonly error: StorageCorruptionError
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
 * A directory damaged on disk is found as it is opened: a file of
 * LevelDB's cut short, overwritten or missing (`CURRENT`, the manifest, a
 * table), a log LevelDB could read only in part, a journal file damaged
 * before its end. Every call then rejects with a `StorageCorruptionError`,
 * at this opening and every later one (the directory holds a file
 * `kadmium-damaged` that says what is wrong: restore the directory, or
 * delete that file to use what can still be read); or, with `ifDamaged:
 * 'set-aside'`, the directory is moved aside and the storage begins empty.
 * A read that meets damage LevelDB finds only then (a table overwritten
 * inside) rejects with `StorageCorruptionError`, and the next opening
 * finds the directory damaged. A process killed in the middle of a write
 * is no damage: that write never resolved, and is simply not there.
 *
 * When the disk is full (or the quota, or the file size limit reached), a
 * write rejects with `StorageFullError` and is not stored; reads go on,
 * and what was stored is intact. If LevelDB itself was refused room, the
 * writes that had resolved are kept in the journal (reads still see them),
 * later writes reject until the storage is closed and opened again with
 * room, and that opening applies them.
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
  readonly #options: LevelStorageOptions
  /** LevelDB: another instance once a damaged directory was set aside. */
  #db: ClassicLevel<string, Uint8Array>
  readonly #opened: Promise<void>
  /** The journal in front of LevelDB, once open. */
  #behind: WriteBehind | undefined
  /** Whether the directory is open: then calls reach LevelDB on the caller's tick. */
  #open = false
  #closed: Promise<void> | undefined

  constructor (path: string, options: LevelStorageOptions) {
    this.#path = path
    this.#options = options
    const tables = tablesOf(path)
    const missing = missingCurrent(path)
    // Without CURRENT, LevelDB would begin a new database over the old one's files: it may only take the lock.
    // (LevelDB opens itself once the constructor's tick is over, unless opened before: #openDirectory does, on this tick.)
    this.#db = missing === undefined ? this.#level(options.createIfMissing ?? true, options.errorIfExists ?? false) : this.#level(false, false)
    this.#opened = this.#openDirectory(tables, missing)
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
    // (If LevelDB failed, it never will: what it lacks is merged in from the write-behind.)
    const unstored = this.#behind?.beforeScan(prefix)
    if (unstored !== undefined) await unstored.catch(() => {})
    const lacking = this.#behind?.failed === true ? this.#behind.unstored(prefix) : []
    const limit = options.limit ?? Infinity
    // LevelDB orders keys by their UTF-8 bytes, so every key with the prefix lies in this range.
    const range = { gte: prefix, lt: prefix + PREFIX_END, limit: lacking.length > 0 ? Infinity : limit }
    const keysOnly = options.keysOnly === true
    try {
      if (lacking.length > 0) {
        for await (const [key, value] of mergeUnstored(this.#entries(range, keysOnly), lacking, limit)) yield [key, keysOnly ? EMPTY : value]
      } else if (keysOnly) {
        for await (const key of this.#db.keys(range)) yield [key, EMPTY]
      } else {
        for await (const [key, value] of this.#db.iterator(range)) yield [key, plain(value)]
      }
    } catch (cause) {
      throw wrap('scan', this.#path, cause)
    }
  }

  /** LevelDB's entries in `range` (for a merge: see {@link mergeUnstored}). */
  async * #entries (range: { gte: string, lt: string, limit: number }, keysOnly: boolean): AsyncIterable<[string, Uint8Array]> {
    if (keysOnly) {
      for await (const key of this.#db.keys(range)) yield [key, EMPTY]
    } else {
      for await (const [key, value] of this.#db.iterator(range)) yield [key, plain(value)]
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

  #level (createIfMissing: boolean, errorIfExists: boolean): ClassicLevel<string, Uint8Array> {
    return new ClassicLevel<string, Uint8Array>(this.#path, { keyEncoding: 'utf8', valueEncoding: 'view', createIfMissing, errorIfExists })
  }

  /**
   * Opens LevelDB, checks the directory for damage, applies what a journal
   * left by a process that did not close it holds, and begins a new
   * journal. `tables` and `missing`: what {@link tablesOf} and
   * {@link missingCurrent} found before.
   */
  async #openDirectory (tables: readonly string[], missing: string | undefined): Promise<void> {
    const path = this.#path
    let damage: string | undefined
    let batches: BatchOperation[][] = []
    try {
      await this.#db.open()
    } catch (cause) {
      damage = openDamage(path, cause, missing)
      if (damage === undefined) throw new StorageError(`cannot open LevelDB storage at "${path}": ${reason(cause)}`, { cause })
    }
    if (damage === undefined) {
      const journal = readJournalChecked(path)
      damage = markedDamaged(path) ?? droppedLog(path) ?? damagedTables(path, tables) ?? journal.damage
      batches = journal.batches
    }
    if (damage !== undefined) {
      await this.#damaged(damage)
      batches = []
    }
    try {
      const operations = batches.flat()
      for (let at = 0; at < operations.length; at += REPLAY_CHUNK) {
        await this.#db.batch(operations.slice(at, at + REPLAY_CHUNK))
      }
      removeJournal(path)
    } catch (cause) {
      throw storageFailure(`cannot apply the journal of LevelDB storage at "${path}"`, cause)
    }
    let journal: Journal
    try {
      journal = new Journal(path)
    } catch (cause) {
      throw storageFailure(`cannot open the journal of LevelDB storage at "${path}"`, cause)
    }
    this.#behind = new WriteBehind(journal, async (operations) => { await this.#db.batch(operations) }, path)
    this.#open = true
  }

  /** The directory is damaged: rejects, or moves it aside and opens an empty one in its place (`ifDamaged`). */
  async #damaged (damage: string): Promise<void> {
    const path = this.#path
    await this.#db.close()
    markDamaged(path, damage)
    const found = `LevelDB storage at "${path}" is damaged: ${damage}`
    if (this.#options.ifDamaged !== 'set-aside') {
      throw new StorageCorruptionError(path, `${found}. Restore the directory from a backup; or open it with { ifDamaged: 'set-aside' } to move it aside and begin anew; or delete its file kadmium-damaged to use what can still be read`)
    }
    const error = new StorageCorruptionError(path, found)
    let setAsideTo: string
    try {
      setAsideTo = setAside(path)
      this.#db = this.#level(true, false)
      await this.#db.open()
    } catch (cause) {
      throw storageFailure(`cannot set aside the damaged LevelDB storage at "${path}" (${damage})`, cause)
    }
    this.#options.onDamaged?.({ path, setAsideTo, error })
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
  if ((cause as { code?: unknown }).code === 'LEVEL_CORRUPTION') {
    // Written down: the next opening finds it (and sets the directory aside, or refuses it).
    markDamaged(path, `a ${what} met damage: ${reason(cause)}`)
    return new StorageCorruptionError(path, `LevelDB ${what} failed at "${path}": the directory is damaged: ${reason(cause)}`, { cause })
  }
  return storageFailure(`LevelDB ${what} failed at "${path}"`, cause)
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
