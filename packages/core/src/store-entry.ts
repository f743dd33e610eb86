/**
 * A record's document as a collection store keeps it in memory.
 * @module
 */
import * as Y from 'yjs'
import { decodeDigest, docDigest, encodeDigest } from './digest.ts'
import type { CollectionKeys } from './keys.ts'
import { loadDoc } from './load-doc.ts'
import type { Row } from './query.ts'
import { makeRow } from './row.ts'
import type { BatchOperation, StorageAdapter } from './storage.ts'
import type { StoredObject } from './values.ts'
import { readFields } from './yjs-mapping.ts'

/** A cached record: its document, fields, row and update log. */
export interface Entry {
  readonly id: string
  readonly doc: Y.Doc
  fields: StoredObject
  row: Row
  /** Keys of the update-log entries stored since the snapshot. */
  updateKeys: string[]
  /** Updates made in the document and not yet committed. */
  pending: Uint8Array[]
  /** Kept in memory while the database is open (handed out by `doc(id)`). */
  pinned: boolean
  /** Live updates applied in a row while an earlier update was missing (see {@link farBehind}). */
  behind: number
  /** The store's `update` listener on the document (adds to {@link pending}), if attached. */
  onUpdate?: ((update: Uint8Array, origin: unknown) => void) | undefined
}

/**
 * Whether a record's document holds any field (its data arrived). Reads the
 * fields kept in step with the document, not `Y.Map.size`, which builds
 * an iterator over every entry on each call.
 */
export function hasFields (entry: Entry): boolean {
  for (const _ in entry.fields) return true
  return false
}

/** Whether a Yjs transaction changed its document (what Yjs checks before it encodes an update). */
function changedBy (transaction: Y.Transaction): boolean {
  if (transaction.deleteSet.clients.size > 0) return true
  for (const [client, clock] of transaction.afterState) if (transaction.beforeState.get(client) !== clock) return true
  return false
}

/**
 * Applies a peer's update to a record's document without the store's
 * `update` listener: Yjs then does not encode the transaction again (the
 * peer's bytes are what gets stored). Returns whether anything changed.
 * @throws whatever `Y.applyUpdate` throws for bytes that do not decode
 */
export function applyPeerUpdate (entry: Entry, update: Uint8Array, origin: unknown): boolean {
  let changed = false
  const onTransaction = (transaction: Y.Transaction): void => { changed ||= changedBy(transaction) }
  const listener = entry.onUpdate
  if (listener !== undefined) entry.doc.off('update', listener)
  entry.doc.on('afterTransaction', onTransaction)
  try {
    Y.applyUpdate(entry.doc, update, origin)
  } finally {
    entry.doc.off('afterTransaction', onTransaction)
    if (listener !== undefined) entry.doc.on('update', listener)
  }
  return changed
}

/** Whether a document holds updates that wait for missing dependencies. */
export function hasPending (doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null
}

/**
 * Live updates applied in a row behind a missing one, beyond which further
 * live updates of the record are not applied: Yjs merges each new update
 * into those that wait, so a long run behind a gap costs time quadratic in
 * its length. (Updates that gossip delivers out of order close their gaps
 * within a few.)
 */
const FAR_BEHIND_UPDATES = 32

/** Whether so many updates wait in a record for a missing one that live updates should be left to a catch-up. */
export function farBehind (entry: Entry): boolean {
  return entry.behind >= FAR_BEHIND_UPDATES && hasPending(entry.doc)
}

/**
 * Loads record `id` from storage: the log its stored digest lists (or a
 * scan), applied over its snapshot. With `fresh` (an id just made here),
 * storage is not read.
 */
export async function loadEntry (storage: StorageAdapter, keys: CollectionKeys, id: string, fresh: boolean): Promise<Entry> {
  const stored = fresh ? undefined : await storage.get(keys.digest(id))
  const log = stored === undefined ? undefined : decodeDigest(stored, keys.updates(id))?.log
  const loaded = await loadDoc(storage, keys.doc(id), fresh, log)
  const fields = readFields(loaded.doc)
  return { id, doc: loaded.doc, fields, row: makeRow(id, fields), updateKeys: loaded.updateKeys, pending: [], pinned: false, behind: 0 }
}

/** Storage operations that fold a record's update log (`logKeys`) into its snapshot. */
export function compactionOps (keys: CollectionKeys, entry: Entry, logKeys: readonly string[]): BatchOperation[] {
  const ops: BatchOperation[] = [
    { type: 'put', key: keys.snapshot(entry.id), value: Y.encodeStateAsUpdate(entry.doc) },
    // The log the digest lists is now empty: loads read the snapshot alone.
    { type: 'put', key: keys.digest(entry.id), value: encodeDigest(docDigest(entry.doc), [], keys.updates(entry.id)) }
  ]
  for (const key of logKeys) ops.push({ type: 'del', key })
  return ops
}

/** Storage operations that remove a record's row, digest and document (not its tombstone in the index). */
export async function deletionOps (storage: StorageAdapter, keys: CollectionKeys, id: string): Promise<BatchOperation[]> {
  const ops: BatchOperation[] = [
    { type: 'del', key: keys.row(id) },
    { type: 'del', key: keys.digest(id) }
  ]
  for await (const [key] of storage.scan(keys.doc(id), { keysOnly: true })) ops.push({ type: 'del', key })
  return ops
}
