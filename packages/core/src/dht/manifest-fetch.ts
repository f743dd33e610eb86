/**
 * Reads a database's manifest from the DHT: the manifest is stored as a
 * block under its own hash, which the address names.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import type { CID } from 'multiformats/cid'
import { DhtStore } from './dht-store.ts'

/**
 * Fetches the manifest block of the database at `cid` from the DHT (checked
 * against its hash, so the bytes are the ones the address names).
 * Resolves `undefined` when no peer the lookup reached holds it, or when
 * `signal` ends it.
 */
export async function fetchManifestBlock (dht: KadDHT, cid: CID, signal: AbortSignal): Promise<Uint8Array | undefined> {
  const store = new DhtStore(dht, cid.toString())
  try {
    return await store.getPart([cid.multihash.digest], { signal })
  } catch {
    return undefined
  } finally {
    await store.stop()
  }
}
