/**
 * The DHT record store: records (and collection indexes) of one database,
 * durable in kad-dht as immutable blocks named by heads, merged as CRDTs
 * across replicas. See "Durable in the DHT" in `docs/architecture.md`.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import { DatabaseClosedError, DurabilityError, InvalidArgumentError, RecordTooLargeError } from '../errors.ts'
import { bytesEqual, sha256, toHex } from '../hash.ts'
import type { ReplicaSecurity } from '../security/context.ts'
import { TypedEmitter } from '../events.ts'
import { KeyedLock } from '../lock.ts'
import { getPart, MAX_PART_BYTES, putPart, type Part, type PutPartResult } from './blocks.ts'
import { encodeHead, MAX_INLINE_BYTES, MAX_SET_HEADS, parseHead, type Head, type SignedHead } from './head.ts'
import { readHeads, type HeadReadContext } from './head-read.ts'
import { headSet } from './head-set.ts'
import { headKey, HEAD_NS } from './keys.ts'
import { coversAll } from './covers.ts'
import { mergeStates } from './merge.ts'
import { putValue } from './query.ts'
import { RepublishQueue } from './republish-queue.ts'
import type { DhtStoreEvents, DhtStoreOptions, DhtOperationOptions, GetRecordOptions, PutRecordOptions, RecordRef } from './store-types.ts'

export type {
  DhtStoreOptions, DhtOperationOptions, PutRecordOptions, GetRecordOptions, RecordRef, RejectedEvent, PublishedEvent, FailedEvent,
  RepairedEvent, DhtStoreEvents
} from './store-types.ts'

interface Job extends RecordRef {
  readonly load: () => Promise<Uint8Array>
}

const DEFAULTS = {
  queryTimeout: 10_000,
  maxRecordBytes: MAX_PART_BYTES,
  blockConcurrency: 4,
  concurrency: 4,
  queueReplicas: 1,
  republishInterval: 22 * 60 * 60 * 1000,
  retryDelay: 1000,
  maxRetryDelay: 60_000,
  maxAttempts: 6
} satisfies Required<DhtStoreOptions>

/**
 * A read whose heads reach this many authors (half of what a head set
 * keeps) and none of which holds everything puts a head with the merged
 * state: servers evict the oldest authors beyond `MAX_SET_HEADS`.
 */
const COMPACT_AT = MAX_SET_HEADS / 2
const EMPTY = new Uint8Array(0)
/** Puts of a record with `replicas` tried at most, and the pause before the n-th retry (n × this, ms). */
const PUT_ATTEMPTS = 3
/** Records whose last put (state hash, time, acknowledgements) is remembered, at most. */
const LAST_PUTS = 10_000
const RETRY_PAUSE = 100

/**
 * One database's records in the DHT.
 *
 * - A state (a full Yjs update of a record's document, or of a collection's
 *   index) is stored as one **part**: blocks of at most 1 MiB, each under
 *   the SHA-256 of its bytes — or, up to 16 KiB, inline in its head.
 * - A record's **head**, under a key derived from the database address,
 *   collection and id, is one author's signed, dated state of the record.
 *   Kadmium's DHT servers keep the newest head of each author under a key
 *   (a head set; see `merging-datastore.ts`).
 * - A put writes this author's head, without reading first.
 * - A get merges the heads of every author on every replica (not
 *   kad-dht's one pick) and repairs replicas that lacked some.
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
 * const state = await store.getRecord('todos', id)      // merged Yjs update, or undefined
 * store.schedule('todos', id, async () => Y.encodeStateAsUpdate(doc))   // background, republished
 * await store.stop()
 * ```
 */
export class DhtStore extends TypedEmitter<DhtStoreEvents> {
  readonly #dht: KadDHT
  readonly #address: string
  readonly #options: Required<DhtStoreOptions>
  readonly #controller = new AbortController()
  readonly #lock = new KeyedLock()
  readonly #queue: RepublishQueue<Job>
  readonly #security: ReplicaSecurity | undefined
  readonly #aad: Uint8Array
  /** Per record: the last successful put's state hash, time and acknowledgements. */
  readonly #lastPuts = new Map<string, { readonly hash: string, readonly at: number, readonly acknowledged: number }>()
  #stopped = false

