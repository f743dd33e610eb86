/**
 * What a collection shows catch-up: digests of its records and of its
 * index, diffs against a peer's state vectors, and the stored updates of
 * records a peer lacks, read straight from storage.
 * @module
 */
import * as Y from 'yjs'
import { docDigest, type Digest } from './digest.ts'
import type { CollectionRecords } from './records.ts'
import { storedDocs } from './stored-docs.ts'

/** The digest of every live record with data here (for catch-up): loaded once, then kept up to date by every commit. */
export async function digests (records: CollectionRecords): Promise<ReadonlyMap<string, Digest>> {
  const index = await records.ready
  const all = await records.digests.all()
  const live = new Map<string, Digest>()
  for (const [id, digest] of all) if (index.isLive(id)) live.set(id, digest)
  return live
}

/** The digest of the collection index. */
export async function indexDigest (records: CollectionRecords): Promise<Digest> {
  return docDigest((await records.ready).doc)
}

/** What this replica has of the collection index beyond the state vector `sv`. */
export async function indexDiff (records: CollectionRecords, sv: Uint8Array): Promise<Uint8Array> {
  return Y.encodeStateAsUpdate((await records.ready).doc, sv)
}

/** What this replica has of record `id` beyond state vector `sv` (all without `sv`); `undefined` if no live record. */
export async function recordDiff (records: CollectionRecords, id: string, sv?: Uint8Array): Promise<Uint8Array | undefined> {
  const index = await records.ready
  return records.lock.run(id, async () => {
    if (!index.isLive(id)) return undefined
    return Y.encodeStateAsUpdate((await records.entry(id)).doc, sv)
  })
}

/**
 * The stored updates (snapshot and log) of live records among `ids`,
 * read straight from storage without building documents: one scan,
 * yielding record by record.
 */
export async function * storedUpdates (records: CollectionRecords, ids: ReadonlySet<string>): AsyncGenerator<[string, Uint8Array[]]> {
  const index = await records.ready
  // Live updates waiting to be stored are stored first, so that the scan reads them.
  if (records.unstored.size > 0) {
    records.storeUnstored()
    await records.ctx.queue.drain()
  }
  yield * storedDocs(records.ctx.storage, records.keys.docs, (id) => ids.has(id) && index.isLive(id))
}
