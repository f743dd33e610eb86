import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht'
import { DurabilityError, KadmiumError } from '../errors.ts'
import { ACCESS_COLLECTION, opId } from '../access/access-list.ts'
import type { ReplicaSecurity } from '../access/replica-security.ts'
import type { RejectedEvent, Replica } from '../replica/replica.ts'
import { systemClock, type Clock, type ClockTimer } from '../util/clock.ts'
import { accessOps, accessState, ACCESS_RECORD } from './access-state.ts'
import { DhtStore, type DhtStoreOptions } from './dht-store.ts'
import { isTombstone, TOMBSTONE, type RecordContent } from './head.ts'
import { deletedIds, IndexMarks, isDeletedIn, liveIdsIn } from './index-marks.ts'
import { mapLimit } from './map-limit.ts'

const EMPTY_STATE_VECTOR = new Uint8Array([0])
/** How long a written record's DHT put waits in the queue before it may run (ms): a burst of writes coalesces, and live gossip has the CPU first. */
const PUT_DELAY = 100
/** A Yjs update that changes nothing. */
const EMPTY_UPDATE = new Uint8Array([0, 0])
/** The note of how far republishing went (see `Replica.note`). */
const REPUBLISHED = 'republished'
/** How often that note is written (ms; a 24th of the interval at most). */
const NOTE_EVERY = 60 * 60_000
/** Records a collection's fetch reads from the DHT at once. */
const FETCH_CONCURRENCY = 8

/** Options of a write's DHT durability. */
export interface ReplicasOptions {
  /** DHT peers that must hold the write. */
  readonly replicas: number
  /** How long to wait for them (ms). @default 15000 */
  readonly timeout?: number
}

/**
 * A database's records in the DHT: every local write is put in the
 * background (coalesced, retried, republished before kad-dht's 48-hour
 * expiry) — the record's head (its state, or a tombstone once deleted)
 * and the collection index's; a write can wait for N replicas of the
 * record's head (it resolves at the N-th acknowledgement; the put goes on
 * to the other closest peers); a read that misses locally can fetch the
 * record's head from the DHT (it answers with the first replicas' state
 * or tombstone; what later replicas add is applied as it comes); the
 * manifest is stored so that peers can open the database by its address.
 */
export class DurableRecords {
  readonly store: DhtStore
  readonly #source: Replica
  readonly #online: () => boolean
  /** Whether the DHT's routing table holds a peer (a put can reach someone). */
  readonly #reachable: () => boolean
  /** Records deleted here: their heads are tombstones. */
  readonly #tombstones = new Set<string>()
  /** Marks records read from the DHT live (or deleted) in the local index. */
  readonly #marks: IndexMarks
  /** Whether a DHT peer acknowledged the manifest, and the put of it under way. */
  #announced = false
  #announcing: Promise<void> | undefined
  readonly #security: ReplicaSecurity
  readonly #onRejected: (event: RejectedEvent) => void
  readonly #clock: Clock
  /** The republishing timers, by what they do (see {@link startRepublishing}). */
  readonly #timers = new Map<string, ClockTimer>()
  #stopped = false
  /** Whether every record held was taken in for republishing (so stopping may note how far it went). */
  #tracking = false
  /** The read of the access list from the DHT (a restricted database's, once per open). */
  #accessRead: Promise<boolean> | undefined
  /** Applies of states that DHT reads found after they had answered (`stop` awaits them). */
  readonly #applying = new Set<Promise<void>>()