  /**
   * @param dht the node's kad-dht service, configured with Kadmium's protocol, validators and selectors
   * @param address the database's address: every head key derives from it
   */
  /**
   * @param security who signs heads, who may write, and (encrypted database) how blocks, heads and keys are hidden; without it the store only reads and writes bare parts
   */
  constructor (dht: KadDHT, address: string, options: DhtStoreOptions = {}, security?: ReplicaSecurity) {
    super()
    this.#security = security
    this.#aad = new TextEncoder().encode(address)
    if (typeof address !== 'string' || address.length === 0) throw new InvalidArgumentError('a DhtStore needs the database address')
    const merged = { ...DEFAULTS }
    for (const [name, value] of Object.entries(options)) {
      if (value === undefined) continue
      if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new InvalidArgumentError(`DhtStore option "${name}" must be a number >= 0`)
      ;(merged as Record<string, number>)[name] = value
    }
    merged.maxRecordBytes = Math.min(merged.maxRecordBytes, MAX_PART_BYTES)
    for (const name of ['blockConcurrency', 'concurrency', 'maxAttempts'] as const) merged[name] = Math.max(1, merged[name])
    this.#dht = dht
    this.#address = address
    this.#options = merged
    this.#queue = new RepublishQueue<Job>(merged, {
      run: async (_key, job) => {
        const acknowledged = await this.#put(job.collection, job.id, job.load, { replicas: this.#options.queueReplicas }, 1, true)
        this.emit('published', { collection: job.collection, id: job.id, acknowledged })
      },
      failed: (_key, job, error, attempt, retryIn) => {
        this.emit('failed', { collection: job.collection, id: job.id, error, attempt, retryIn })
      }
    })
  }

  /** Queued puts ready, running or waiting for a retry. */
  get pending (): number {
    return this.#queue.pending
  }

  /** Whether {@link stop} was called. */
  get stopped (): boolean {
    return this.#stopped
  }

  /**
   * Stores an update as immutable blocks.
   * @returns the part (block hashes, in order) and how many peers acknowledged every block
   * @throws {RecordTooLargeError} the update exceeds `maxRecordBytes`
   */
  async putUpdate (update: Uint8Array, options: DhtOperationOptions = {}): Promise<PutPartResult> {
    this.#checkOpen()
    if (update.length > this.#options.maxRecordBytes) throw new RecordTooLargeError(update.length, this.#options.maxRecordBytes)
    return await putPart(this.#dht, update, this.#blockOptions(options))
  }

  /**
   * Fetches a part's blocks, checks each against its hash, and concatenates them.
   * @returns the update, or `undefined` if a block could not be found in time
   * @throws {RecordTooLargeError} the part holds more than `maxRecordBytes`
   */
  async getPart (part: Part, options: DhtOperationOptions = {}): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    return await getPart(this.#dht, part, {
      ...this.#blockOptions(options),
      budget: { used: 0, limit: this.#options.maxRecordBytes },
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
   * @param id the record id, or `null` for the collection's index
   * @param state this replica's full Yjs update of the document (`Y.encodeStateAsUpdate`), or a function that loads it; successive states of one record must each hold the previous one (documents only grow), since each replaces the author's previous head
   * @returns how many peers acknowledged the head and each block (the fewest)
   * @throws {DurabilityError} `replicas` was given and fewer peers acknowledged in time
   * @throws {RecordTooLargeError} `state` exceeds `maxRecordBytes`
   * @throws {MalformedUpdateError} `state` does not decode
   * @throws {DatabaseClosedError} the store was stopped
   */
  async putRecord (collection: string, id: string | null, state: Uint8Array | (() => Promise<Uint8Array>), options: PutRecordOptions = {}): Promise<number> {
    return await this.#put(collection, id, state, options, PUT_ATTEMPTS)
  }

  /**
   * {@link putRecord}, with at most `attempts` puts when fewer than
   * `replicas` peers acknowledge (the queue retries on its own). `fresh`:
   * skip the put when this store put the same state lately with enough
   * acknowledgements (a queued put right after a durable one).
   */
  async #put (collection: string, id: string | null, state: Uint8Array | (() => Promise<Uint8Array>), options: PutRecordOptions, attempts: number, fresh = false): Promise<number> {
    this.#checkOpen()
    if (typeof state !== 'function') this.#checkSize(state)
    const ref = { collection, id }
    return await this.#lock.run(recordKey(ref), async () => {
      const signal = this.#signals(options)
      const bytes = typeof state === 'function' ? await state() : state
      this.#checkRunning(options)
      this.#checkSize(bytes)
      const key = recordKey(ref)
      const hash = toHex(sha256(bytes))
      const last = this.#lastPuts.get(key)
      if (fresh && last !== undefined && last.hash === hash && last.acknowledged >= (options.replicas ?? 0) && Date.now() - last.at < this.#options.republishInterval / 2) {
        // The same state was put lately (a write's durable put, then its background one): nothing to add.
        return last.acknowledged
      }
      mergeStates(bytes, []) // throws MalformedUpdateError when it does not decode
      const hk = await this.#headKey(collection, id)
      let acknowledged = await this.#write(hk, bytes, [], signal)
      // A peer that just joined finds few peers in its first lookup (its routing table is still
      // filling): a put that fell short of `replicas` is tried again, while time remains.
      for (let attempt = 1; options.replicas !== undefined && acknowledged < options.replicas && attempt < attempts; attempt++) {
        await pause(RETRY_PAUSE * attempt, signal())
        this.#checkRunning(options)
        acknowledged = Math.max(acknowledged, await this.#write(hk, bytes, [], signal))
      }
      this.#checkRunning(options)
      if (options.replicas !== undefined && acknowledged < options.replicas) {
        throw new DurabilityError(acknowledged, options.replicas)
      }
      this.#lastPuts.delete(key)
      this.#lastPuts.set(key, { hash, at: Date.now(), acknowledged })
      if (this.#lastPuts.size > LAST_PUTS) this.#lastPuts.delete(this.#lastPuts.keys().next().value as string)
      return acknowledged
    })
  }

  /**
   * Reads a record: every replica's value the lookup finds (one head or a
   * head set each), flattened to the newest head of each author allowed
   * to write (each one decoded and checked; refused ones are skipped and
   * reported), every state they name (blocks checked against their hash),
   * merged through a fresh `Y.Doc` into one Yjs update.
   *
   * Read repair is awaited (a `repaired` event reports it; a failed repair
   * does not fail the read):
   * - when a replica lacked one of those heads, they are put back (servers
   *   merge them into what they hold; no new head is signed);
   * - when the heads reach half the authors a head set keeps, and none of
   *   them holds everything, this store's own head with the merged state
   *   is put with them, so that evicting the oldest author loses nothing.
   * Several heads that all replicas hold are the normal case, not a repair.
   *
   * @param id the record id, or `null` for the collection's index
   * @returns the merged state, or `undefined` if no replica (or none of its states) was found in time
   * @throws {DatabaseClosedError} the store was stopped
   */
  async getRecord (collection: string, id: string | null, options: GetRecordOptions = {}): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    const ref = { collection, id }
    return await this.#lock.run(recordKey(ref), async () => {
      const signal = this.#signals(options)
      const hk = await this.#headKey(collection, id)
      const read = await readHeads(this.#readContext(ref), hk, collection, signal)
      this.#checkRunning(options)
      const states = [...read.fetched.values()]
      if (states.length === 0) return undefined
      const merged = mergeStates(undefined, states)
      const ids = [...read.fetched.keys()]
      for (const i of merged.rejected) this.#reject(ref, `MalformedUpdateError: state ${ids[i]} is not a Yjs update`)
      if (merged.rejected.length === states.length) return undefined
      if (options.readRepair === false) return merged.state
      const rejected = new Set(merged.rejected.map((i) => ids[i] as string))
      const compact = read.heads.length >= COMPACT_AT && this.#mayWrite(collection) && !coversAll(read, rejected, merged.state)
      if (read.disagreed || compact) {
        try {
          const heads = read.heads.map((h) => h.signed)
          const acknowledged = compact
            ? await this.#write(hk, merged.state, heads.filter((h) => !bytesEqual(h.author, this.#security?.signer.publicKey ?? EMPTY)), signal)
            : await putValue(this.#dht, hk, headSet(heads), signal())
          this.emit('repaired', { ...ref, heads: read.heads.length, acknowledged })
        } catch (error) {
          if (this.#stopped) throw error
          // A failed repair does not fail the read: the next read tries again.
        }
      }
      return merged.state
    })
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
   * @param load returns the record's current full state (called when the put starts)
   */
  schedule (collection: string, id: string | null, load: () => Promise<Uint8Array>): void {
    if (this.#stopped) return
    const ref = { collection, id }
    this.#queue.schedule(recordKey(ref), { ...ref, load })
  }

  /** Stops republishing a record and drops its queued put (a put in progress ends normally). */
  forget (collection: string, id: string | null): void {
    const key = recordKey({ collection, id })
    this.#queue.forget(key)
    this.#lastPuts.delete(key)
  }

  /** Resolves once no queued put is ready, running or waiting for a retry. */
  async flush (): Promise<void> {
    await this.#queue.flush()
  }

  /**
   * Stops: aborts every query in flight, drops queued puts and retries,
   * clears every timer (so nothing keeps the process alive), and resolves
   * once running puts have ended. Later calls reject with `DatabaseClosedError`.
   */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#controller.abort(new DatabaseClosedError())
    await this.#queue.stop()
    await this.#lock.idle()
  }

  /**
   * Stores `state` (inline in the head when small, else as blocks), then
   * puts this store's head naming it, with `others` (other authors'
   * heads, for a repair) in one head set.
   * @returns the fewest acknowledgements of the head and the blocks
   */
  async #write (hk: Uint8Array, state: Uint8Array, others: readonly SignedHead[], signal: () => AbortSignal): Promise<number> {
    const security = this.#security
    if (security === undefined) throw new InvalidArgumentError('writing records needs the database\'s security (a signer)')
    const sealer = security.sealer
    const bytes = sealer === undefined ? state : await sealer.seal(state, this.#aad)
    let blocks = Infinity
    let head: Head = { parts: [], inline: bytes }
    if (bytes.length > MAX_INLINE_BYTES) {
      const { part, acknowledged } = await putPart(this.#dht, bytes, { signal, concurrency: this.#options.blockConcurrency })
      head = { parts: [part] }
      blocks = acknowledged
    }
    const mine = await encodeHead(hk, head, security.signer, sealer)
    const value = others.length === 0 ? mine : headSet([...others, parseHead(mine)])
    return Math.min(blocks, await putValue(this.#dht, hk, value, signal()))
  }

  #readContext (ref: RecordRef): HeadReadContext {
    return {
      dht: this.#dht,
      security: this.#security,
      aad: this.#aad,
      maxRecordBytes: this.#options.maxRecordBytes,
      blockConcurrency: this.#options.blockConcurrency,
      reject: (reason) => { this.#reject(ref, reason) }
    }
  }

  #checkSize (state: Uint8Array): void {
    if (state.length > this.#options.maxRecordBytes) throw new RecordTooLargeError(state.length, this.#options.maxRecordBytes)
  }

  /** The DHT key of a record's head: in an encrypted database a keyed pseudonym, so storing peers cannot tell names. */
  async #headKey (collection: string, id: string | null): Promise<Uint8Array> {
    const namer = this.#security?.namer
    if (namer === undefined) return headKey(this.#address, collection, id)
    const name = await namer.name('head', this.#address, collection, id ?? '\u0000index')
    return new TextEncoder().encode(`/${HEAD_NS}/${toHex(name)}`)
  }

  /** Whether this peer's heads for the collection would be accepted (read repair needs it). */
  #mayWrite (collection: string): boolean {
    if (this.#security === undefined) return false
    try {
      this.#security.access.check(this.#security.signer.publicKey, collection)
      return true
    } catch {
      return false
    }
  }

  #blockOptions (options: DhtOperationOptions): { signal: () => AbortSignal, concurrency: number } {
    return { signal: this.#signals(options), concurrency: this.#options.blockConcurrency }
  }

  /** A factory of signals for each query: the query timeout, the operation's timeout and signal, and `stop`. */
  #signals (options: DhtOperationOptions): () => AbortSignal {
    const parents = [this.#controller.signal]
    if (options.signal !== undefined) parents.push(options.signal)
    if (options.timeout !== undefined) parents.push(AbortSignal.timeout(options.timeout))
    return () => AbortSignal.any([...parents, AbortSignal.timeout(this.#options.queryTimeout)])
  }

  #reject (ref: RecordRef, reason: string): void {
    this.emit('rejected', { ...ref, reason })
  }

  #checkOpen (): void {
    if (this.#stopped) throw new DatabaseClosedError()
  }

  /** Between the steps of an operation: stop and the caller's abort end it. */
  #checkRunning (options: DhtOperationOptions): void {
    this.#checkOpen()
    options.signal?.throwIfAborted()
  }
}

/** Resolves after `ms`, or when `signal` aborts (the caller checks what ended it). */
async function pause (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** The queue's and caches' key of a record. */
function recordKey (ref: RecordRef): string {
  return JSON.stringify([ref.collection, ref.id])
}
