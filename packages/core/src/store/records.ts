/**
 * A collection's records in memory and the one path by which every change
 * reaches storage: documents loaded lazily under per-record locks (a
 * bounded number cached), the collection index, the row view and record
 * watchers that show changes, and the commit — local writes handed to
 * replication first, then stored and shown; a peer's changes shown first,
 * live ones stored a moment later in one batch with whatever else arrived
 * (write-behind) — and the compaction of update logs. The collection store
 * (local writes and reads), remote applies and the catch-up view all work
 * on it.
 * @module
 */
import { CollectionKeys } from '../storage/layout.ts'
import type { ChangeEvent, Origin, StoreContext } from './types.ts'
import { CollectionIndex } from './collection-index.ts'
import { DigestCache } from './digest-cache.ts'
import { DocCache } from './doc-cache.ts'
import { KeyedLock } from '../util/lock.ts'
import { isOwnOrigin } from './origins.ts'
import type { Row } from '../query/query.ts'
import { makeRow } from '../query/row.ts'
import { UnstoredRecords } from './unstored-records.ts'
import { StoredRows } from './stored-rows.ts'
import { LazyRowView } from '../query/lazy-view.ts'
import { nextTask } from '../util/next-task.ts'
import { RowChecks, type CheckedRow } from '../query/row-check.ts'
import type { ApplyMeter } from './apply-meter.ts'
import type { BatchOperation } from '../storage/storage.ts'
import { readFields } from '../model/yjs-mapping.ts'
import { commitOps, compactRecordLog, deletionOps, loadEntry, type CommitOps, type Entry } from './entry.ts'
import { KeyedWatchers } from './watchers.ts'

/** The lock key of the collection index (record ids never begin with `/`). */
export const INDEX_LOCK = '/index'

/** A collection's records in memory, and the commit path: shared by the files of `store/`, not exported from the package. */
export class CollectionRecords {
  readonly name: string
  readonly keys: CollectionKeys
  readonly ctx: StoreContext
  /** Resolves with the collection index once loaded. */
  readonly ready: Promise<CollectionIndex>
  /** The collection index, once loaded. */
  index: CollectionIndex | undefined
  /** Per-record locks (and {@link INDEX_LOCK}). */
  readonly lock = new KeyedLock()
  readonly docs: DocCache
  /** The rows of live records, loaded on the first query. */
  readonly rows: LazyRowView
  readonly checks = new RowChecks()
  readonly watchers = new KeyedWatchers<Row | undefined>()
  /** Background work (compaction, write-behind): close waits for it. */
  readonly background = new Set<Promise<unknown>>()
  /** Digests of every record with data here, loaded on the first catch-up. */
  readonly digests: DigestCache
  /** Rows of records a catch-up brought, shown but not yet stored (and not cached): reads take them from here. */
  readonly shown = new Map<string, Row>()
  /** A peer's live updates shown but not yet stored (write-behind). */
  readonly unstored = new UnstoredRecords(() => { this.storeUnstored() })
  readonly read: StoredRows

