/**
 * The peer key in the browser: the libp2p private key that is a user's
 * identity on this device, kept in the page origin's IndexedDB (the peer
 * store, see `peer-store.ts`) as libp2p's protobuf form of the key — the
 * bytes `exportIdentity()` gives and `decodePeerKey` reads, on every
 * platform.
 * @module
 */
import { PeerKeyError } from '@kadmium/core'
import { decodePeerKey, encodePeerKey } from '@kadmium/core/profile'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { DEFAULT_PEER_STORE, openPeerStore, PEER_KEY, type PeerStore } from './peer-store.ts'

/**
 * The peer key kept in the peer store `name` of this origin, or
 * `undefined` if there is none.
 *
 * @throws {PeerKeyError} what is kept there is not a key
 * @throws {StorageError} IndexedDB is not available or refuses
 */
export async function readPeerKey (name: string = DEFAULT_PEER_STORE): Promise<PrivateKey | undefined> {
  const store = await openPeerStore(name)
  try {
    return await storedKey(store, name)
  } finally {
    store.close()
  }
}

/**
 * Keeps `key` as the peer key of the peer store `name`, replacing the one
 * there: the way to change a browser's identity on purpose (import one
 * from another device with `decodePeerKey`). Takes effect at the next
 * `browserPeer()`.
 *
 * @throws {StorageError} IndexedDB is not available or refuses
 */
export async function writePeerKey (key: PrivateKey, name: string = DEFAULT_PEER_STORE): Promise<void> {
  const store = await openPeerStore(name)
  try {
    await store.put('keys', PEER_KEY, encodePeerKey(key))
  } finally {
    store.close()
  }
}

/**
 * The key a peer of store `name` runs with: `given` if passed (kept if the
 * store has no key yet), else the kept key, else a new Ed25519 key, kept.
 * Two tabs that make a key at once keep one: the first written.
 *
 * @throws {PeerKeyError} `given` is another identity than the kept one (replacing an identity is never silent: {@link writePeerKey} does it), or what is kept is not a key
 */
export async function loadPeerKey (store: PeerStore, name: string, given?: PrivateKey): Promise<PrivateKey> {
  const stored = await storedKey(store, name)
  if (stored !== undefined) return same(stored, given, name)
  const key = given ?? await generateKeyPair('Ed25519')
  if (await store.add('keys', PEER_KEY, encodePeerKey(key))) return key
  // Another tab kept its key first: that one is this origin's identity.
  const kept = await storedKey(store, name)
  if (kept === undefined) throw new PeerKeyError(`the peer store "${name}" lost its key while it was being written`)
  return same(kept, given, name)
}

async function storedKey (store: PeerStore, name: string): Promise<PrivateKey | undefined> {
  const bytes = await store.get('keys', PEER_KEY)
  if (bytes === undefined) return undefined
  try {
    return decodePeerKey(bytes)
  } catch (cause) {
    throw new PeerKeyError(`the peer store "${name}" holds no protobuf-encoded libp2p private key`, { cause })
  }
}

function same (stored: PrivateKey, given: PrivateKey | undefined, name: string): PrivateKey {
  if (given !== undefined && !given.equals(stored)) {
    throw new PeerKeyError(`the peer store "${name}" holds another identity than the privateKey given; writePeerKey() replaces it`)
  }
  return stored
}
