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
export { nodePeer } from './node-peer.ts'
export type { NodePeer } from './node-peer.ts'
export type { NodePeerOptions, NetworkMode } from './node-peer-options.ts'
export { DEFAULT_LISTEN } from './node-peer-options.ts'
export type { NodePeerServices } from './libp2p-options.ts'
export type { DialRetryOptions, DialTarget } from './dial.ts'
export { PEER_KEY_FILE, readPeerKey, writePeerKey, encodePeerKey, decodePeerKey } from './peer-key.ts'
export { databaseDirectoryName } from './database-directory.ts'
export { PeerKeyError, PeerClosedError } from './errors.ts'
