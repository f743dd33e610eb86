import type { StorageAdapter } from '../storage/storage.ts'

/**
 * The adapter without its `close`: a database closed on it leaves the
 * storage open, so that a test can reopen the "same device" or read raw keys.
 */
export function keepOpen (storage: StorageAdapter): StorageAdapter {
  return {
    get: async (key) => storage.get(key),
    put: async (key, value) => storage.put(key, value),
    delete: async (key) => storage.delete(key),
    scan: (prefix, options) => storage.scan(prefix, options),
    batch: async (operations) => storage.batch(operations),
    settled: async () => { await storage.settled?.() }
  }
}
