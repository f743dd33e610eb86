import type { StorageAdapter } from '../storage/storage.ts'

/**
 * The stored updates (snapshot and log) of the records under `prefix`
 * (`c/<collection>/d/`) that `wanted` accepts, read straight from storage
 * without building documents: one scan, yielding each record's updates
 * as soon as its run of keys ends.
 */
export async function * storedDocs (storage: StorageAdapter, prefix: string, wanted: (id: string) => boolean): AsyncGenerator<[string, Uint8Array[]]> {
  let current: string | undefined
  let updates: Uint8Array[] = []
  for await (const [key, value] of storage.scan(prefix)) {
    const rest = key.slice(prefix.length)
    const id = rest.slice(0, rest.indexOf('/'))
    if (id !== current) {
      if (current !== undefined && updates.length > 0) yield [current, updates]
      current = id
      updates = []
    }
    if (wanted(id)) updates.push(value)
  }
  if (current !== undefined && updates.length > 0) yield [current, updates]
}
