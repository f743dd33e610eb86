import { StorageError } from './errors.ts'
import type { BatchOperation, StorageAdapter } from './storage.ts'

interface Pending {
  readonly ops: readonly BatchOperation[]
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/**
 * Group commit: writes handed over in the same tick (and while a batch is
 * being written) go to storage together in one atomic batch. Each caller's
 * promise resolves once its operations are durable.
 */
export class WriteQueue {
  readonly #storage: StorageAdapter
  #queue: Pending[] = []
  #running: Promise<void> | undefined

  constructor (storage: StorageAdapter) {
    this.#storage = storage
  }

  /** Number of writes not yet durable. */
  get pending (): number {
    return this.#queue.length
  }

  /** Writes `ops` atomically (with whatever else is queued); resolves once durable. */
  write (ops: readonly BatchOperation[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ ops, resolve, reject })
      this.#running ??= this.#run()
    })
  }

  /** Resolves once everything queued so far is written (or failed). */
  async drain (): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  async #run (): Promise<void> {
    // Let the rest of this tick queue its writes too.
    await Promise.resolve()
    while (this.#queue.length > 0) {
      const items = this.#queue
      this.#queue = []
      try {
        await this.#storage.batch(items.length === 1 ? (items[0] as Pending).ops : items.flatMap((item) => item.ops))
        for (const item of items) item.resolve()
      } catch (cause) {
        const error = new StorageError('storage write failed: ' + String(cause), { cause })
        for (const item of items) item.reject(error)
      }
    }
    this.#running = undefined
  }
}
