/**
 * The DHT record store: records (and collection indexes) of one database,
 * durable in kad-dht as immutable blocks named by heads, merged as CRDTs
 * across replicas. Puts are in `record-writer.ts`, reads in
 * `record-reader.ts`, background puts in the one queue of `put-queue.ts`.
 * See "Durable in the DHT" in `docs/architecture.md`.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import { DatabaseClosedError, InvalidArgumentError, RecordTooLargeError } from '../errors.ts'
import { toHex } from '../util/hash.ts'
import type { ReplicaSecurity } from '../access/replica-security.ts'
import { TypedEmitter } from '../events.ts'
import { getPart, MAX_PART_BYTES, putPart, type Part, type PutPartResult } from './blocks.ts'
import { isTombstone, type RecordContent } from './head.ts'
import { PutQueue } from './put-queue.ts'
import { putSlotsOf } from './put-slots.ts'
import { parseRecordKey, RecordContext, recordKey } from './record-context.ts'
import { RecordReader } from './record-reader.ts'
import { RecordWriter } from './record-writer.ts'
import { DHT_STORE_DEFAULTS, type DhtStoreEvents, type DhtStoreOptions, type DhtOperationOptions, type GetRecordOptions, type PutRecordOptions, type RecordRef } from './dht-store-types.ts'

export type {
  DhtStoreOptions, DhtOperationOptions, PutRecordOptions, GetRecordOptions, RecordRef, RejectedEvent, PublishedEvent, FailedEvent,
  RepairedEvent, CompletedEvent, LateEvent, DhtStoreEvents
} from './dht-store-types.ts'

interface Job extends RecordRef {
  readonly load: () => Promise<RecordContent>
}

/** Records whose slot passed while the peer was down are put again within this long (ms; a tenth of the interval at most). */
const MISSED_SPREAD = 10 * 60_000

/** Puts of a record with `replicas` tried at most. */
const PUT_ATTEMPTS = 3

/**
 * One database's records in the DHT.
 *
 * - A state (a full Yjs update of a record's document, or of a collection's
 *   index) is stored as one **part**: blocks of at most 1 MiB, each under
 *   the SHA-256 of its bytes — or, up to 16 KiB, inline in its head.
 * - A record's **head**, under a key derived from the database address,
 *   collection and id, is one author's signed, dated state of the record,
 *   or a tombstone (the author deleted it: that wins over every state).
 *   Kadmium's DHT servers keep the newest head of each author under a key
 *   (a head set; see `merging-datastore.ts`).
 * - A put writes this author's head, without reading first; with
 *   `replicas` it resolves at the `replicas`-th acknowledgement while the
 *   rest of the put goes on in the background.
 * - A get merges the heads of every author on every replica (not
 *   kad-dht's one pick): it resolves with the first replicas' heads, and
 *   heads that come later are merged and reported as `late` events;
 *   replicas that lacked some are repaired once the lookup ended.
 * - `schedule` puts records in the background: coalesced, bounded,
 *   retried, and re-put every `republishInterval` (kad-dht drops values
 *   after 48 h and never republishes them).
 *
 * Nothing from the network is trusted: blocks are checked against their
 * hash, heads are decoded and checked, Yjs updates are applied to a fresh
 * document where a malformed one is left out, and the bytes fetched per
 * record are capped. What is refused is reported as a `rejected` event.
 *
 * @example
 * ```ts
 * const store = new DhtStore(libp2p.services.dht, db.address)
 * await store.putRecord('todos', id, Y.encodeStateAsUpdate(doc), { replicas: 3, timeout: 15_000 })
 * store.on('late', (e) => Y.applyUpdate(doc, e.state))  // what replicas answering later add
 * const state = await store.getRecord('todos', id)      // merged Yjs update, or undefined
 * store.schedule('todos', id, async () => Y.encodeStateAsUpdate(doc))   // background, republished
 * await store.stop()
 * ```
 */
export class DhtStore extends TypedEmitter<DhtStoreEvents> {
  readonly #ctx: RecordContext
  readonly #queue: PutQueue<Job>
  readonly #writer: RecordWriter
  readonly #reader: RecordReader

