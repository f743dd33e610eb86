import * as Y from 'yjs'
import { CollectionIndex, type Transition } from './collection-index.ts'
import { DuplicateIdError, MalformedUpdateError, NotFoundError, RecordDeletedError, RecordTooLargeError } from '../errors.ts'
import { CollectionKeys } from '../storage/layout.ts'
import type { ChangeEvent, Origin, StoreContext, WriteMode } from './types.ts'
import { docDigest, type Digest } from './digest.ts'
import { DigestCache } from './digest-cache.ts'
import { DocCache } from './doc-cache.ts'
import { storedDocs } from './stored-docs.ts'
import { KeyedLock } from '../util/lock.ts'
import { LOCAL_WRITE, REMOTE_WRITE, isOwnOrigin } from './origins.ts'
import type { CompiledQuery, Row } from '../query/query.ts'
import { encodeFields, makeRow, rowSizeBound } from '../query/row.ts'
import { UnstoredRecords } from './unstored-records.ts'
import { StoredRows } from './stored-rows.ts'
import { LazyRowView } from '../query/lazy-view.ts'
import { nextTask } from '../util/next-task.ts'
import { RowChecks, type CheckedRow, type FieldsCheck, type InvalidListener } from '../query/row-check.ts'
import type { ApplyMeter } from './apply-meter.ts'
import type { BatchOperation } from '../storage/storage.ts'
import { clone, type StoredObject } from '../model/values.ts'
import { applyFields, readFields } from '../model/yjs-mapping.ts'
import { applyPeerUpdate, commitOps, compactRecordLog, deletionOps, farBehind, hasFields, hasPending, loadEntry, type Entry } from './entry.ts'
import { KeyedWatchers } from './watchers.ts'

const INDEX_LOCK = '/index'
const NO_TEXT: ReadonlySet<string> = new Set()

/**
 * One collection's records, schema-free: their documents (loaded lazily,
 * a bounded number cached), the collection index, the row view that serves
 * queries, and the paths by which local and remote changes arrive.
 */
export class CollectionStore {
  readonly name: string
  readonly keys: CollectionKeys
  readonly #ctx: StoreContext
  readonly #ready: Promise<CollectionIndex>
  #index: CollectionIndex | undefined
  readonly #lock = new KeyedLock()
  readonly #docs: DocCache
  /** The rows of live records, loaded on the first query. */
  readonly #rows: LazyRowView
  readonly #checks = new RowChecks()
  readonly #watchers = new KeyedWatchers<Row | undefined>()
  readonly #background = new Set<Promise<unknown>>()
  readonly #digests: DigestCache // of every record with data here, loaded on the first catch-up
  readonly #unstored = new UnstoredRecords(() => { this.#storeUnstored() })
  readonly #read: StoredRows

  constructor (name: string, ctx: StoreContext) {
    this.name = name
    this.keys = new CollectionKeys(name)
    this.#ctx = ctx
    this.#docs = new DocCache(ctx.cacheSize, (id) => this.#lock.isHeld(id))
    this.#digests = new DigestCache(ctx.storage, this.keys.digests)
    this.#read = new StoredRows(ctx.storage, this.keys, this.#docs, this.#unstored, this.#checks)
    this.#rows = new LazyRowView((skip) => this.#storedRows(skip))
    this.#ready = CollectionIndex.load(ctx.storage, this.keys).then((index) => {
      this.#index = index
      if (index.needsCompaction(this.#ctx.compactEvery)) this.#schedule(this.#compactIndex())
      return index
    })
    this.#ready.catch(() => {}) // reported by every call that awaits it
  }

  /** Resolves once the collection index is loaded. */
  async ready (): Promise<void> {
    await this.#ready
  }

