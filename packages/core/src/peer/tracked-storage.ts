/**
 * Storage that tells its owner when it closes: a peer adapter closes, at
 * its own close, the storages nobody closed, and forgets the others.
 * @module
 */
import type { BatchOperation, ScanOptions, StorageAdapter } from '../storage/storage.ts'

/**
 * A storage adapter that calls `onClose` once it closed. Every call goes
 * to `inner` unchanged.
 */
export class TrackedStorage implements StorageAdapter {
  readonly #inner: StorageAdapter
  readonly #onClose: () => void

  constructor (inner: StorageAdapter, onClose: () => void) {
    this.#inner = inner
    this.#onClose = onClose
  }

  get (key: string): Promise<Uint8Array | undefined> {
    return this.#inner.get(key)
  }

  put (key: string, value: Uint8Array): Promise<void> {
    return this.#inner.put(key, value)
  }

  delete (key: string): Promise<void> {
    return this.#inner.delete(key)
  }

  scan (prefix: string, options?: ScanOptions): AsyncIterable<[key: string, value: Uint8Array]> {
    return this.#inner.scan(prefix, options)
  }

  batch (operations: readonly BatchOperation[]): Promise<void> {
    return this.#inner.batch(operations)
  }

  async settled (): Promise<void> {
    await this.#inner.settled?.()
  }

  async close (): Promise<void> {
    try {
      await this.#inner.close?.()
    } finally {
      this.#onClose()
    }
  }
}
