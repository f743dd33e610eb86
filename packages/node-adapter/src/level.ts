/**
 * `@kadmium/node/level`: only the LevelDB storage, for apps that keep
 * Kadmium local and should not load the libp2p stack.
 *
 * @example
 * ```ts
 * import { createDatabase } from '@kadmium/core'
 * import { levelStorage } from '@kadmium/node/level'
 *
 * const db = await createDatabase({ name: 'notes', storage: levelStorage('./notes-data') })
 * ```
 * @module \@kadmium/node/level
 */
export { levelStorage } from './level-storage.ts'
export type { LevelStorageOptions, StorageDamagedEvent } from './level-storage.ts'
