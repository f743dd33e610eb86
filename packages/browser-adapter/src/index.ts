/**
 * `@kadmium/browser`: Kadmium in browsers. For now the storage of a
 * database on the device: {@link indexedDbStorage}, the `StorageAdapter`
 * of `@kadmium/core` on IndexedDB.
 *
 * @example
 * ```ts
 * import { createDatabase } from '@kadmium/core'
 * import { indexedDbStorage } from '@kadmium/browser'
 *
 * const db = await createDatabase({ name: 'acme-todos', storage: indexedDbStorage('acme-todos') })
 * ```
 * @module
 */
export { indexedDbStorage, deleteIndexedDbStorage } from './indexeddb-storage.ts'
export type { IndexedDbStorageOptions } from './indexeddb-storage.ts'
