/**
 * Storage wrappers for tests: a real storage whose batches take another path
 * (held, recorded, slowed down, failing).
 */
import type { StorageAdapter } from '@kadmium/core'

/** `inner`, but batches go through `batch`. */
export function withBatch (inner: StorageAdapter, batch: StorageAdapter['batch']): StorageAdapter {
  return {
    get: async (key) => inner.get(key),
    put: async (key, value) => inner.put(key, value),
    delete: async (key) => inner.delete(key),
    scan: (prefix) => inner.scan(prefix),
    batch
  }
}
