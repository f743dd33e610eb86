/**
 * Reads a database's manifest by its address from the DHT: the manifest is
 * stored as a block under its own hash, which the address names.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import { CID } from 'multiformats/cid'
import { InvalidArgumentError, NotFoundError } from '../errors.ts'
import { DhtStore } from './dht-store.ts'

/**
 * Fetches a database's manifest by its address from the DHT (the block is
 * checked against its hash, so the bytes are the ones the address names).
 * @throws {NotFoundError} no peer holds the manifest
 * @throws {InvalidArgumentError} the address is not a database address
 */
export async function fetchManifest (dht: KadDHT, address: string, timeout = 15_000): Promise<Uint8Array> {
  let cid: CID
  try {
    cid = CID.parse(address)
  } catch (cause) {
    throw new InvalidArgumentError(`"${address}" is not a database address`, { cause })
  }
  const store = new DhtStore(dht, address, { queryTimeout: timeout })
  try {
    const bytes = await store.getPart([cid.multihash.digest])
    if (bytes === undefined) throw new NotFoundError('manifests', address)
    return bytes
  } finally {
    await store.stop()
  }
}
