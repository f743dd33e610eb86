import * as Y from 'yjs'
import type { CollectionKeys } from '../storage/layout.ts'
import { changedBy, foldStored } from './entry.ts'
import { loadDoc } from './load-doc.ts'
import { LOCAL_WRITE, REMOTE_WRITE } from './origins.ts'
import type { BatchOperation, SharedStorage, StorageAdapter } from '../storage/storage.ts'
import type { WriteQueue } from '../storage/write-queue.ts'

/** The index's map of live record ids (a root `Y.Map` of the index document). */
export const LIVE_MAP = 'live'
/** The index's grow-only map of deleted record ids (its tombstones). */
export const DELETED_MAP = 'deleted'
/** The index is compacted once its log holds this fraction of its entries (see `needsCompaction`). */
const LOG_FRACTION = 8

/** A record that became live or stopped being live through a remote index update. */
export interface Transition {
  readonly id: string
  readonly live: boolean
}

/**
 * The index of a collection: which record ids exist and which were
 * deleted. A CRDT itself (a `Y.Doc` with a `live` and a `deleted` map), so
 * replicas merge their indexes; a tombstone in `deleted` wins over any
 * concurrent insert or edit of the same id.
 */
export class CollectionIndex {
  readonly doc: Y.Doc
  readonly #live: Y.Map<true>
  readonly #deleted: Y.Map<true>
  /** Keys of the committed update-log entries since the snapshot. */
  updateKeys: string[]
  /** Updates made in memory and not yet handed to storage. */
  #pending: Uint8Array[] = []
  readonly #onUpdate = (update: Uint8Array): void => { this.#pending.push(update) }
  /** Live records, counted once at load and kept up to date (`Y.Map.size` walks every entry). */
  #liveCount: number