  constructor (name: string, ctx: StoreContext) {
    this.name = name
    this.keys = new CollectionKeys(name)
    this.ctx = ctx
    this.docs = new DocCache(ctx.cacheSize, (id) => this.lock.isHeld(id))
    this.digests = new DigestCache(ctx.storage, this.keys.digests)
    if (ctx.fresh === true) this.digests.startEmpty()
    this.read = new StoredRows(ctx.storage, this.keys, this.docs, this.unstored, this.shown, this.checks)
    this.rows = new LazyRowView((skip) => this.#storedRows(skip))
    this.ready = CollectionIndex.load(ctx.storage, this.keys, ctx.shared).then((index) => {
      this.index = index
      if (index.needsCompaction(this.ctx.compactEvery)) this.schedule(this.compactIndex())
      return index
    })
    this.ready.catch(() => {}) // reported by every call that awaits it
  }

  /** Writes the pending updates of a record and its new row; then tells everyone. `valid`: a write the schema passed (and its row, if encoded). */
  async commit (entry: Entry, origin: Origin, type: 'insert' | 'update', valid?: { rowBytes?: Uint8Array | undefined }, meter?: ApplyMeter): Promise<void> {
    const index = this.index as CollectionIndex
    const updates = entry.pending
    entry.pending = []
    const indexUpdates = index.takePending()
    // Peers get a local write before anything else is done with it: if one listens, the send runs to the socket first.
    if (origin === 'local' && this.publish(updates, indexUpdates, entry.id)) await nextTask()
    meter?.start()
    entry.fields = readFields(entry.doc)
    // A peer's change is shown before it is stored; a local write is handed to storage first, and shown while storage writes it.
    if (origin === 'remote') {
      const shown = this.show(entry, index, type, origin, false)
      meter?.stop()
      if (shown !== undefined) await shown
      // A live update (metered) is stored later, with what else arrives meanwhile: gossipsub forwards it to the next peers first.
      if (meter !== undefined && indexUpdates.length === 0) return this.unstored.add(entry, updates)
      meter?.start()
    }
    // A peer's live updates of the record not yet stored go along.
    const earlier = this.unstored.take(entry)
    const { ops, logKeys, digest } = this.#commitOps(entry, earlier.length === 0 ? updates : [...earlier, ...updates], valid?.rowBytes)
    const indexWrites = this.indexOps(index, ops, [], indexUpdates)
    // Resolved once durable; if storing fails, the stored row is announced again.
    const persisted = this.persist(ops, entry.id)
    persisted.catch(() => {}) // awaited below
    entry.updateKeys.push(...logKeys)
    index.updateKeys.push(...indexWrites.keys)
    this.digests.set(entry.id, digest)
    meter?.stop()
    if (origin !== 'remote') await this.show(entry, index, type, origin, valid !== undefined)
    await persisted.catch(async (error: unknown) => { await this.reannounce(entry.id, origin); throw error })
    this.stored(entry, earlier, 'remote')
    this.stored(entry, updates, origin)
    for (const update of indexWrites.updates) this.ctx.onUpdate({ collection: this.name, target: 'index', update, origin })
    if (index.needsCompaction(this.ctx.compactEvery)) this.schedule(this.compactIndex())
  }

  /**
   * Shows, then stores, records new to this replica that a peer sent
   * whole (a catch-up's), their updates applied and in `pending`: every
   * row is shown first (then `onShown` is called, and live queries run
   * before the storing work), then all are stored in one storage batch.
   * They are not cached (a later use reads them back from storage). Call
   * holding their locks.
   */
  async commitNew (entries: readonly Entry[], onShown?: () => void): Promise<void> {
    const index = this.index as CollectionIndex
    const showing: Array<Promise<void>> = []
    for (const entry of entries) {
      entry.fields = readFields(entry.doc)
      const shown = this.show(entry, index, 'insert', 'remote', false)
      // (A row view loading before it is stored reads it from here.)
      this.shown.set(entry.id, entry.row)
      if (shown !== undefined) showing.push(shown)
    }
    await Promise.all(showing)
    onShown?.()
    await nextTask()
    const ops: BatchOperation[] = []
    const logs: Uint8Array[][] = []
    for (const entry of entries) {
      const updates = entry.pending
      entry.pending = []
      logs.push(updates)
      const written = this.#commitOps(entry, updates)
      for (const op of written.ops) ops.push(op)
      entry.updateKeys.push(...written.logKeys)
      this.digests.set(entry.id, written.digest)
    }
    try {
      await this.ctx.queue.write(ops)
    } catch (error) {
      for (const entry of entries) this.shown.delete(entry.id)
      for (const entry of entries) await this.reannounce(entry.id, 'remote')
      throw error
    }
    for (const entry of entries) this.shown.delete(entry.id)
    entries.forEach((entry, i) => { this.stored(entry, logs[i] ?? [], 'remote') })
  }

  /** Stores the live updates from peers that wait (records in use wait for their user's commit, or the next call); should that fail, their documents go: reads show what storage holds, catch-up brings the rest again. */
  storeUnstored (): void {
    const ops: BatchOperation[] = []
    const batch = this.unstored.takeDue((id) => this.lock.isHeld(id))
    for (const { entry, updates } of batch) {
      const written = this.#commitOps(entry, updates)
      ops.push(...written.ops)
      entry.updateKeys.push(...written.logKeys)
      this.digests.set(entry.id, written.digest)
    }
    if (batch.length === 0) return
    const stored = this.ctx.queue.write(ops).finally(() => { this.unstored.done(batch.map((b) => b.entry)) })
    this.schedule(stored.then(() => {
      for (const { entry, updates } of batch) this.stored(entry, updates, 'remote')
    }, async (error: unknown) => {
      for (const { entry } of batch) this.docs.evict(entry.id, true)
      for (const { entry } of batch) await this.reannounce(entry.id, 'remote')
      throw error
    }))
  }

  /** Reports a record's stored updates; compacts its log if it grew long. */
  stored (entry: Entry, updates: readonly Uint8Array[], origin: Origin): void {
    for (const update of updates) this.ctx.onUpdate({ collection: this.name, target: 'record', id: entry.id, update, origin })
    if (updates.length > 0 && entry.updateKeys.length >= this.ctx.compactEvery) this.#compactSoon(entry.id)
  }

  /** Announces a committed record, checked against the schema (a `valid` local write passes as it is). */
  show (entry: Entry, index: CollectionIndex, type: ChangeEvent['type'], origin: Origin, valid: boolean): Promise<void> | undefined {
    entry.row = makeRow(entry.id, entry.fields)
    if (!index.isLive(entry.id)) return
    const checked = valid ? this.checks.trust(entry.row) : this.checks.of(entry.row)
    if (checked instanceof Promise) return checked.then((verdict) => { this.announce(entry.id, verdict, type, origin) })
    this.announce(entry.id, checked, type, origin)
  }

  /** Hands local updates to the network before they are stored (if storing fails, catch-up brings them back from peers); returns whether a peer listens. */
  publish (records: readonly Uint8Array[], indexUpdates: readonly Uint8Array[], id?: string): boolean {
    const publish = this.ctx.onPublish
    let heard = false
    for (const update of records) heard = publish?.({ collection: this.name, target: 'record', ...(id !== undefined ? { id } : {}), update, origin: 'local' }) === true || heard
    for (const update of indexUpdates) heard = publish?.({ collection: this.name, target: 'index', update, origin: 'local' }) === true || heard
    return heard
  }

  /** Adds the index's pending updates to `ops`. */
  indexOps (index: CollectionIndex, ops: BatchOperation[], waiting: Uint8Array[] = [], updates = index.takePending()): { keys: string[], updates: Uint8Array[] } {
    const keys = [...updates, ...waiting].map((value) => {
      const key = this.keys.indexUpdates + this.ctx.seq.next()
      ops.push({ type: 'put', key, value })
      return key
    })
    return { keys, updates }
  }

  /** Writes `ops`; if that fails, forgets in-memory state that storage now lacks. */
  async persist (ops: BatchOperation[], id?: string): Promise<void> {
    try {
      await this.ctx.queue.write(ops)
    } catch (error) {
      if (id !== undefined) this.docs.evict(id, true)
      throw error
    }
  }

  /** Storage operations that remove every trace of a record but its tombstone. */
  async dataDeletion (id: string): Promise<BatchOperation[]> {
    this.digests.delete(id)
    this.unstored.drop(id)
    return deletionOps(this.ctx.storage, this.keys, id)
  }

  /** Updates the view, record watchers and change listeners; reports a remote change that leaves the record failing the schema. */
  announce (id: string, checked: CheckedRow | undefined, type: ChangeEvent['type'], origin: Origin): void {
    this.rows.set(id, checked)
    if (checked?.issues !== undefined && origin === 'remote') this.checks.rejected(id, checked.issues)
    const row = checked?.issues === undefined ? checked?.row : undefined
    this.watchers.notify(id, row)
    this.ctx.onChange({ collection: this.name, id, type, origin })
  }

  /** After a failed write: announces the record as storage still holds it (its in-memory document was dropped). */
  async reannounce (id: string, origin: Origin): Promise<void> {
    this.digests.unknown(id)
    const row = await this.read.row(id).catch(() => undefined) // (a read failing too: the write's error is what counts)
    this.announce(id, row === undefined ? undefined : await this.checks.of(row), 'update', origin)
  }

  /** The cached entry of a record, loaded from storage (or new) if needed. Call under the record's lock. */
  async entry (id: string, fresh = false): Promise<Entry> {
    const cached = this.docs.use(id)
    if (cached !== undefined) return cached
    const entry = await loadEntry(this.ctx.storage, this.keys, id, fresh || this.digests.holdsNothing(id), this.ctx.shared)
    entry.onUpdate = (update: Uint8Array, origin: unknown) => {
      entry.pending.push(update)
      // An edit made by user code through `doc(id)`: commit it as a local write.
      if (!isOwnOrigin(origin)) this.schedule(this.lock.run(id, () => this.commitExternal(entry)))
    }
    entry.doc.on('update', entry.onUpdate)
    this.docs.add(entry)
    if (entry.updateKeys.length >= this.ctx.compactEvery) this.#compactSoon(id)
    return entry
  }

  async commitExternal (entry: Entry): Promise<void> {
    if (entry.pending.length === 0 || this.docs.peek(entry.id) !== entry) return
    if ((this.index as CollectionIndex).isLive(entry.id)) await this.commit(entry, 'local', 'update')
    else entry.pending = []
  }

  /** Compacts a record's log. Call holding its lock (and, on shared storage, as exclusive work: see {@link #compactSoon}). */
  async compactRecord (id: string): Promise<void> {
    if ((this.index as CollectionIndex).isLive(id)) await compactRecordLog(this.ctx.queue, this.keys, await this.entry(id), this.ctx.compactEvery, this.ctx.shared === undefined ? undefined : this.ctx.storage)
  }

  compactIndex (): Promise<void> {
    return this.#exclusive(async () => this.lock.run(INDEX_LOCK, async () =>
      (this.index as CollectionIndex).compact(this.ctx.queue, this.keys, this.ctx.compactEvery, this.ctx.shared === undefined ? undefined : this.ctx.storage)))
  }

  /** Compacts a record's log in the background. */
  #compactSoon (id: string): void {
    this.schedule(this.#exclusive(async () => this.lock.run(id, async () => this.compactRecord(id))))
  }

  /** Runs `work` as exclusive work of a shared storage (compactions never overlap across its databases), or at once. */
  async #exclusive<T> (work: () => Promise<T>): Promise<T> {
    return this.ctx.shared === undefined ? work() : this.ctx.shared.exclusive(work)
  }

  /** What storing a commit of a record writes (on shared storage, its digest lists no log). */
  #commitOps (entry: Entry, updates: readonly Uint8Array[], rowBytes?: Uint8Array): CommitOps {
    return commitOps(this.keys, entry, updates, () => this.ctx.seq.next(), rowBytes, this.ctx.shared !== undefined)
  }

  /** Runs background work, reporting its failure as an `error` event. */
  schedule (work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => { this.ctx.onError(error instanceof Error ? error : new Error(String(error))) })
    this.background.add(tracked)
    void tracked.finally(() => this.background.delete(tracked))
  }

  async * #storedRows (skip: (id: string) => boolean): AsyncGenerator<CheckedRow> {
    const index = await this.ready
    yield * this.read.all((id) => !skip(id) && index.isLive(id))
  }
}
