import { StorageError } from '../errors.ts'
import type { BatchOperation, StorageAdapter } from './storage.ts'

interface Pending {
  readonly ops: readonly BatchOperation[]
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/**
 * Group commit: a write handed over while storage is idle goes to it at
 * once (on the caller's tick, so that the caller's remaining work overlaps
 * the write); writes handed over while a batch is being written go
 * together in the next atomic batch. Each caller's promise resolves once
 * its operations are durable.
 */
export class WriteQueue {
  readonly #storage: StorageAdapter
  #queue: Pending[] = []
  #running: Promise<void> | undefined
  /** A run is starting: it calls storage before `#running` is set. */
  #starting = false

  constructor (storage: StorageAdapter) {
    this.#storage = storage
  }

  /** Number of writes not yet durable. */
  get pending (): number {
    return this.#queue.length
  }

  /** Writes `ops` atomically (with whatever else is queued); resolves once durable. Storage is called before this returns, if idle. */
  write (ops: readonly BatchOperation[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ ops, resolve, reject })
      if (this.#running !== undefined || this.#starting) return
      // (Storage is called during #run(): a write it causes there joins the queue.)
      this.#starting = true
      this.#running = this.#run()
      this.#starting = false
    })
  }

  /** Resolves once everything queued so far is written (or failed). */
  async drain (): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  async #run (): Promise<void> {
    while (this.#queue.length > 0) {
      const items = this.#queue
      this.#queue = []
      try {
        await this.#batch(items.length === 1 ? (items[0] as Pending).ops : items.flatMap((item) => item.ops))
        for (const item of items) item.resolve()
      } catch (cause) {
        // An adapter's own StorageError (StorageFullError, ...) says more than a wrapper would.
        const error = cause instanceof StorageError ? cause : new StorageError('storage write failed: ' + String(cause), { cause })
        for (const item of items) item.reject(error)
      }
    }
    this.#running = undefined
  }

  /**
   * Calls storage (on this tick), as a promise even if the adapter throws
   * at once: `#run` then still waits before it ends, so it never ends
   * before `write` recorded it as running.
   */
  async #batch (ops: readonly BatchOperation[]): Promise<void> {
    await this.#storage.batch(ops)
  }
}