  /** Number of live records. */
  async size (): Promise<number> {
    return (await this.#ready).size
  }

  /**
   * Checks rows against the collection's schema from now on (before any
   * read); `onInvalid` hears of remote changes that leave a record failing it.
   */
  checkRows (check: FieldsCheck, onInvalid: InvalidListener): void {
    this.#checks.use(check, onInvalid)
  }

  /** The row of a live record with the schema's verdict, or `undefined`. */
  async get (id: string): Promise<CheckedRow | undefined> {
    const index = await this.#ready
    if (!index.isLive(id)) return undefined
    const viewed = this.#rows.peek(id)
    if (viewed !== undefined) return viewed
    const row = await this.#read.row(id)
    return row === undefined ? undefined : this.#checks.of(row)
  }

  /** Rows matching a query (records that fail the schema aside). */
  async find (query: CompiledQuery): Promise<Row[]> {
    return (await this.#rows.get()).find(query)
  }

  /** Number of rows matching a query (records that fail the schema aside). */
  async count (query: CompiledQuery): Promise<number> {
    return (await this.#rows.get()).count(query)
  }

  /** The records that fail the schema. */
  async invalid (): Promise<CheckedRow[]> {
    return [...(await this.#rows.get()).invalid.values()]
  }

  /** Starts a live query. */
  async watch (query: CompiledQuery, callback: (rows: readonly Row[]) => void): Promise<() => void> {
    return (await this.#rows.get()).watch(query, callback)
  }

  /** Calls `callback` with the row of `id` whenever it changes (`undefined` once deleted). */
  watchRecord (id: string, callback: (row: Row | undefined) => void): () => void {
    return this.#watchers.add(id, callback)
  }

  /**
   * Writes a record. `produce` gets a mutable copy of the current fields
   * (`undefined` if there is no live record) and returns the new fields,
   * already validated. Only the fields that differ are written, as one Yjs
   * transaction; resolves once durable.
   */
  async write (id: string, mode: WriteMode, produce: (current: StoredObject | undefined) => Promise<StoredObject>, textPaths: ReadonlySet<string> = NO_TEXT, fresh = false): Promise<void> {
    this.#ctx.checkWrite?.(this.name)
    const index = await this.#ready
    await this.#lock.run(id, async () => {
      if (index.isDeleted(id)) throw new RecordDeletedError(this.name, id)
      const live = index.isLive(id)
      if (mode === 'insert' && live) throw new DuplicateIdError(this.name, id)
      if (mode === 'update' && !live) throw new NotFoundError(this.name, id)
      const entry = await this.#entry(id, fresh && !live)
      // Live in the index, but its data has not arrived from the peer that made it.
      if (mode === 'update' && !hasFields(entry)) throw new NotFoundError(this.name, id)
      const next = await produce(live ? clone(entry.fields) : undefined)
      // Only near the size limit is the row encoded here; else after the write is sent to peers.
      const rowBytes = rowSizeBound(next) > this.#ctx.maxRecordBytes ? encodeFields(next) : undefined
      if (rowBytes !== undefined && rowBytes.length > this.#ctx.maxRecordBytes) throw new RecordTooLargeError(rowBytes.length, this.#ctx.maxRecordBytes)
      entry.doc.transact(() => { applyFields(entry.doc, entry.fields, next, textPaths) }, LOCAL_WRITE)
      if (!live) index.markLive(id)
      await this.#commit(entry, 'local', live ? 'update' : 'insert', { rowBytes })
    })
  }

  /** Deletes a live record for good: a tombstone in the index, its data removed from storage. */
  async delete (id: string): Promise<void> {
    this.#ctx.checkWrite?.(this.name)
    const index = await this.#ready
    await this.#lock.run(id, async () => {
      if (!index.isLive(id)) {
        throw index.isDeleted(id) ? new RecordDeletedError(this.name, id) : new NotFoundError(this.name, id)
      }
      const ops = await this.#dataDeletion(id)
      index.markDeleted(id)
      const indexKeys = this.#indexOps(index, ops)
      this.#publish([], indexKeys.updates)
      await this.#persist(ops, id)
      index.updateKeys.push(...indexKeys.keys)
      this.#docs.evict(id, true)
      this.#announce(id, undefined, 'delete', 'local')
      for (const update of indexKeys.updates) this.#ctx.onUpdate({ collection: this.name, target: 'index', update, origin: 'local' })
    })
  }

  /** The `Y.Doc` of a live record, kept in memory while the database is open. */
  async doc (id: string): Promise<Y.Doc> {
    const index = await this.#ready
    return this.#lock.run(id, async () => {
      if (!index.isLive(id)) throw new NotFoundError(this.name, id)
      const entry = await this.#entry(id)
      entry.pinned = true
      return entry.doc
    })
  }

  /** Applies a Yjs update of record `id` from a peer (`meter` counts the computing). Resolves `true` if it changed anything. */
  async applyRemoteRecord (id: string, update: Uint8Array, meter?: ApplyMeter): Promise<boolean> {
    const index = this.#index ?? await this.#ready
    return this.#lock.run(id, async () => {
      if (index.isDeleted(id)) return false
      const entry = this.#docs.use(id) ?? await this.#entry(id)
      // Live updates for a record far behind are left to the catch-up its gap asks for.
      if (meter !== undefined && farBehind(entry)) return meter.gap(this.name, id)
      meter?.start()
      const hadData = hasFields(entry)
      let changed = false
      try {
        changed = applyPeerUpdate(entry, update, REMOTE_WRITE)
      } catch (cause) {
        this.#docs.evict(id, true)
        // Its live updates not yet stored went with the document: it shows what storage holds (catch-up brings the rest).
        if (this.#unstored.drop(id)) await this.#reannounce(id, 'remote')
        throw new MalformedUpdateError(`update for record "${id}" does not decode: ${String(cause)}`, { cause })
      } finally {
        meter?.stop()
      }
      // The peer's bytes are stored as sent (Yjs skips parts already here), also when they wait in Yjs for a missing update.
      const waiting = hasPending(entry.doc)
      entry.behind = waiting ? entry.behind + 1 : 0
      if (waiting) meter?.gap(this.name, id)
      if (!changed && !waiting) return false
      entry.pending.push(update)
      await this.#commit(entry, 'remote', hadData ? 'update' : 'insert', undefined, meter)
      return true
    })
  }

