/**
 * The types a collection store shares with its database: change and update
 * events, and what the store needs from the database.
 * @module
 */
import type { SequenceKeys } from '../storage/layout.ts'
import type { SharedStorage, StorageAdapter } from '../storage/storage.ts'
import type { WriteQueue } from '../storage/write-queue.ts'

/** Who made a change: this replica, or a peer. */
export type Origin = 'local' | 'remote'

/** A record was inserted, updated or deleted. */
export interface ChangeEvent {
  /** The record's collection. */
  readonly collection: string
  /** The record's id. */
  readonly id: string
  /** What happened to it. */
  readonly type: 'insert' | 'update' | 'delete'
  /** Whether this replica made the change, or a peer. */
  readonly origin: Origin
}

/** A Yjs update that was committed to storage: what a network layer sends to peers. */
export interface UpdateEvent {
  /** The collection it belongs to. */
  readonly collection: string
  /** `record`: an update of record `id`'s document; `index`: of the collection index. */
  readonly target: 'record' | 'index'
  /** The record id, for `target: 'record'`. */
  readonly id?: string
  /** The Yjs update, as stored. */
  readonly update: Uint8Array
  /** Whether this replica made it, or a peer. */
  readonly origin: Origin
}

/** What a collection store needs from its database. */
export interface StoreContext {
  readonly storage: StorageAdapter
  readonly queue: WriteQueue
  readonly seq: SequenceKeys
  /** Records' `Y.Doc`s kept in memory at most (pinned ones aside). */
  readonly cacheSize: number
  /** Compact a log once it holds this many updates. */
  readonly compactEvery: number
  readonly maxRecordBytes: number
  /** The storage holds nothing of this collection yet: records arriving need no storage read. */
  readonly fresh?: boolean
  readonly onChange: (event: ChangeEvent) => void
  readonly onUpdate: (event: UpdateEvent) => void
  /** A local update was made and is being stored: what a network layer sends to peers (before `onUpdate`). Returns whether a peer listens. */
  readonly onPublish?: (event: UpdateEvent) => boolean
  readonly onError: (error: Error) => void
  /** Throws (`UnauthorizedWriterError`) when this peer may not write to the collection (a restricted database). */
  readonly checkWrite?: (collection: string) => void
  /** Other databases write the storage at the same time (see `DatabaseOptions.sharedStorage`). */
  readonly shared?: SharedStorage | undefined
}

/** How a write treats an existing record. */
export type WriteMode = 'insert' | 'update' | 'upsert'
