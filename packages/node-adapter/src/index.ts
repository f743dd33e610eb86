/**
 * `@kadmium/node`: Kadmium for Node.js. Storage on LevelDB today; the
 * libp2p peer later.
 *
 * @example
 * ```ts
 * import { createDatabase } from '@kadmium/core'
 * import { levelStorage } from '@kadmium/node'
 *
 * const db = await createDatabase({ name: 'acme-todos', storage: levelStorage('./data/todos') })
 * ```
 * @module
 */
export { levelStorage } from './level-storage.ts'
export type { LevelStorageOptions } from './level-storage.ts'