  /** Whether record `id` (without: the index) waits for an earlier update (a record not in memory may: a catch-up tells). */
  waiting (id?: string): boolean {
    if (id === undefined) return this.#index === undefined || hasPending(this.#index.doc)
    const entry = this.#docs.peek(id)
    return entry === undefined || hasPending(entry.doc)
  }

  /** Applies a Yjs update of the collection index from a peer. Resolves `true` if it changed anything. */
  async applyRemoteIndex (update: Uint8Array, meter?: ApplyMeter): Promise<boolean> {
    const index = await this.#ready
    const applied = await this.#lock.run(INDEX_LOCK, async () => {
      let transitions: Transition[]
      meter?.start()
      try {
        transitions = index.applyRemote(update)
      } catch (cause) {
        meter?.stop()
        throw new MalformedUpdateError(`index update for "${this.name}" does not decode: ${String(cause)}`, { cause })
      }
      const ops: BatchOperation[] = []
      const gap = hasPending(index.doc)
      if (gap) meter?.gap(this.name)
      const written = this.#indexOps(index, ops, gap ? [update] : [])
      meter?.stop()
      if (written.keys.length === 0) return undefined
      // Queued in order, without holding the lock while storage commits: index updates meanwhile share the batch.
      const persisted = this.#persist(ops)
      persisted.catch(() => {}) // awaited below
      index.updateKeys.push(...written.keys)
      return { transitions, updates: written.updates, persisted }
    })
    if (applied === undefined) return false
    const { transitions, updates, persisted } = applied
    await persisted
    for (const u of updates) this.#ctx.onUpdate({ collection: this.name, target: 'index', update: u, origin: 'remote' })
    await Promise.all(transitions.map(async ({ id, live }) => this.#lock.run(id, async () => {
      if (live) {
        const row = await this.#read.row(id)
        if (row !== undefined) this.#announce(id, await this.#checks.of(row), 'insert', 'remote')
      } else {
        const ops = await this.#dataDeletion(id)
        await this.#persist(ops)
        this.#docs.evict(id, true)
        this.#announce(id, undefined, 'delete', 'remote')
      }
    })))
    return true
  }

  /** Every live id, with the collection index's full state (for catch-up). */
  async indexSnapshot (): Promise<Uint8Array> {
    return (await this.#ready).snapshot()
  }

  /** Whether record `id` was deleted here: its tombstone wins over anything that arrives later. */
  async isDeleted (id: string): Promise<boolean> {
    return (await this.#ready).isDeleted(id)
  }

  /** Ids of every live record. */
  async liveIds (): Promise<string[]> {
    return [...(await this.#ready).liveIds()]
  }

  /** The digest of every live record with data here (for catch-up): loaded once, then kept up to date by every commit. */
  async digests (): Promise<ReadonlyMap<string, Digest>> {
    const index = await this.#ready
    const all = await this.#digests.all()
    const live = new Map<string, Digest>()
    for (const [id, digest] of all) if (index.isLive(id)) live.set(id, digest)
    return live
  }

  /** The digest of the collection index. */
  async indexDigest (): Promise<Digest> {
    return docDigest((await this.#ready).doc)
  }

  /** What this replica has of the collection index beyond the state vector `sv`. */
  async indexDiff (sv: Uint8Array): Promise<Uint8Array> {
    return Y.encodeStateAsUpdate((await this.#ready).doc, sv)
  }

  /** What this replica has of record `id` beyond state vector `sv` (all without `sv`); `undefined` if no live record. */
  async recordDiff (id: string, sv?: Uint8Array): Promise<Uint8Array | undefined> {
    const index = await this.#ready
    return this.#lock.run(id, async () => {
      if (!index.isLive(id)) return undefined
      return Y.encodeStateAsUpdate((await this.#entry(id)).doc, sv)
    })
  }

  /**
   * The stored updates (snapshot and log) of live records among `ids`,
   * read straight from storage without building documents: one scan,
   * yielding record by record.
   */
  async * storedUpdates (ids: ReadonlySet<string>): AsyncGenerator<[string, Uint8Array[]]> {
    const index = await this.#ready
    // Live updates waiting to be stored are stored first, so that the scan reads them.
    if (this.#unstored.size > 0) {
      this.#storeUnstored()
      await this.#ctx.queue.drain()
    }
    yield * storedDocs(this.#ctx.storage, this.keys.docs, (id) => ids.has(id) && index.isLive(id))
  }

  /** Waits for running writes and background work, then drops every cached document. */
  async close (): Promise<void> {
    await this.#ready.catch(() => {})
    do {
      await this.#lock.idle()
      this.#storeUnstored() // (live updates from peers that wait)
      await Promise.allSettled([...this.#background])
    } while (this.#unstored.size > 0)
    this.#unstored.cancel()
    await this.#lock.idle()
    this.#docs.clear()
    this.#index?.doc.destroy()
  }

  /** Writes the pending updates of a record and its new row; then tells everyone. `valid`: a write the schema passed (and its row, if encoded). */
  async #commit (entry: Entry, origin: Origin, type: 'insert' | 'update', valid?: { rowBytes?: Uint8Array | undefined }, meter?: ApplyMeter): Promise<void> {
    const index = this.#index as CollectionIndex
    const updates = entry.pending
    entry.pending = []
    const indexUpdates = index.takePending()
    // Peers get a local write before anything else is done with it: if one listens, the send runs to the socket first.
    if (origin === 'local' && this.#publish(updates, indexUpdates, entry.id)) await nextTask()
    meter?.start()
    entry.fields = readFields(entry.doc)
    // A peer's change is shown before it is stored; a local write is handed to storage first, and shown while storage writes it.
    if (origin === 'remote') {
      const shown = this.#show(entry, index, type, origin, false)
      meter?.stop()
      if (shown !== undefined) await shown
      // A live update (metered) is stored later, with what else arrives meanwhile: gossipsub forwards it to the next peers first.
      if (meter !== undefined && indexUpdates.length === 0) return this.#unstored.add(entry, updates)
      meter?.start()
    }
    // A peer's live updates of the record not yet stored go along.
    const earlier = this.#unstored.take(entry)
    const { ops, logKeys, digest } = commitOps(this.keys, entry, earlier.length === 0 ? updates : [...earlier, ...updates], () => this.#ctx.seq.next(), valid?.rowBytes)
    const indexWrites = this.#indexOps(index, ops, [], indexUpdates)
    // Resolved once durable; if storing fails, the stored row is announced again.
    const persisted = this.#persist(ops, entry.id)
    persisted.catch(() => {}) // awaited below
    entry.updateKeys.push(...logKeys)
    index.updateKeys.push(...indexWrites.keys)
    this.#digests.set(entry.id, digest)
    meter?.stop()
    if (origin !== 'remote') await this.#show(entry, index, type, origin, valid !== undefined)
    await persisted.catch(async (error: unknown) => { await this.#reannounce(entry.id, origin); throw error })
    this.#stored(entry, earlier, 'remote')
    this.#stored(entry, updates, origin)
    for (const update of indexWrites.updates) this.#ctx.onUpdate({ collection: this.name, target: 'index', update, origin })
    if (index.needsCompaction(this.#ctx.compactEvery)) this.#schedule(this.#compactIndex())
  }

  /** Stores the live updates from peers that wait (records in use wait for their user's commit, or the next call); should that fail, their documents go: reads show what storage holds, catch-up brings the rest again. */
  #storeUnstored (): void {
    const ops: BatchOperation[] = []
    const batch = this.#unstored.takeDue((id) => this.#lock.isHeld(id))
    for (const { entry, updates } of batch) {
      const written = commitOps(this.keys, entry, updates, () => this.#ctx.seq.next())
      ops.push(...written.ops)
      entry.updateKeys.push(...written.logKeys)
      this.#digests.set(entry.id, written.digest)
    }
    if (batch.length === 0) return
    const stored = this.#ctx.queue.write(ops).finally(() => { this.#unstored.done(batch.map((b) => b.entry)) })
    this.#schedule(stored.then(() => {
      for (const { entry, updates } of batch) this.#stored(entry, updates, 'remote')
    }, async (error: unknown) => {
      for (const { entry } of batch) this.#docs.evict(entry.id, true)
      for (const { entry } of batch) await this.#reannounce(entry.id, 'remote')
      throw error
    }))
  }

  /** Reports a record's stored updates; compacts its log if it grew long. */
  #stored (entry: Entry, updates: readonly Uint8Array[], origin: Origin): void {
    for (const update of updates) this.#ctx.onUpdate({ collection: this.name, target: 'record', id: entry.id, update, origin })
    if (updates.length > 0 && entry.updateKeys.length >= this.#ctx.compactEvery) this.#schedule(this.#lock.run(entry.id, () => this.#compactRecord(entry.id)))
  }

  /** Announces a committed record, checked against the schema (a `valid` local write passes as it is). */
  #show (entry: Entry, index: CollectionIndex, type: ChangeEvent['type'], origin: Origin, valid: boolean): Promise<void> | undefined {
    entry.row = makeRow(entry.id, entry.fields)
    if (!index.isLive(entry.id)) return
    const checked = valid ? this.#checks.trust(entry.row) : this.#checks.of(entry.row)
    if (checked instanceof Promise) return checked.then((verdict) => { this.#announce(entry.id, verdict, type, origin) })
    this.#announce(entry.id, checked, type, origin)
  }

  /** Hands local updates to the network before they are stored (if storing fails, catch-up brings them back from peers); returns whether a peer listens. */
  #publish (records: readonly Uint8Array[], indexUpdates: readonly Uint8Array[], id?: string): boolean {
    const publish = this.#ctx.onPublish
    let heard = false
    for (const update of records) heard = publish?.({ collection: this.name, target: 'record', ...(id !== undefined ? { id } : {}), update, origin: 'local' }) === true || heard
    for (const update of indexUpdates) heard = publish?.({ collection: this.name, target: 'index', update, origin: 'local' }) === true || heard
    return heard
  }

  /** Adds the index's pending updates to `ops`. */
  #indexOps (index: CollectionIndex, ops: BatchOperation[], waiting: Uint8Array[] = [], updates = index.takePending()): { keys: string[], updates: Uint8Array[] } {
    const keys = [...updates, ...waiting].map((value) => {
      const key = this.keys.indexUpdates + this.#ctx.seq.next()
      ops.push({ type: 'put', key, value })
      return key
    })
    return { keys, updates }
  }

  /** Writes `ops`; if that fails, forgets in-memory state that storage now lacks. */
  async #persist (ops: BatchOperation[], id?: string): Promise<void> {
    try {
      await this.#ctx.queue.write(ops)
    } catch (error) {
      if (id !== undefined) this.#docs.evict(id, true)
      throw error
    }
  }

  /** Storage operations that remove every trace of a record but its tombstone. */
  async #dataDeletion (id: string): Promise<BatchOperation[]> {
    this.#digests.delete(id)
    this.#unstored.drop(id)
    return deletionOps(this.#ctx.storage, this.keys, id)
  }

  /** Updates the view, record watchers and change listeners; reports a remote change that leaves the record failing the schema. */
  #announce (id: string, checked: CheckedRow | undefined, type: ChangeEvent['type'], origin: Origin): void {
    this.#rows.set(id, checked)
    if (checked?.issues !== undefined && origin === 'remote') this.#checks.rejected(id, checked.issues)
    const row = checked?.issues === undefined ? checked?.row : undefined
    this.#watchers.notify(id, row)
    this.#ctx.onChange({ collection: this.name, id, type, origin })
  }

  /** After a failed write: announces the record as storage still holds it (its in-memory document was dropped). */
  async #reannounce (id: string, origin: Origin): Promise<void> {
    this.#digests.delete(id)
    const row = await this.#read.row(id).catch(() => undefined) // (a read failing too: the write's error is what counts)
    this.#announce(id, row === undefined ? undefined : await this.#checks.of(row), 'update', origin)
  }

  async * #storedRows (skip: (id: string) => boolean): AsyncGenerator<CheckedRow> {
    const index = await this.#ready
    yield * this.#read.all((id) => !skip(id) && index.isLive(id))
  }

  /** The cached entry of a record, loaded from storage (or new) if needed. Call under the record's lock. */
  async #entry (id: string, fresh = false): Promise<Entry> {
    const cached = this.#docs.use(id)
    if (cached !== undefined) return cached
    const entry = await loadEntry(this.#ctx.storage, this.keys, id, fresh || this.#digests.holdsNothing(id))
    entry.onUpdate = (update: Uint8Array, origin: unknown) => {
      entry.pending.push(update)
      // An edit made by user code through `doc(id)`: commit it as a local write.
      if (!isOwnOrigin(origin)) this.#schedule(this.#lock.run(id, () => this.#commitExternal(entry)))
    }
    entry.doc.on('update', entry.onUpdate)
    this.#docs.add(entry)
    if (entry.updateKeys.length >= this.#ctx.compactEvery) this.#schedule(this.#lock.run(id, () => this.#compactRecord(id)))
    return entry
  }

  async #commitExternal (entry: Entry): Promise<void> {
    if (entry.pending.length === 0 || this.#docs.peek(entry.id) !== entry) return
    if ((this.#index as CollectionIndex).isLive(entry.id)) await this.#commit(entry, 'local', 'update')
    else entry.pending = []
  }

  async #compactRecord (id: string): Promise<void> {
    if ((this.#index as CollectionIndex).isLive(id)) await compactRecordLog(this.#ctx.queue, this.keys, await this.#entry(id), this.#ctx.compactEvery)
  }

  #compactIndex (): Promise<void> {
    return this.#lock.run(INDEX_LOCK, async () => (this.#index as CollectionIndex).compact(this.#ctx.queue, this.keys, this.#ctx.compactEvery))
  }

  /** Runs background work, reporting its failure as an `error` event. */
  #schedule (work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => { this.#ctx.onError(error instanceof Error ? error : new Error(String(error))) })
    this.#background.add(tracked)
    void tracked.finally(() => this.#background.delete(tracked))
  }
}