  constructor (
    dht: KadDHT, source: Replica, security: ReplicaSecurity, online: () => boolean, onRejected: (event: RejectedEvent) => void, options: DhtStoreOptions = {}
  ) {
    this.#source = source
    this.#security = security
    this.#onRejected = onRejected
    this.#clock = options.clock ?? systemClock
    this.#online = online
    this.#reachable = () => ((dht as Partial<SingleKadDHT>).routingTable?.size ?? 1) > 0
    this.#marks = new IndexMarks(async (collection, update) => await source.apply({ collection, target: 'index', update }))
    this.store = new DhtStore(dht, source.address, options, security)
    this.store.on('rejected', (e) => { onRejected({ reason: e.reason, via: 'dht' }) })
    // What replicas answering after a read resolved add: applied like the read's own state (a tombstone deletes).
    this.store.on('late', (e) => {
      if (e.id === null && e.deleted) return // (an index is never deleted)
      const applying = (e.collection === ACCESS_COLLECTION
        ? e.deleted ? Promise.resolve() : this.#applyAccess(e.state)
        : e.id === null
        ? source.apply({ collection: e.collection, target: 'index', update: e.state })
        : e.deleted
          ? this.#marks.mark(e.collection, e.id, false)
          : source.apply({ collection: e.collection, target: 'record', id: e.id, update: e.state })
      ).then(() => {}, (error: unknown) => {
        // A database closing refuses it: nothing to report then.
        if ((error as Error).name !== 'DatabaseClosedError') onRejected({ reason: `${(error as Error).name}: ${(error as Error).message}`, via: 'dht' })
      }).finally(() => { this.#applying.delete(applying) })
      this.#applying.add(applying)
    })
  }

  /**
   * Starts republishing what this replica holds, a moment after the open
   * (a tenth of the republish interval, 10 s at most: the open and its
   * catch-up go first): every record, each collection's index and the
   * access list, each at its slot of every interval (see
   * `DhtStore.track`), and the manifest every interval. So a restarted
   * peer, and a peer that received records (a pinning server), put them
   * again before kad-dht drops them (48 h). How far republishing went is
   * noted in storage every hour (and at stop): records whose slot passed
   * while the peer was down are put within minutes of the next open.
   */
  startRepublishing (): void {
    const interval = this.store.republishInterval
    this.#after('hold', Math.min(10_000, interval / 10), () => { void this.#republishHeld() })
    const announce = (): void => {
      this.#announced = false
      this.announce()
      this.#after('announce', interval, announce)
    }
    this.#after('announce', interval, announce)
  }

  /** Runs `fn` once `ms` passed on the clock (replacing the timer named `name`). */
  #after (name: string, ms: number, fn: () => void): void {
    if (this.#stopped) return
    this.#clock.clearTimeout(this.#timers.get(name))
    this.#timers.set(name, this.#clock.setTimeout(fn, ms))
  }

  async #republishHeld (): Promise<void> {
    try {
      const since = await this.#source.noted(REPUBLISHED)
      const records: Array<{ collection: string, id: string | null }> = []
      for (const collection of await this.#source.collections()) {
        if (collection === ACCESS_COLLECTION) {
          records.push({ collection, id: ACCESS_RECORD })
          continue
        }
        if (!this.#source.durable(collection)) continue
        records.push({ collection, id: null })
        // The index lists them (its document is in memory): the records' digests stay unloaded until a catch-up needs them.
        for (const id of liveIdsIn(await this.#source.indexDiff(collection, EMPTY_STATE_VECTOR))) records.push({ collection, id })
      }
      this.store.track(records, since, (collection, id) => async () => await this.#state(collection, id))
      this.#tracking = !this.#stopped
      await this.#noteRepublished()
    } catch {
      // A database closing meanwhile: nothing to republish.
    }
  }

  /** Notes now as the time through which this replica republished, and again in an hour (a 24th of the interval at most). */
  async #noteRepublished (): Promise<void> {
    if (this.#stopped) return
    await this.#source.note(REPUBLISHED, this.#clock.now())
    this.#after('note', Math.min(NOTE_EVERY, this.store.republishInterval / 24), () => { this.#noteRepublished().catch(() => {}) })
  }

  /** Puts not yet done in the DHT. */
  get pending (): number {
    return this.store.pending
  }

  /** Stores the manifest block (in the background). */
  announce (): void {
    if (this.#announcing !== undefined) return
    this.#announcing = this.store.putUpdate(this.#source.manifest)
      .then(({ acknowledged }) => { this.#announced ||= acknowledged > 0 }, () => {})
      .finally(() => { this.#announcing = undefined })
  }

  /**
   * Puts a record (or, with `id` null, the collection index) in the
   * background; offline, once online again. `update`: the local index
   * update that caused it — the records it deletes are put too (their
   * heads become tombstones).
   */
  schedule (collection: string, id: string | null, update?: Uint8Array): void {
    // An access operation: the access list's one record holds them all.
    if (collection === ACCESS_COLLECTION && id !== ACCESS_RECORD) {
      this.schedule(collection, ACCESS_RECORD)
      return
    }
    if (id === null && update !== undefined) {
      for (const deleted of deletedIds(update)) {
        this.#tombstones.add(refKey(collection, deleted))
        this.schedule(collection, deleted)
      }
    }
    const load = async (): Promise<RecordContent> => await this.#state(collection, id)
    // Offline: parked in the queue until a peer connects.
    if (!this.#online()) this.store.park(collection, id, load)
    else this.store.schedule(collection, id, load, PUT_DELAY)
  }

  /** Schedules the records parked while offline (call when a peer connects). */
  resume (): void {
    if (!this.#online()) return
    // A database opened offline put its manifest nowhere but here: put it where peers can find it.
    if (!this.#announced) this.announce()
    this.store.resume(PUT_DELAY)
  }

  /**
   * Puts the record's head — its state, or for a record deleted here a
   * tombstone — and resolves once `replicas` DHT peers acknowledged it:
   * the put goes on to the other closest peers in the background (counted
   * in `pending`; `stop` gives it its timeout, then ends it). The
   * collection index is not awaited: the write scheduled its background
   * put (held back in the queue until this put resolved, the queue's `maxHold` at most).
   * @throws {DurabilityError} fewer peers acknowledged in time
   */
  async ensure (collection: string, id: string, options: ReplicasOptions): Promise<void> {
    const put = { replicas: options.replicas, timeout: options.timeout ?? 15_000 }
    // Background puts wait for it (the queue's `maxHold` at most), so as not to compete for the CPU.
    const release = this.store.hold()
    try {
      // The state is loaded when the put's turn comes (so that it is never older than a background put's of the same record).
      await this.store.putRecord(collection, id, async () => await this.#state(collection, id), put)
    } catch (error) {
      // The node stopping under the put (a crash, a close) is a put that did not reach its peers.
      if (error instanceof KadmiumError) throw error
      throw new DurabilityError(0, put.replicas, { cause: error })
    } finally {
      release()
    }
  }

  /**
   * Fetches a record's head from the DHT and applies it: a state is
   * applied and the record marked live in the local index, a tombstone
   * marks it deleted there (so it never comes back). Resolves whether a
   * live record was found: the read resolves with the first replicas'
   * heads, and the lookup goes on — heads that replicas answering later
   * add are applied as they come (`late` events; a tombstone deletes).
   */
  async fetch (collection: string, id: string, timeout: number): Promise<boolean> {
    await this.readAccess(timeout)
    const found = await this.store.getRecordContent(collection, id, { timeout }).catch(() => undefined)
    if (found === undefined) return false
    if (isTombstone(found)) {
      await this.#marks.mark(collection, id, false)
      return false
    }
    // The record first, then the index entry that makes it live (as catch-up does).
    await this.#source.apply({ collection, target: 'record', id, update: found })
    await this.#marks.mark(collection, id, true)
    return true
  }

  /**
   * Fetches a collection from the DHT: its index, then every record it
   * lists live that this replica lacks (a few at a time). Resolves with
   * the number of records found.
   */
  async fetchCollection (collection: string, timeout: number): Promise<number> {
    await this.readAccess(timeout, true)
    const index = await this.store.getRecordContent(collection, null, { timeout }).catch(() => undefined)
    if (index !== undefined && !isTombstone(index)) await this.#source.apply({ collection, target: 'index', update: index })
    const held = await this.#source.digests(collection)
    const missing = liveIdsIn(await this.#source.indexDiff(collection, EMPTY_STATE_VECTOR)).filter((id) => !held.has(id))
    const found = await mapLimit(missing, FETCH_CONCURRENCY, async (id) => await this.fetch(collection, id, timeout))
    return found.filter(Boolean).length
  }

  /**
   * Reads a restricted database's access list from the DHT (at open, and
   * before DHT reads until it was found once; again with `again`), so that
   * the writers its owners granted are known without a peer of the
   * database, and their heads taken: each operation is checked before it counts.
   */
  async readAccess (timeout: number, again = false): Promise<void> {
    if (!this.#security.access.restricted) return
    if (again) this.#accessRead = undefined
    const read = this.#accessRead ?? this.#readAccessOnce(timeout)
    this.#accessRead = read
    if (!await read && this.#accessRead === read) this.#accessRead = undefined
  }

  /** Reads the access list from the DHT and applies it; resolves whether it was found (else the next DHT read tries again: offline, or not put yet). */
  async #readAccessOnce (timeout: number): Promise<boolean> {
    const found = await this.store.getRecordContent(ACCESS_COLLECTION, ACCESS_RECORD, { timeout }).catch(() => undefined)
    if (found === undefined || isTombstone(found)) return false
    await this.#applyAccess(found)
    return true
  }

  /** Applies the operations of an access-list state read from the DHT (each refused one is reported). */
  async #applyAccess (state: Uint8Array): Promise<void> {
    for (const op of accessOps(state)) {
      try {
        await this.#source.apply({ collection: ACCESS_COLLECTION, target: 'record', id: opId(op), update: op })
      } catch (error) {
        if ((error as Error).name === 'DatabaseClosedError') return
        this.#onRejected({ reason: `${(error as Error).name}: ${(error as Error).message} (an access operation from the DHT)`, via: 'dht' })
      }
    }
  }

  /** Waits (at most `timeout` ms) for queued puts and background work (the rest of durable puts, of reads), then stops. */
  async stop (timeout: number): Promise<void> {
    for (const timer of this.#timers.values()) this.#clock.clearTimeout(timer)
    this.#timers.clear()
    this.#stopped = true
    // How far republishing went, for the next open: only once every record was taken in (the storage may be closing already).
    if (this.#tracking) await this.#source.note(REPUBLISHED, this.#clock.now()).catch(() => {})
    this.store.handOver()
    // With no DHT server in the routing table (none reached, or only addresses the network mode filters out), no put can end: do not wait for them.
    if (this.#reachable()) {
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([this.store.flush(), new Promise<void>((resolve) => { timer = setTimeout(() => { resolve() }, timeout) })])
      clearTimeout(timer)
    }
    await this.store.stop()
    while (this.#applying.size > 0) await Promise.all([...this.#applying])
  }

  /** What to put of a record (or index): its state, a tombstone once deleted here; for the access list, every operation held. */
  async #state (collection: string, id: string | null): Promise<RecordContent> {
    if (collection === ACCESS_COLLECTION) {
      const ids = new Set((await this.#source.digests(collection)).keys())
      const ops: Uint8Array[] = []
      for await (const [, updates] of this.#source.storedUpdates(collection, ids)) ops.push(...updates)
      return accessState(ops)
    }
    if (id === null) return this.#source.indexDiff(collection, EMPTY_STATE_VECTOR)
    const state = await this.#source.recordDiff(collection, id, EMPTY_STATE_VECTOR)
    if (state !== undefined) return state
    const key = refKey(collection, id)
    // Deleted by a peer meanwhile, if not here: its tombstone is in the index.
    if (this.#tombstones.has(key) || isDeletedIn(await this.#source.indexDiff(collection, EMPTY_STATE_VECTOR), id)) {
      this.#tombstones.add(key)
      return TOMBSTONE
    }
    // Never live here: nothing to keep putting.
    this.store.forget(collection, id)
    return EMPTY_UPDATE
  }
}

function refKey (collection: string, id: string | null): string {
  return id === null ? `${collection}/` : `${collection}/${id}`
}
