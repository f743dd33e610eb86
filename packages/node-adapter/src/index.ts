/**
 * `@kadmium/node`: Kadmium for Node.js — the libp2p peer (TCP, WebSockets,
 * kad-dht, gossipsub, mDNS) with its key and datastore in a data directory,
 * and LevelDB storage.
 *
 * @example
 * ```ts
 * import { createDatabase } from '@kadmium/core'
 * import { nodePeer } from '@kadmium/node'
 *
 * const peer = await nodePeer({ dataDir: './data', bootstrap: ['/dns4/example.org/tcp/4001/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'] })
 * const db = await createDatabase({ name: 'acme-todos', peer })
 * ```
 * @module \@kadmium/node
 */
import { installNodeSha256 } from './node-hash.ts'
import { installNodeSignatures } from './signatures.ts'

// Signatures on libsodium (or Node's own crypto): a fraction of WebCrypto's latency.
installNodeSignatures()
// SHA-256 on Node's crypto: native, much faster than @noble/hashes on large blocks (DHT blocks are).
installNodeSha256()

export { levelStorage } from './level-storage.ts'
export type { LevelStorageOptions, StorageDamagedEvent } from './level-storage.ts'
export { nodePeer } from './node-peer.ts'
export type { NodePeer, NodePeerEvents, NodePeerStatus, BootstrapStatus } from './node-peer.ts'
export type { NodePeerOptions, NetworkMode, RelayOptions } from './node-peer-options.ts'
export { DEFAULT_LISTEN, DEFAULT_RELAY } from './node-peer-options.ts'
export type { NodePeerServices } from './libp2p-options.ts'
export type { DialRetryOptions, DialTarget } from '@kadmium/core/profile'
export { PEER_KEY_FILE, readPeerKey, writePeerKey, encodePeerKey, decodePeerKey } from './peer-key.ts'
export { databaseDirectoryName } from './database-directory.ts'
export { AddressError, PeerKeyError, PeerClosedError, StorageError, StorageFullError, StorageCorruptionError } from './errors.ts'
export { serverStatus } from './cli/control.ts'
export type { ServerStatus, PinStatus } from './cli/server-status.ts'
export { nodeSignatureEngine, sodiumEngine, installNodeSignatures } from './signatures.ts'
export { nodeSha256, installNodeSha256 } from './node-hash.ts'
