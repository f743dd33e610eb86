import type * as Y from 'yjs'
import { DuplicateIdError, NotFoundError, RecordDeletedError, RecordTooLargeError } from '../errors.ts'
import type { CollectionKeys } from '../storage/layout.ts'
import type { StoreContext, WriteMode } from './types.ts'
import type { Digest } from './digest.ts'
import { LOCAL_WRITE } from './origins.ts'
import type { CompiledQuery, Row } from '../query/query.ts'
import { encodeFields, rowSizeBound } from '../query/row.ts'
import type { CheckedRow, FieldsCheck, InvalidListener } from '../query/row-check.ts'
import type { ApplyMeter } from './apply-meter.ts'
import { clone, type StoredObject } from '../model/values.ts'
import { applyFields } from '../model/yjs-mapping.ts'
import { hasFields } from './entry.ts'
import { CollectionRecords } from './records.ts'
import * as remote from './remote-apply.ts'
import * as view from './catch-up-view.ts'

const NO_TEXT: ReadonlySet<string> = new Set()

/**
 * One collection's records, schema-free: local writes and reads here;
 * their documents, index, rows and commit path in {@link CollectionRecords}
 * (`records.ts`); a peer's changes in `remote-apply.ts`; what catch-up
 * reads in `catch-up-view.ts`.
 */
export class CollectionStore {
  readonly name: string
  readonly keys: CollectionKeys
  readonly #r: CollectionRecords

  constructor (name: string, ctx: StoreContext) {
    this.#r = new CollectionRecords(name, ctx)
    this.name = name
    this.keys = this.#r.keys
  }

  /** Resolves once the collection index is loaded. */
  async ready (): Promise<void> {
    await this.#r.ready
  }

