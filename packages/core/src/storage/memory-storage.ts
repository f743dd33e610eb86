import { StorageError } from '../errors.ts'
import type { BatchOperation, ScanOptions, StorageAdapter } from './storage.ts'

/**
 * A {@link StorageAdapter} in memory: for tests, and for apps that keep
 * nothing on the device. Data lives as long as the object does.
 *
 * @example
 * ```ts
 * const db = await createDatabase({ name: 'scratch', storage: memoryStorage() })
 * ```
 */
export function memoryStorage (): StorageAdapter {
  return new MemoryStorage()
}

class MemoryStorage implements StorageAdapter {
  readonly #entries = new Map<string, Uint8Array>()
  /** Keys in ascending order, kept sorted on every insert. */
  #sorted: string[] = []
  #closed = false

  async get (key: string): Promise<Uint8Array | undefined> {
    this.#check()
    const value = this.#entries.get(key)
    return value === undefined ? undefined : value.slice()
  }

  async put (key: string, value: Uint8Array): Promise<void> {
    this.#check()
    if (typeof key !== 'string' || !(value instanceof Uint8Array)) throw new StorageError('put takes a string key and a Uint8Array value')
    this.#put(key, value)
  }

  async delete (key: string): Promise<void> {
    this.#check()
    this.#delete(key)
  }

  async batch (operations: readonly BatchOperation[]): Promise<void> {
    this.#check()
    // Check every operation first: a batch applies all of them or none.
    for (const op of operations) {
      if (typeof op.key !== 'string' || (op.type === 'put' ? !(op.value instanceof Uint8Array) : op.type !== 'del')) {
        throw new StorageError('a batch operation is malformed (a put needs a string key and a Uint8Array value)')
      }
    }
    // New keys of a large batch are merged into the sorted list in one pass.
    const fresh: string[] = []
    for (const op of operations) {
      if (op.type === 'put') {
        if (operations.length > 8 && !this.#entries.has(op.key)) fresh.push(op.key)
        else if (fresh.length === 0 || !fresh.includes(op.key)) this.#put(op.key, op.value)
        this.#entries.set(op.key, op.value.slice())
      } else {
        if (fresh.length > 0) this.#mergeKeys(fresh.splice(0))
        this.#delete(op.key)
      }
    }
    if (fresh.length > 0) this.#mergeKeys(fresh)
  }

  /** Adds keys not yet in the sorted list, in one pass. */
  #mergeKeys (keys: string[]): void {
    const add = [...new Set(keys)].sort()
    const old = this.#sorted
    const merged: string[] = new Array<string>(old.length + add.length)
    let i = 0
    let j = 0
    let k = 0
    while (i < old.length || j < add.length) {
      if (j >= add.length || (i < old.length && (old[i] as string) < (add[j] as string))) merged[k++] = old[i++] as string
      else merged[k++] = add[j++] as string
    }
    this.#sorted = merged
  }

  async * scan (prefix: string, options: ScanOptions = {}): AsyncIterable<[string, Uint8Array]> {
    this.#check()
    const limit = options.limit ?? Infinity
    // Snapshot the matching keys first: writes during iteration do not disturb it.
    const keys: string[] = []
    for (let i = lowerBound(this.#sorted, prefix); i < this.#sorted.length && keys.length < limit; i++) {
      const key = this.#sorted[i] as string
      if (!key.startsWith(prefix)) break
      keys.push(key)
    }
    const empty = new Uint8Array(0)
    for (const key of keys) {
      const value = this.#entries.get(key)
      if (value === undefined) continue
      yield [key, options.keysOnly === true ? empty : value.slice()]
    }
  }

  async close (): Promise<void> {
    this.#closed = true
  }

  #check (): void {
    if (this.#closed) throw new StorageError('memory storage is closed')
  }

  #put (key: string, value: Uint8Array): void {
    if (!this.#entries.has(key)) {
      this.#sorted.splice(lowerBound(this.#sorted, key), 0, key)
    }
    this.#entries.set(key, value.slice())
  }

  #delete (key: string): void {
    if (!this.#entries.delete(key)) return
    const i = lowerBound(this.#sorted, key)
    this.#sorted.splice(i, 1)
  }
}

/** The first index whose key is >= `key`. */
function lowerBound (sorted: readonly string[], key: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as string) < key) lo = mid + 1
    else hi = mid
  }
  return lo
}
