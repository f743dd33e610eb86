/**
 * `@kadmium/browser`: Kadmium in browsers — {@link browserPeer}, the
 * libp2p peer of a page (WebSockets and WebRTC-Direct to always-on peers,
 * WebRTC between browsers, its identity kept in IndexedDB), and
 * {@link indexedDbStorage}, the `StorageAdapter` of `@kadmium/core` on
 * IndexedDB, and {@link shareAcrossTabs}, one database shared by the tabs
 * of an origin (one store, one tab running the network for all).
 *
 * @example
 * ```ts
 * import { createDatabase } from '@kadmium/core'
 * import { browserPeer } from '@kadmium/browser'
 *
 * const peer = await browserPeer({ bootstrap: ['/dns4/sync.example.org/tcp/443/wss/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'] })
 * const db = await createDatabase({ name: 'acme-todos', peer })
 * ```
 * @module \@kadmium/browser
 */
export { indexedDbStorage, deleteIndexedDbStorage } from './indexeddb-storage.ts'
export type { IndexedDbStorageOptions } from './indexeddb-storage.ts'
export { shareAcrossTabs, tabNames } from './tabs.ts'
export type { SharedDatabase, TabNames, TabRole, TabsEvents, TabsOptions } from './tabs.ts'
export { LeaderPeerError, TabMessageError, TabsUnsupportedError } from './tabs-errors.ts'
export { browserPeer, BrowserPeer } from './browser-peer.ts'
export type { BrowserPeerEvents, BrowserPeerStatus } from './browser-peer.ts'
export type { BrowserPeerOptions, NetworkMode } from './browser-peer-options.ts'
export { RELAYED_LISTEN } from './browser-libp2p-options.ts'
export { readPeerKey, writePeerKey } from './peer-key.ts'
export { DEFAULT_PEER_STORE } from './peer-store.ts'
// Shared by every adapter: the key as bytes, bootstrap and dial types, the errors of peers.
export { encodePeerKey, decodePeerKey } from '@kadmium/core/profile'
export type { BootstrapStatus, DialRetryOptions, DialTarget } from '@kadmium/core/profile'
export { AddressError, PeerKeyError, PeerClosedError } from '@kadmium/core'
