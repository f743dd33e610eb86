/**
 * A record's document as a collection store keeps it in memory.
 * @module
 */
import * as Y from 'yjs'
import { decodeDigest, docDigest, encodeDigest, type Digest } from './digest.ts'
import type { CollectionKeys } from '../storage/layout.ts'
import { loadDoc } from './load-doc.ts'
import type { Row } from '../query/query.ts'
import { encodeFields, makeRow } from '../query/row.ts'
import type { BatchOperation, SharedStorage, StorageAdapter } from '../storage/storage.ts'
import type { WriteQueue } from '../storage/write-queue.ts'
import { MalformedUpdateError } from '../errors.ts'
import type { StoredObject } from '../model/values.ts'
import { readFields } from '../model/yjs-mapping.ts'

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
  /** A peer's live updates, committed and shown but not yet stored (see `UnstoredRecords`). */
  unstored: Uint8Array[]
  /** Batches of such updates being stored now. */
  storing: number
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
export function changedBy (transaction: Y.Transaction): boolean {
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

/** A record new to this replica, with nothing in it yet (storage is not read). */
export function newEntry (keys: CollectionKeys, id: string): Entry {
  // A guid given: Yjs would otherwise draw ~30 random numbers for one (as `loadDoc` does).
  const doc = new Y.Doc({ gc: true, guid: keys.doc(id) })
  return { id, doc, fields: {}, row: makeRow(id, {}), updateKeys: [], pending: [], unstored: [], storing: 0, pinned: false, behind: 0 }
}

/**
 * Loads record `id` from storage: the log its stored digest lists (or a
 * scan), applied over its snapshot. With `fresh` (an id just made here),
 * storage is not read; with `shared` (storage other databases write at
 * once), the whole log is read (see `loadDoc`).
 */
export async function loadEntry (storage: StorageAdapter, keys: CollectionKeys, id: string, fresh: boolean, shared?: SharedStorage): Promise<Entry> {
  const stored = fresh || shared !== undefined ? undefined : await storage.get(keys.digest(id))
  const log = stored === undefined ? undefined : decodeDigest(stored, keys.updates(id))?.log
  const loaded = await loadDoc(storage, keys.doc(id), fresh, log, shared)
  const fields = readFields(loaded.doc)
  return { id, doc: loaded.doc, fields, row: makeRow(id, fields), updateKeys: loaded.updateKeys, pending: [], unstored: [], storing: 0, pinned: false, behind: 0 }
}

/**
 * Folds a record's update log into its snapshot once the log holds `every`
 * updates. Not while a peer's live updates wait to be stored (the stored
 * row would stay behind the snapshot): storing them compacts it.
 *
 * With `shared` (storage other databases write at once, this call running
 * as their exclusive work), what storage holds of the record is folded in
 * too, and every log entry read is deleted, whoever wrote it: the snapshot
 * then holds all it replaces, even another writer's updates this document
 * has not seen yet (written over, they would be lost).
 */
export async function compactRecordLog (queue: WriteQueue, keys: CollectionKeys, entry: Entry, every: number, shared?: StorageAdapter): Promise<void> {
  if (entry.updateKeys.length < every || entry.unstored.length > 0) return
  if (shared !== undefined) {
    await queue.write([
      ...await foldStored(shared, keys.doc(entry.id), entry.doc),
      { type: 'put', key: keys.digest(entry.id), value: encodeDigest(docDigest(entry.doc), null, keys.updates(entry.id)) }
    ])
    // (Keys of this document's log that were not read are gone already, taken by another writer's compaction,
    // or still being stored: forgetting them only leaves them to the next compaction's scan.)
    entry.updateKeys = []
    return
  }
  const logKeys = entry.updateKeys.slice()
  const ops: BatchOperation[] = [
    { type: 'put', key: keys.snapshot(entry.id), value: Y.encodeStateAsUpdate(entry.doc) },
    // The log the digest lists is now empty: loads read the snapshot alone.
    { type: 'put', key: keys.digest(entry.id), value: encodeDigest(docDigest(entry.doc), [], keys.updates(entry.id)) }
  ]
  for (const key of logKeys) ops.push({ type: 'del', key })
  await queue.write(ops)
  entry.updateKeys = entry.updateKeys.slice(logKeys.length)
}

/**
 * Storage operations that fold a document's stored snapshot and log
 * (`<prefix>s`, `<prefix>u/...`, as storage holds them now) and `doc` into
 * one snapshot, deleting the log entries read.
 */
export async function foldStored (storage: StorageAdapter, prefix: string, doc: Y.Doc): Promise<BatchOperation[]> {
  const merged = new Y.Doc({ gc: true, guid: prefix })
  const ops: BatchOperation[] = []
  try {
    Y.applyUpdate(merged, Y.encodeStateAsUpdate(doc))
    for await (const [key, value] of storage.scan(prefix)) {
      try {
        Y.applyUpdate(merged, value)
      } catch (cause) {
        throw new MalformedUpdateError(`stored data under "${key}" does not decode: ${String(cause)}`, { cause })
      }
      if (key !== prefix + 's') ops.push({ type: 'del', key })
    }
    ops.unshift({ type: 'put', key: prefix + 's', value: Y.encodeStateAsUpdate(merged) })
  } finally {
    merged.destroy()
  }
  return ops
}

/** What storing a commit of a record writes: its updates, appended to its log, then its row and digest. */
export interface CommitOps {
  readonly ops: BatchOperation[]
  /** Keys of the updates in the log. */
  readonly logKeys: string[]
  /** The record's digest, as stored. */
  readonly digest: Digest
}

/**
 * Storage operations of a record's commit: `updates` appended to its log
 * under keys from `nextKey`, its row (`rowBytes`, else its fields encoded)
 * and its digest, listing the whole log (with `shared`: listing none, see
 * `StoredDigest`).
 */
export function commitOps (keys: CollectionKeys, entry: Entry, updates: readonly Uint8Array[], nextKey: () => string, rowBytes?: Uint8Array, shared = false): CommitOps {
  const ops: BatchOperation[] = []
  const prefix = keys.updates(entry.id)
  const logKeys = updates.map((value) => {
    const key = prefix + nextKey()
    ops.push({ type: 'put', key, value })
    return key
  })
  ops.push({ type: 'put', key: keys.row(entry.id), value: rowBytes ?? encodeFields(entry.fields) })
  const digest = docDigest(entry.doc)
  ops.push({ type: 'put', key: keys.digest(entry.id), value: encodeDigest(digest, shared ? null : entry.updateKeys, prefix, logKeys) })
  return { ops, logKeys, digest }
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
