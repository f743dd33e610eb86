import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht'
import { DhtStore, type DhtStoreOptions } from './dht-store.ts'
import { isTombstone, TOMBSTONE, type RecordContent } from './head.ts'
import type { ReplicaSecurity } from '../access/replica-security.ts'
import { deletedIds, IndexMarks, isDeletedIn } from './index-marks.ts'
import type { RejectedEvent, Replica } from '../replica/replica.ts'

const EMPTY_STATE_VECTOR = new Uint8Array([0])
/** How long a written record's DHT put waits in the queue before it may run (ms): a burst of writes coalesces, and live gossip has the CPU first. */
const PUT_DELAY = 100
/** A Yjs update that changes nothing. */
const EMPTY_UPDATE = new Uint8Array([0, 0])

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
  /** The republishing timers (see {@link startRepublishing}). */
  readonly #timers: Array<ReturnType<typeof setTimeout>> = []
  /** Applies of states that DHT reads found after they had answered (`stop` awaits them). */
  readonly #applying = new Set<Promise<void>>()

  constructor (
    dht: KadDHT, source: Replica, security: ReplicaSecurity, online: () => boolean, onRejected: (event: RejectedEvent) => void, options: DhtStoreOptions = {}
  ) {
    this.#source = source
    this.#online = online
    this.#reachable = () => ((dht as Partial<SingleKadDHT>).routingTable?.size ?? 1) > 0
    this.#marks = new IndexMarks(async (collection, update) => await source.apply({ collection, target: 'index', update }))
    this.store = new DhtStore(dht, source.address, options, security)
    this.store.on('rejected', (e) => { onRejected({ reason: e.reason, via: 'dht' }) })
    // What replicas answering after a read resolved add: applied like the read's own state (a tombstone deletes).
    this.store.on('late', (e) => {
      if (e.id === null && e.deleted) return // (an index is never deleted)
      const applying = (e.id === null
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
   * catch-up go first): every record and each collection's index, each
   * first put at a random time within the interval, then every interval;
   * and the manifest every interval. So a restarted peer, and a peer that
   * received records (a pinning server), put them again before kad-dht
   * drops them (48 h).
   */
  startRepublishing (): void {
    const interval = this.store.republishInterval
    this.#timers.push(setTimeout(() => { void this.#republishHeld(interval) }, Math.min(10_000, interval / 10)))
    this.#timers.push(setInterval(() => {
      this.#announced = false
      this.announce()
    }, interval))
  }

  async #republishHeld (interval: number): Promise<void> {
    try {
      const now = Date.now()
      const due = (): number => now + Math.floor(Math.random() * interval)
      const records: Array<{ collection: string, id: string | null, due: number }> = []
      for (const collection of await this.#source.collections()) {
        if (!this.#source.durable(collection)) continue
        records.push({ collection, id: null, due: due() })
        for (const id of (await this.#source.digests(collection)).keys()) records.push({ collection, id, due: due() })
      }
      this.store.track(records, (collection, id) => async () => await this.#state(collection, id))
    } catch {
      // A database closing meanwhile: nothing to republish.
    }
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

  /** Waits (at most `timeout` ms) for queued puts and background work (the rest of durable puts, of reads), then stops. */
  async stop (timeout: number): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer)
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

  /** What to put of a record (or index): its state, a tombstone once deleted here. */
  async #state (collection: string, id: string | null): Promise<RecordContent> {
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
