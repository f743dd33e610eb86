/**
 * A minimal LevelDB {@link StorageAdapter} used only while `@kadmium/node`
 * does not export `levelStorage` yet (see `storage.ts`). Same LevelDB
 * (classic-level), same options as the baseline: utf8 keys, byte values,
 * default (non-sync) writes.
 * @module
 */
import { ClassicLevel } from 'classic-level'
import { PREFIX_END, type BatchOperation, type ScanOptions, type StorageAdapter } from '@kadmium/core'

/** Opens (creating if needed) a LevelDB database at `path` as a storage adapter. */
export async function fallbackLevelStorage (path: string): Promise<StorageAdapter> {
  const db = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  return new FallbackLevelStorage(db)
}

class FallbackLevelStorage implements StorageAdapter {
  readonly #db: ClassicLevel<string, Uint8Array>

  constructor (db: ClassicLevel<string, Uint8Array>) {
    this.#db = db
  }

  async get (key: string): Promise<Uint8Array | undefined> {
    return this.#db.get(key)
  }

  async put (key: string, value: Uint8Array): Promise<void> {
    await this.#db.put(key, value)
  }

  async delete (key: string): Promise<void> {
    await this.#db.del(key)
  }

  async batch (operations: readonly BatchOperation[]): Promise<void> {
    await this.#db.batch(operations.map((op) => op.type === 'put'
      ? { type: 'put' as const, key: op.key, value: op.value }
      : { type: 'del' as const, key: op.key }))
  }

  async * scan (prefix: string, options: ScanOptions = {}): AsyncIterable<[string, Uint8Array]> {
    const range = { gte: prefix, lt: prefix + PREFIX_END, ...(options.limit === undefined ? {} : { limit: options.limit }) }
    if (options.keysOnly === true) {
      const empty = new Uint8Array(0)
      for await (const key of this.#db.keys(range)) yield [key, empty]
    } else {
      for await (const entry of this.#db.iterator(range)) yield entry
    }
  }

  async close (): Promise<void> {
    await this.#db.close()
  }
}
