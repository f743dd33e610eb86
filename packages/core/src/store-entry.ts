/**
 * A record's document as a collection store keeps it in memory.
 * @module
 */
import type * as Y from 'yjs'
import type { Row } from './query.ts'
import type { StoredObject } from './values.ts'

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
}

/** Whether a document holds updates that wait for missing dependencies. */
export function hasPending (doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null
}
