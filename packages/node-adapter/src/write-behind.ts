/**
 * Writes that are durable before LevelDB has them: each batch is appended
 * to the {@link Journal} on the caller's tick and acknowledged, and goes to
 * LevelDB in the background, together with whatever else was written
 * meanwhile. Until LevelDB holds a key's latest write, reads of it are
 * answered from here.
 * @module
 */
import type { BatchOperation, StorageError } from '@kadmium/core'
import { encodeFrame, type Journal } from './journal.ts'
import { compareUtf8 } from './merged-scan.ts'
import { storageFailure } from './storage-failure.ts'

/** Keys not yet in LevelDB up to which a scan looks for its prefix among them (beyond, it waits for LevelDB regardless). */
const MAX_KEYS_CHECKED = 256
/**
 * Bytes written but not yet in LevelDB from which LevelDB gets them at
 * once, on the writer's tick, rather than on the next turn (a writer that
 * never yields to the event loop would otherwise keep them all back).
 */
const EAGER_BYTES = 1024 * 1024
/** Bytes written but not yet in LevelDB beyond which a write waits for LevelDB (bounds memory, and the work left for later). */
const MAX_UNSTORED_BYTES = 8 * 1024 * 1024

/** A batch appended to the journal, not yet in LevelDB. */
interface Unstored {
  readonly n: number
  readonly operations: readonly BatchOperation[]
  readonly bytes: number
}

/** The latest write of a key not yet in LevelDB: its value (`undefined`: deleted), and the number of its batch. */
export interface Latest {
  readonly value: Uint8Array | undefined
  readonly n: number
}

interface Waiter {
  readonly n: number
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/** The journal in front of LevelDB; see the module's description. */
export class WriteBehind {
  readonly #journal: Journal
  readonly #store: (operations: BatchOperation[]) => Promise<void>
  readonly #where: string
  readonly #latest = new Map<string, Latest>()
  #queue: Unstored[] = []
  #waiters: Waiter[] = []
  /** Number of the last batch appended, and of the last in LevelDB. */
  #appended = 0
  #stored = 0
  #unstoredBytes = 0
  #scheduled = false
  #running = false
  #failure: StorageError | undefined

  /** `store` writes a batch to LevelDB; `where` names the directory in errors. */
  constructor (journal: Journal, store: (operations: BatchOperation[]) => Promise<void>, where: string) {
    this.#journal = journal
    this.#store = store
    this.#where = where
  }

  /**
   * Appends `operations` to the journal, on this tick: they are durable when
   * this returns. Returns a promise to wait for only when too much is not yet
   * in LevelDB.
   * @throws {StorageError} the journal could not be written (nothing was), or LevelDB failed earlier (a `StorageFullError` if for want of room)
   */
  write (operations: readonly BatchOperation[]): Promise<void> | undefined {
    if (this.#failure !== undefined) throw this.#failure
    const frame = encodeFrame(operations)
    try {
      this.#journal.append(frame.bytes, this.#appended + 1)
    } catch (cause) {
      throw storageFailure(`cannot append to the journal of LevelDB storage at "${this.#where}"`, cause)
    }
    const n = ++this.#appended
    for (const op of frame.operations) this.#latest.set(op.key, { value: op.type === 'put' ? op.value : undefined, n })
    this.#queue.push({ n, operations: frame.operations, bytes: frame.bytes.length })
    this.#unstoredBytes += frame.bytes.length
    if (!this.#running) {
      if (this.#unstoredBytes >= EAGER_BYTES) {
        void this.#flush()
      } else if (!this.#scheduled) {
        this.#scheduled = true
        // After the callers' work of this turn: what they write meanwhile goes in the same LevelDB batch.
        setImmediate(() => { if (!this.#running) void this.#flush() })
      }
    }
    return this.#unstoredBytes > MAX_UNSTORED_BYTES ? this.stored(n) : undefined
  }

  /** The latest write of `key` if LevelDB does not hold it yet. */
  latest (key: string): Latest | undefined {
    return this.#latest.get(key)
  }

  /** Whether LevelDB refused a batch: writes are refused, and what LevelDB lacks stays here (see {@link unstored}). */
  get failed (): boolean {
    return this.#failure !== undefined
  }

  /** The latest writes of the keys with `prefix` that LevelDB does not hold (`undefined`: deleted), in LevelDB's order (by UTF-8 bytes). */
  unstored (prefix: string): Array<[string, Uint8Array | undefined]> {
    const found: Array<[string, Uint8Array | undefined]> = []
    for (const [key, latest] of this.#latest) if (key.startsWith(prefix)) found.push([key, latest.value])
    return found.sort(([a], [b]) => compareUtf8(a, b))
  }

  /** What a scan of `prefix` waits for, if anything: LevelDB to hold the latest write of every key with the prefix. */
  beforeScan (prefix: string): Promise<void> | undefined {
    if (this.#latest.size === 0) return undefined
    if (this.#latest.size > MAX_KEYS_CHECKED) return this.stored()
    for (const key of this.#latest.keys()) if (key.startsWith(prefix)) return this.stored()
    return undefined
  }

  /** Resolves once LevelDB holds batch `n` (by default, everything written so far). */
  stored (n = this.#appended): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    if (n <= this.#stored) return Promise.resolve()
    return new Promise((resolve, reject) => { this.#waiters.push({ n, resolve, reject }) })
  }

  /**
   * Waits for LevelDB to hold everything, then closes the journal: deleted,
   * unless LevelDB failed. Then it is kept and replayed at the next open:
   * the writes LevelDB lacks are not lost, and closing resolves.
   */
  async close (): Promise<void> {
    try {
      await this.stored()
    } catch {
      // LevelDB failed (already reported to the writes and waits it failed): the journal keeps what it lacks.
    } finally {
      this.#journal.close(this.#failure === undefined)
    }
  }

  async #flush (): Promise<void> {
    this.#scheduled = false
    this.#running = true
    while (this.#queue.length > 0 && this.#failure === undefined) {
      const items = this.#queue
      this.#queue = []
      const last = (items[items.length - 1] as Unstored).n
      try {
        await this.#store(items.flatMap((item) => item.operations))
      } catch (cause) {
        this.#fail(cause)
        break
      }
      this.#stored = last
      for (const item of items) {
        this.#unstoredBytes -= item.bytes
        for (const op of item.operations) {
          if ((this.#latest.get(op.key)?.n ?? Infinity) <= last) this.#latest.delete(op.key)
        }
      }
      try {
        this.#journal.done(last)
      } catch {
        // A journal file not cut or deleted is replayed at the next open: the same writes again, in order.
      }
      this.#waiters = this.#waiters.filter((w) => {
        if (w.n > last) return true
        w.resolve()
        return false
      })
    }
    this.#running = false
  }

  /** LevelDB refused a batch: later writes are refused; what was acknowledged stays readable here, and in the journal for the next open. */
  #fail (cause: unknown): void {
    this.#failure = storageFailure(`LevelDB batch failed at "${this.#where}"; the writes it held are kept in the journal and applied when the directory is next opened`, cause)
    for (const w of this.#waiters) w.reject(this.#failure)
    this.#waiters = []
  }
}