  /**
   * @param dht the node's kad-dht service, configured with Kadmium's protocol, validators and selectors
   * @param address the database's address: every head key derives from it
   * @param security who signs heads, who may write, and (encrypted database) how blocks, heads and keys are hidden; without it the store only reads and writes bare parts
   */
  constructor (dht: KadDHT, address: string, options: DhtStoreOptions = {}, security?: ReplicaSecurity) {
    super()
    if (typeof address !== 'string' || address.length === 0) throw new InvalidArgumentError('a DhtStore needs the database address')
    const merged: { -readonly [K in keyof Required<DhtStoreOptions>]: Required<DhtStoreOptions>[K] } = { ...DHT_STORE_DEFAULTS, clock: options.clock ?? DHT_STORE_DEFAULTS.clock }
    for (const [name, value] of Object.entries(options)) {
      if (value === undefined || name === 'clock') continue
      if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new InvalidArgumentError(`DhtStore option "${name}" must be a number >= 0`)
      ;(merged as unknown as Record<string, number>)[name] = value
    }
    merged.maxRecordBytes = Math.min(merged.maxRecordBytes, MAX_PART_BYTES)
    for (const name of ['blockConcurrency', 'concurrency', 'maxAttempts'] as const) merged[name] = Math.max(1, merged[name])
    this.#ctx = new RecordContext(dht, address, merged, security, (type, detail) => { this.emit(type, detail) })
    const author = security?.signer.publicKey
    this.#queue = new PutQueue<Job>({ ...merged, slots: putSlotsOf(dht), ...(author !== undefined ? { salt: toHex(author) } : {}) }, {
      run: async (_key, job) => {
        const acknowledged = await this.#writer.put(job.collection, job.id, job.load, { replicas: merged.queueReplicas }, 1, { fresh: true })
        this.emit('published', { collection: job.collection, id: job.id, acknowledged })
      },
      failed: (_key, job, error, attempt, retryIn) => {
        this.emit('failed', { collection: job.collection, id: job.id, error, attempt, retryIn })
      }
    })
    this.#writer = new RecordWriter(this.#ctx, this.#queue)
    this.#reader = new RecordReader(this.#ctx)
  }

  /** Puts not done: queued ones delayed, ready, running or waiting for a retry, and the rest of puts that resolved at `replicas` acknowledgements. */
  get pending (): number {
    return this.#queue.pending + this.#ctx.remainders
  }

  /** Whether {@link stop} was called. */
  get stopped (): boolean {
    return this.#ctx.stopped
  }

  /**
   * Stores an update as immutable blocks.
   * @returns the part (block hashes, in order) and how many peers acknowledged every block
   * @throws {RecordTooLargeError} the update exceeds `maxRecordBytes`
   */
  async putUpdate (update: Uint8Array, options: DhtOperationOptions = {}): Promise<PutPartResult> {
    this.#ctx.checkOpen()
    if (update.length > this.#ctx.options.maxRecordBytes) throw new RecordTooLargeError(update.length, this.#ctx.options.maxRecordBytes)
    return await putPart(this.#ctx.dht, update, this.#ctx.blockOptions(options))
  }

  /**
   * Fetches a part's blocks, checks each against its hash, and concatenates them.
   * @returns the update, or `undefined` if a block could not be found in time
   * @throws {RecordTooLargeError} the part holds more than `maxRecordBytes`
   */
  async getPart (part: Part, options: DhtOperationOptions = {}): Promise<Uint8Array | undefined> {
    this.#ctx.checkOpen()
    return await getPart(this.#ctx.dht, part, {
      ...this.#ctx.blockOptions(options),
      budget: { used: 0, limit: this.#ctx.options.maxRecordBytes },
      onReject: (reason) => { this.emit('rejected', { reason }) }
    })
  }

  /**
   * Stores a record's state: its blocks (unless it fits inline), then its
   * head, signed and dated by this store's author — without reading the
   * DHT first. Kadmium's DHT servers keep the newest head of each author
   * under a record's key (see `merging-datastore.ts`), so another writer's
   * head is not overwritten; readers merge every author's. A put therefore
   * learns nothing of the others' states. Puts of one record run one at a
   * time, each loading its state when its turn comes (so a later put never
   * carries an older state than an earlier one). With `replicas`, a put
   * that fewer peers acknowledged is tried again (3 attempts at most, while
   * the timeout allows): a peer that just joined finds few peers at first.
   *
   * With `replicas`, the put resolves as soon as that many peers
   * acknowledged the head (and, before it, each block), while the rest of
   * the put — to every other closest peer the lookup finds — goes on in
   * the background (counted in `pending`, awaited by `flush`, aborted and
   * awaited by `stop`); its end is a `completed` event, carrying the error
   * if it failed (the put has resolved and stands). Without `replicas` it
   * resolves once the whole put ended.
   *
   * @param id the record id, or `null` for the collection's index
   * @param state this replica's full Yjs update of the document (`Y.encodeStateAsUpdate`), or `TOMBSTONE` for a record deleted here (a head with the deleted marker, no state: readers then find the record deleted, whatever other heads hold), or a function that loads either; successive states of one record must each hold the previous one (documents only grow), since each replaces the author's previous head, and a tombstone is final
   * @returns how many peers acknowledged the head and each block (the fewest) — with `replicas`, when the put resolved: at least `replicas`, more may follow
   * @throws {DurabilityError} `replicas` was given and fewer peers acknowledged in time
   * @throws {RecordTooLargeError} `state` exceeds `maxRecordBytes`
   * @throws {MalformedUpdateError} `state` does not decode
   * @throws {DatabaseClosedError} the store was stopped
   */
  async putRecord (collection: string, id: string | null, state: RecordContent | (() => Promise<RecordContent>), options: PutRecordOptions = {}): Promise<number> {
    return await this.#writer.put(collection, id, state, options, PUT_ATTEMPTS, { early: true })
  }

  /**
   * Reads a record: every replica's value the lookup finds (one head or a
   * head set each), flattened to the newest head of each author allowed
   * to write (each one decoded and checked; refused ones are skipped and
   * reported), every state they name (blocks checked against their hash),
   * merged through a fresh `Y.Doc` into one Yjs update.
   *
   * It resolves as soon as a replica's value with a valid head arrived
   * (with whatever else arrived by then), its states fetched and merged —
   * or, when no replica holds the record, once the lookup ended. The
   * lookup goes on in the background: heads that arrive later and add
   * something are merged in and reported as a `late` event (the state
   * merged so far). With `complete`, it resolves only once the lookup and
   * the read repair ended, with every replica's heads merged.
   *
   * Read repair runs once the lookup ended (a `repaired` event reports it;
   * a failed repair is dropped: the next read tries again):
   * - when a replica lacked one of those heads, they are put back (servers
   *   merge them into what they hold; no new head is signed);
   * - when the heads reach half the authors a head set keeps, and none of
   *   them holds everything, this store's own head with the merged state
   *   is put with them, so that evicting the oldest author loses nothing.
   * Several heads that all replicas hold are the normal case, not a repair.
   * The background part is awaited by `flush` and ended by `stop`.
   *
   * A head with the deleted marker (a tombstone) of an author allowed to
   * write wins over every state: the record reads as deleted (`undefined`
   * here; {@link getRecordContent} tells deleted from not found).
   *
   * @param id the record id, or `null` for the collection's index
   * @returns the merged state, or `undefined` if no replica (or none of its states) was found in time, or the record was deleted
   * @throws {DatabaseClosedError} the store was stopped
   */
  async getRecord (collection: string, id: string | null, options: GetRecordOptions = {}): Promise<Uint8Array | undefined> {
    const found = await this.getRecordContent(collection, id, options)
    return found === undefined || isTombstone(found) ? undefined : found
  }

  /**
   * {@link getRecord}, telling a deleted record apart: resolves with the
   * merged state, `TOMBSTONE` when a head found is a tombstone, or
   * `undefined` when nothing was found in time.
   * @throws {DatabaseClosedError} the store was stopped
   */
  async getRecordContent (collection: string, id: string | null, options: GetRecordOptions = {}): Promise<RecordContent | undefined> {
    return await this.#reader.getRecordContent(collection, id, options)
  }

  /**
   * Puts a record in the background: the latest `load` of a record wins
   * over earlier ones not yet started, `concurrency` puts run at once,
   * failures (including fewer than `queueReplicas` acknowledgements) are
   * retried with exponential backoff, and after each success the record is
   * put again every `republishInterval` with the latest `load`. Outcomes
   * are `published` and `failed` events. Ignored once stopped.
   *
   * @param id the record id, or `null` for the collection's index
   * @param load returns the record's current full state, or `TOMBSTONE` once deleted (called when the put starts)
   * @param delay wait this long (ms) before queueing it, so that a burst of writes coalesces (longer while {@link hold} holds are taken)
   */
  schedule (collection: string, id: string | null, load: () => Promise<RecordContent>, delay = 0): void {
    if (this.#ctx.stopped) return
    const ref = { collection, id }
    this.#queue.schedule(recordKey(ref), { ...ref, load }, delay)
  }

  /**
   * Takes records in for republishing (a replica's, after a restart), each
   * put at its slot (its own point of every `republishInterval`, the same
   * across restarts) — or, if its last slot passed after `since` (the
   * peer was down then), within a few minutes. Records already scheduled
   * are left as they are. Ignored once stopped.
   * @param since the time through which this replica republished before (none: it never did)
   */
  track (records: readonly RecordRef[], since: number | undefined, load: (collection: string, id: string | null) => () => Promise<RecordContent>): void {
    if (this.#ctx.stopped) return
    const { clock, republishInterval: interval } = this.#ctx.options
    const now = clock.now()
    const spread = Math.min(interval / 10, MISSED_SPREAD)
    this.#queue.track(records.map((ref) => {
      const key = recordKey(ref)
      const next = this.#queue.nextSlot(key, now)
      const missed = since !== undefined && next > now && next - interval > since
      return { key, due: missed ? now + Math.floor(Math.random() * spread) : next }
    }), (key) => {
      const { collection, id } = parseRecordKey(key)
      return { collection, id, load: load(collection, id) }
    })
  }

  /** The put queue's state: puts parked (offline, or given up), records kept for republishing, and when the next is due. */
  get queue (): { readonly parked: number, readonly republishing: number, readonly nextRepublish: number | undefined } {
    return { parked: this.#queue.parked, republishing: this.#queue.tracked, nextRepublish: this.#queue.nextRepublish }
  }

  /** How long after its last put a record is put again (ms). */
  get republishInterval (): number {
    return this.#ctx.options.republishInterval
  }

  /** Keeps a record's put until {@link resume} (the peer is offline). */
  park (collection: string, id: string | null, load: () => Promise<RecordContent>): void {
    const ref = { collection, id }
    this.#queue.park(recordKey(ref), { ...ref, load })
  }

  /** Schedules the parked puts (written offline, or given up) with `delay`: a peer is reachable again. */
  resume (delay = 0): void {
    this.#queue.resume(delay)
  }

  /** Holds delayed puts back (`maxHold` at most) until the returned function is called: a put a writer waits for goes first. */
  hold (): () => void {
    return this.#queue.hold()
  }

  /** Queues the delayed puts now (closing). */
  handOver (): void {
    this.#queue.handOver()
  }

  /** Stops republishing a record and drops its queued put and its last put (a put in progress ends normally). */
  forget (collection: string, id: string | null): void {
    this.#queue.forget(recordKey({ collection, id }))
  }

  /**
   * Resolves once no queued put is ready, running or waiting for a retry,
   * and the background work of earlier calls (the rest of puts that
   * resolved early, reads' later heads and repairs) has ended.
   */
  async flush (): Promise<void> {
    for (;;) {
      await this.#queue.flush()
      if (this.#ctx.background.size === 0) return
      await this.#ctx.background.idle()
    }
  }

  /**
   * Stops: aborts every query in flight (the background ones too), drops
   * queued puts and retries, clears every timer (so nothing keeps the
   * process alive), and resolves once running puts and background work
   * have ended. Later calls reject with `DatabaseClosedError`.
   */
  async stop (): Promise<void> {
    if (this.#ctx.stopped) return
    this.#ctx.stopped = true
    this.#ctx.controller.abort(new DatabaseClosedError())
    await this.#queue.stop()
    await this.#ctx.lock.idle()
    await this.#ctx.background.idle()
  }
}