  private constructor (doc: Y.Doc, updateKeys: string[]) {
    this.doc = doc
    this.#live = doc.getMap(LIVE_MAP)
    this.#deleted = doc.getMap(DELETED_MAP)
    this.updateKeys = updateKeys
    doc.on('update', this.#onUpdate)
    let n = 0
    for (const id of this.#live.keys()) if (!this.#deleted.has(id)) n++
    this.#liveCount = n
  }

  /** Reads the index of a collection from storage (empty if there is none); `shared`: see `loadDoc`. */
  static async load (storage: StorageAdapter, keys: CollectionKeys, shared?: SharedStorage): Promise<CollectionIndex> {
    const loaded = await loadDoc(storage, keys.index, false, undefined, shared)
    return new CollectionIndex(loaded.doc, loaded.updateKeys)
  }

  /** Number of keys ever set (live and deleted): what compaction's cost grows with. O(1). */
  get entries (): number {
    return this.#live._map.size + this.#deleted._map.size
  }

  /**
   * Whether to compact: once the log holds an eighth as many updates as the
   * index has entries (and at least `every`). A snapshot costs as much as
   * the index's size, so compaction stays amortized O(1) per write (eight
   * snapshot entries per write); but each log entry costs a load far more
   * than an entry of the snapshot (a stored value of its own, a Yjs update
   * applied on its own: with the log as long as the index, loading 10,000
   * ids took ~250 ms in Chromium, most of a cold open), so the log is kept
   * short beside the snapshot.
   */
  needsCompaction (every: number): boolean {
    return this.updateKeys.length >= Math.max(every, this.entries / LOG_FRACTION)
  }

  /** Number of live records. O(1). */
  get size (): number {
    return this.#liveCount
  }

  isLive (id: string): boolean {
    return this.#live.has(id) && !this.#deleted.has(id)
  }

  isDeleted (id: string): boolean {
    return this.#deleted.has(id)
  }

  /** Ids of every live record. */
  * liveIds (): IterableIterator<string> {
    for (const id of this.#live.keys()) {
      if (!this.#deleted.has(id)) yield id
    }
  }

  /** Records `id` as live (a local insert). */
  markLive (id: string): void {
    const was = this.isLive(id)
    this.doc.transact(() => { this.#live.set(id, true) }, LOCAL_WRITE)
    if (!was && this.isLive(id)) this.#liveCount++
  }

  /** Records `id` as deleted, for good (a local delete). */
  markDeleted (id: string): void {
    if (this.isLive(id)) this.#liveCount--
    this.doc.transact(() => {
      this.#deleted.set(id, true)
      this.#live.delete(id)
    }, LOCAL_WRITE)
  }

  /** Hands over the updates made since the last call, for storage and peers. */
  takePending (): Uint8Array[] {
    const out = this.#pending
    this.#pending = []
    return out
  }

  /**
   * Applies a remote index update and returns the ids whose liveness
   * changed. The peer's bytes, if they changed anything, are what is
   * stored (Yjs does not encode the transaction again). Throws what Yjs
   * throws on malformed input.
   */
  applyRemote (update: Uint8Array): { transitions: Transition[], changed: boolean } {
    // An empty index (a replica catching up for the first time): every live id after is a transition, no need to watch.
    const empty = this.entries === 0
    const liveBefore = new Map<string, boolean>()
    const deletedBefore = new Map<string, boolean>()
    const watch = (before: Map<string, boolean>) => (event: Y.YMapEvent<true>): void => {
      for (const [key, change] of event.changes.keys) {
        if (!before.has(key)) before.set(key, change.action !== 'add')
      }
    }
    const onLive = watch(liveBefore)
    const onDeleted = watch(deletedBefore)
    let changed = false
    const onTransaction = (transaction: Y.Transaction): void => { changed ||= changedBy(transaction) }
    if (!empty) {
      this.#live.observe(onLive)
      this.#deleted.observe(onDeleted)
    }
    this.doc.off('update', this.#onUpdate)
    this.doc.on('afterTransaction', onTransaction)
    try {
      Y.applyUpdate(this.doc, update, REMOTE_WRITE)
    } finally {
      this.doc.off('afterTransaction', onTransaction)
      this.doc.on('update', this.#onUpdate)
      if (!empty) {
        this.#live.unobserve(onLive)
        this.#deleted.unobserve(onDeleted)
      }
    }
    if (changed) this.#pending.push(update)
    const transitions: Transition[] = []
    if (empty) {
      for (const id of this.liveIds()) transitions.push({ id, live: true })
      this.#liveCount = transitions.length
      return { transitions, changed }
    }
    for (const id of new Set([...liveBefore.keys(), ...deletedBefore.keys()])) {
      const was = (liveBefore.get(id) ?? this.#live.has(id)) && !(deletedBefore.get(id) ?? this.#deleted.has(id))
      const now = this.isLive(id)
      if (was !== now) {
        transitions.push({ id, live: now })
        this.#liveCount += now ? 1 : -1
      }
    }
    return { transitions, changed }
  }

  /** The whole index as one Yjs update (for compaction and for catch-up). */
  snapshot (): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc)
  }

  /**
   * Folds the stored update log into the stored snapshot, if {@link needsCompaction}.
   * With `shared` (storage other databases write at once, this call running
   * as their exclusive work), all that storage holds of the index is folded
   * in, and every log entry read deleted (see `compactRecordLog`).
   */
  async compact (queue: WriteQueue, keys: CollectionKeys, every: number, shared?: StorageAdapter): Promise<void> {
    if (!this.needsCompaction(every)) return
    if (shared !== undefined) {
      await queue.write(await foldStored(shared, keys.index, this.doc))
      this.updateKeys = []
      return
    }
    const logKeys = this.updateKeys.slice()
    const ops: BatchOperation[] = [{ type: 'put', key: keys.indexSnapshot, value: this.snapshot() }]
    for (const key of logKeys) ops.push({ type: 'del', key })
    await queue.write(ops)
    this.updateKeys = this.updateKeys.slice(logKeys.length)
  }
}