  /** Number of live records. */
  async size (): Promise<number> {
    return (await this.#r.ready).size
  }

  /**
   * Checks rows against the collection's schema from now on (before any
   * read); `onInvalid` hears of remote changes that leave a record failing it.
   */
  checkRows (check: FieldsCheck, onInvalid: InvalidListener): void {
    this.#r.checks.use(check, onInvalid)
  }

  /** The row of a live record with the schema's verdict, or `undefined`. */
  async get (id: string): Promise<CheckedRow | undefined> {
    const index = await this.#r.ready
    if (!index.isLive(id)) return undefined
    const viewed = this.#r.rows.peek(id)
    if (viewed !== undefined) return viewed
    const row = await this.#r.read.row(id)
    return row === undefined ? undefined : this.#r.checks.of(row)
  }

  /** Rows matching a query (records that fail the schema aside). */
  async find (query: CompiledQuery): Promise<Row[]> {
    return (await this.#r.rows.get()).find(query)
  }

  /** Number of rows matching a query (records that fail the schema aside). */
  async count (query: CompiledQuery): Promise<number> {
    return (await this.#r.rows.get()).count(query)
  }

  /** The records that fail the schema. */
  async invalid (): Promise<CheckedRow[]> {
    return [...(await this.#r.rows.get()).invalid.values()]
  }

  /** Starts a live query. */
  async watch (query: CompiledQuery, callback: (rows: readonly Row[]) => void): Promise<() => void> {
    return (await this.#r.rows.get()).watch(query, callback)
  }

  /** Calls `callback` with the row of `id` whenever it changes (`undefined` once deleted). */
  watchRecord (id: string, callback: (row: Row | undefined) => void): () => void {
    return this.#r.watchers.add(id, callback)
  }

  /**
   * Writes a record. `produce` gets a mutable copy of the current fields
   * (`undefined` if there is no live record) and returns the new fields,
   * already validated. Only the fields that differ are written, as one Yjs
   * transaction; resolves once durable.
   */
  async write (id: string, mode: WriteMode, produce: (current: StoredObject | undefined) => Promise<StoredObject>, textPaths: ReadonlySet<string> = NO_TEXT, fresh = false): Promise<void> {
    this.#r.ctx.checkWrite?.(this.name)
    const index = await this.#r.ready
    await this.#r.lock.run(id, async () => {
      if (index.isDeleted(id)) throw new RecordDeletedError(this.name, id)
      const live = index.isLive(id)
      if (mode === 'insert' && live) throw new DuplicateIdError(this.name, id)
      if (mode === 'update' && !live) throw new NotFoundError(this.name, id)
      const entry = await this.#r.entry(id, fresh && !live)
      // Live in the index, but its data has not arrived from the peer that made it.
      if (mode === 'update' && !hasFields(entry)) throw new NotFoundError(this.name, id)
      const next = await produce(live ? clone(entry.fields) : undefined)
      // Only near the size limit is the row encoded here; else after the write is sent to peers.
      const rowBytes = rowSizeBound(next) > this.#r.ctx.maxRecordBytes ? encodeFields(next) : undefined
      if (rowBytes !== undefined && rowBytes.length > this.#r.ctx.maxRecordBytes) throw new RecordTooLargeError(rowBytes.length, this.#r.ctx.maxRecordBytes)
      entry.doc.transact(() => { applyFields(entry.doc, entry.fields, next, textPaths) }, LOCAL_WRITE)
      if (!live) index.markLive(id)
      await this.#r.commit(entry, 'local', live ? 'update' : 'insert', { rowBytes })
    })
  }

  /** Deletes a live record for good: a tombstone in the index, its data removed from storage. */
  async delete (id: string): Promise<void> {
    this.#r.ctx.checkWrite?.(this.name)
    const index = await this.#r.ready
    await this.#r.lock.run(id, async () => {
      if (!index.isLive(id)) {
        throw index.isDeleted(id) ? new RecordDeletedError(this.name, id) : new NotFoundError(this.name, id)
      }
      const ops = await this.#r.dataDeletion(id)
      index.markDeleted(id)
      const indexKeys = this.#r.indexOps(index, ops)
      this.#r.publish([], indexKeys.updates)
      await this.#r.persist(ops, id)
      index.updateKeys.push(...indexKeys.keys)
      this.#r.docs.evict(id, true)
      this.#r.announce(id, undefined, 'delete', 'local')
      for (const update of indexKeys.updates) this.#r.ctx.onUpdate({ collection: this.name, target: 'index', update, origin: 'local' })
    })
  }

  /** The `Y.Doc` of a live record, kept in memory while the database is open. */
  async doc (id: string): Promise<Y.Doc> {
    const index = await this.#r.ready
    return this.#r.lock.run(id, async () => {
      if (!index.isLive(id)) throw new NotFoundError(this.name, id)
      const entry = await this.#r.entry(id)
      // Listed live by a peer's index, its content not here yet (it waits for a catch-up): no fields to bind to.
      if (!hasFields(entry)) throw new NotFoundError(this.name, id)
      entry.pinned = true
      return entry.doc
    })
  }

  /** Applies a Yjs update of record `id` from a peer (`meter` counts the computing). Resolves `true` if it changed anything. */
  async applyRemoteRecord (id: string, update: Uint8Array, meter?: ApplyMeter): Promise<boolean> {
    return remote.applyRemoteRecord(this.#r, id, update, meter)
  }

  /** Applies records a peer sent whole (a catch-up's), many at once. Resolves once they show; `stored` once they are stored. */
  async applyRemoteRecords (items: readonly remote.RemoteRecord[]): Promise<remote.AppliedRecords> {
    return remote.applyRemoteRecords(this.#r, items)
  }

  /** Whether record `id` (without: the index) waits for an earlier update (a record not in memory may: a catch-up tells). */
  waiting (id?: string): boolean {
    return remote.waiting(this.#r, id)
  }

  /** Applies a Yjs update of the collection index from a peer. Resolves `true` if it changed anything. */
  async applyRemoteIndex (update: Uint8Array, meter?: ApplyMeter): Promise<boolean> {
    return remote.applyRemoteIndex(this.#r, update, meter)
  }

  /** Every live id, with the collection index's full state (for catch-up). */
  async indexSnapshot (): Promise<Uint8Array> {
    return (await this.#r.ready).snapshot()
  }

  /** Whether record `id` was deleted here: its tombstone wins over anything that arrives later. */
  async isDeleted (id: string): Promise<boolean> {
    return (await this.#r.ready).isDeleted(id)
  }

  /** Ids of every live record. */
  async liveIds (): Promise<string[]> {
    return [...(await this.#r.ready).liveIds()]
  }

  /** The digest of every live record with data here (for catch-up). */
  async digests (): Promise<ReadonlyMap<string, Digest>> {
    return view.digests(this.#r)
  }

  /** The digest of the collection index. */
  async indexDigest (): Promise<Digest> {
    return view.indexDigest(this.#r)
  }

  /** What this replica has of the collection index beyond the state vector `sv`. */
  async indexDiff (sv: Uint8Array): Promise<Uint8Array> {
    return view.indexDiff(this.#r, sv)
  }

  /** What this replica has of record `id` beyond state vector `sv` (all without `sv`); `undefined` if no live record. */
  async recordDiff (id: string, sv?: Uint8Array): Promise<Uint8Array | undefined> {
    return view.recordDiff(this.#r, id, sv)
  }

  /** The stored updates (snapshot and log) of live records among `ids`, read straight from storage. */
  storedUpdates (ids: ReadonlySet<string>): AsyncGenerator<[string, Uint8Array[]]> {
    return view.storedUpdates(this.#r, ids)
  }

  /** Waits for running writes and background work, then drops every cached document. */
  async close (): Promise<void> {
    await this.#r.ready.catch(() => {})
    do {
      await this.#r.lock.idle()
      this.#r.storeUnstored() // (live updates from peers that wait)
      await Promise.allSettled([...this.#r.background])
    } while (this.#r.unstored.size > 0)
    this.#r.unstored.cancel()
    await this.#r.lock.idle()
    this.#r.docs.clear()
    this.#r.index?.doc.destroy()
  }
}
