/**
 * The DHT record store: records (and collection indexes) of one database,
 * durable in kad-dht as immutable blocks named by heads, merged as CRDTs
 * across replicas. See "Durable in the DHT" in `docs/architecture.md`.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import { DatabaseClosedError, DurabilityError, InvalidArgumentError, KadmiumError, RecordTooLargeError } from '../errors.ts'
import { sha256, toHex } from '../hash.ts'
import type { ReplicaSecurity } from '../security/context.ts'
import { TypedEmitter } from '../events.ts'
import { KeyedLock } from '../lock.ts'
import { getPart, MAX_PART_BYTES, partId, putPart, type ByteBudget, type Part, type PutPartResult } from './blocks.ts'
import { encodeHead, headParts, MAX_HEAD_PARTS, MAX_INLINE_BYTES, verifyHead, type Head } from './head.ts'
import { headKey, HEAD_NS } from './keys.ts'
import { mapLimit } from './map-limit.ts'
import { mergeStates } from './merge.ts'
import { getValues, putValue } from './query.ts'
import { RepublishQueue } from './republish-queue.ts'
import type { DhtStoreEvents, DhtStoreOptions, DhtOperationOptions, GetRecordOptions, PutRecordOptions, RecordRef } from './store-types.ts'

export type {
  DhtStoreOptions, DhtOperationOptions, PutRecordOptions, GetRecordOptions, RecordRef, RejectedEvent, PublishedEvent, FailedEvent,
  RemoteStateEvent, RepairedEvent, DhtStoreEvents
} from './store-types.ts'

interface Job extends RecordRef {
  readonly load: () => Promise<Uint8Array>
}

/** What one read of a head key found. */
interface HeadRead {
  /** Distinct well-formed heads. */
  readonly heads: number
  /** Parts fetched, with their bytes. */
  readonly fetched: Array<{ readonly part: Part, readonly bytes: Uint8Array }>
  /** Parts whose blocks could not be found in time: kept in the heads written. */
  readonly unfetched: Part[]
  /** Parts refused (too large), by id. */
  readonly dropped: string[]
  /** Every part the heads named, settled or not, by id. */
  readonly named: ReadonlySet<string>
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

/** Records whose settled parts are remembered, at most. */
const SETTLED_CACHE = 10_000

/**
 * One database's records in the DHT.
 *
 * - A state (a full Yjs update of a record's document, or of a collection's
 *   index) is stored as one **part**: blocks of at most 1 MiB, each under
 *   the SHA-256 of its bytes.
 * - A record's **head**, under a key derived from the database address,
 *   collection and id, names the parts whose merge is the record.
 * - A put reads every replica's head first and merges their parts with the
 *   given state into one compacted snapshot (kad-dht peers overwrite their
 *   copy on each put, so the head written must hold what was there).
 * - A get merges every replica's head (not kad-dht's one pick) and, when
 *   replicas disagreed, writes the merged head back before it resolves.
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
  /** Per record: ids of parts that need no fetching (their content is in a state this store was given, or they are malformed). */
  readonly #settled = new Map<string, Set<string>>()
  readonly #security: ReplicaSecurity | undefined
  readonly #aad: Uint8Array
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
        const state = await job.load()
        const acknowledged = await this.putRecord(job.collection, job.id, state, { replicas: this.#options.queueReplicas })
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
   * Stores a record's state: reads the heads the DHT holds, merges their
   * parts and `state` into one snapshot, stores it as blocks, then puts the
   * head naming it. Puts of one record run one at a time.
   *
   * If the DHT held content that `state` lacks, a `remote` event carries
   * the merged state. Parts whose blocks cannot be found are kept in the
   * head as they are (up to `MAX_HEAD_PARTS`).
   *
   * @param id the record id, or `null` for the collection's index
   * @param state a full Yjs update of the document (`Y.encodeStateAsUpdate`); successive states of one record must each hold the previous one (documents only grow)
   * @returns how many peers acknowledged the head and each block (the fewest)
   * @throws {DurabilityError} `replicas` was given and fewer peers acknowledged in time
   * @throws {RecordTooLargeError} `state` exceeds `maxRecordBytes`
   * @throws {MalformedUpdateError} `state` does not decode
   * @throws {DatabaseClosedError} the store was stopped
   */
  async putRecord (collection: string, id: string | null, state: Uint8Array, options: PutRecordOptions = {}): Promise<number> {
    this.#checkOpen()
    if (state.length > this.#options.maxRecordBytes) throw new RecordTooLargeError(state.length, this.#options.maxRecordBytes)
    const ref = { collection, id }
    const key = recordKey(ref)
    return await this.#lock.run(key, async () => {
      const signal = this.#signals(options)
      const hk = await this.#headKey(collection, id)
      const settled = this.#settled.get(key) ?? new Set<string>()
      const read = await this.#readHeads(hk, ref, signal, settled, true)
      this.#checkRunning(options)
      const merged = mergeStates(state, read.fetched.map((f) => f.bytes))
      for (const i of merged.rejected) this.#reject(ref, `MalformedUpdateError: part ${partId((read.fetched[i] as { part: Part }).part)} is not a Yjs update`)
      if (merged.changed) this.emit('remote', { ...ref, state: merged.state })
      const acknowledged = await this.#write(hk, merged.state, read.unfetched, signal)
      const malformed = [...merged.rejected.map((i) => partId((read.fetched[i] as { part: Part }).part)), ...read.dropped]
      const contained = merged.changed ? [] : [acknowledged.part, ...read.fetched.map((f) => f.part)]
      this.#remember(key, [...settled].filter((id) => read.named.has(id)), contained, malformed)
      this.#checkRunning(options)
      if (options.replicas !== undefined && acknowledged.count < options.replicas) {
        throw new DurabilityError(acknowledged.count, options.replicas)
      }
      return acknowledged.count
    })
  }

  /**
   * Reads a record: every replica's head the lookup finds (each one decoded
   * and checked; malformed ones are skipped and reported), every part they
   * name (each block checked against its hash), merged through a fresh
   * `Y.Doc` into one Yjs update.
   *
   * Read repair is awaited: when the replicas held different heads, or a
   * part was refused, the merged state is stored and its head put before
   * the promise resolves (a `repaired` event reports it; a failed repair
   * does not fail the read).
   *
   * @param id the record id, or `null` for the collection's index
   * @returns the merged state, or `undefined` if no replica (or none of its parts) was found in time
   * @throws {DatabaseClosedError} the store was stopped
   */
  async getRecord (collection: string, id: string | null, options: GetRecordOptions = {}): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    const ref = { collection, id }
    return await this.#lock.run(recordKey(ref), async () => {
      const signal = this.#signals(options)
      const hk = await this.#headKey(collection, id)
      const repair = options.readRepair !== false && this.#mayWrite(collection)
      const read = await this.#readHeads(hk, ref, signal, new Set(), repair)
      this.#checkRunning(options)
      if (read.fetched.length === 0) return undefined
      const merged = mergeStates(undefined, read.fetched.map((f) => f.bytes))
      for (const i of merged.rejected) this.#reject(ref, `MalformedUpdateError: part ${partId((read.fetched[i] as { part: Part }).part)} is not a Yjs update`)
      if (merged.rejected.length === read.fetched.length) return undefined
      const disagreed = read.heads > 1 || merged.rejected.length > 0 || read.dropped.length > 0
      if (disagreed && repair) {
        try {
          const written = await this.#write(hk, merged.state, read.unfetched, signal)
          this.emit('repaired', { ...ref, heads: read.heads, acknowledged: written.count })
        } catch (error) {
          if (this.#stopped) throw error
          // A failed repair does not fail the read: the next read or put tries again.
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
    this.#settled.delete(key)
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
   * Reads every replica's head under `hk` and fetches the parts not yet
   * settled. `writeBack`: the caller writes the merge back, so kad-dht may
   * send one correction put to reveal the local head (see `getValues`).
   */
  async #readHeads (hk: Uint8Array, ref: RecordRef, signal: () => AbortSignal, settled: ReadonlySet<string>, writeBack: boolean): Promise<HeadRead> {
    const heads: Head[] = []
    const onRefused = (reason: string, from: string): void => { this.#reject(ref, `${reason} (a head from peer ${from})`) }
    for (const value of await getValues(this.#dht, hk, signal(), { learnPick: writeBack, onRefused })) {
      try {
        const signed = await verifyHead(hk, value)
        this.#security?.access.check(signed.author, ref.collection)
        heads.push(await headParts(hk, signed, this.#security?.sealer))
      } catch (error) {
        if (!(error instanceof KadmiumError)) throw error
        this.#reject(ref, `${error.name}: ${error.message} (a head refused)`)
      }
    }
    const parts = new Map<string, Part>()
    const named = new Set<string>()
    const inline = new Map<string, { part: Part, bytes: Uint8Array }>()
    for (const head of heads) {
      if (head.inline !== undefined) {
        // An inline state is named by its hash, like a one-block part.
        const part = [sha256(head.inline)]
        const id = partId(part)
        named.add(id)
        if (!settled.has(id) && !inline.has(id)) inline.set(id, { part, bytes: head.inline })
      }
      for (const part of head.parts) {
        const id = partId(part)
        named.add(id)
        if (!settled.has(id) && !parts.has(id)) parts.set(id, part)
      }
    }
    const read: HeadRead = { heads: heads.length, fetched: [], unfetched: [], dropped: [], named }
    const sealer = this.#security?.sealer
    for (const [id, { part, bytes }] of inline) {
      try {
        read.fetched.push({ part, bytes: sealer === undefined ? bytes : await sealer.open(bytes, this.#aad) })
      } catch (error) {
        if (!(error instanceof KadmiumError)) throw error
        this.#reject(ref, `DecryptionError: inline state ${id} does not open with this database's key`)
        read.dropped.push(id)
      }
    }
    const budget: ByteBudget = { used: 0, limit: this.#options.maxRecordBytes }
    const options = { signal, concurrency: this.#options.blockConcurrency, budget, onReject: (reason: string) => { this.#reject(ref, reason) } }
    // Every block is counted against the budget as it arrives, so parts can be fetched in parallel too.
    const results = await mapLimit([...parts], this.#options.blockConcurrency, async ([id, part]) => {
      try {
        const bytes = await getPart(this.#dht, part, options)
        const sealer = this.#security?.sealer
        return bytes === undefined || sealer === undefined ? bytes : await sealer.open(bytes, this.#aad)
      } catch (error) {
        if (error instanceof KadmiumError && error.name === 'DecryptionError') {
          this.#reject(ref, `DecryptionError: part ${id} does not open with this database's key`)
          read.dropped.push(id)
          return null
        }
        if (!(error instanceof RecordTooLargeError)) throw error
        this.#reject(ref, `RecordTooLargeError: part ${id} exceeds the ${budget.limit} bytes fetched at most per record`)
        read.dropped.push(id)
        return null
      }
    })
    let i = 0
    for (const part of parts.values()) {
      const bytes = results[i++]
      if (bytes === undefined) {
        read.unfetched.push(part)
        this.#reject(ref, `NotFoundError: the blocks of part ${partId(part)} were not found in time (the part stays in the head: they may come back)`)
      }
      else if (bytes !== null) read.fetched.push({ part, bytes })
    }
    return read
  }

  /** Stores `state` as one part, then puts the head naming it and the `kept` parts. */
  async #write (hk: Uint8Array, state: Uint8Array, kept: readonly Part[], signal: () => AbortSignal): Promise<{ part: Part, count: number }> {
    const security = this.#security
    if (security === undefined) throw new InvalidArgumentError('writing records needs the database\'s security (a signer)')
    const sealer = security.sealer
    const bytes = sealer === undefined ? state : await sealer.seal(state, this.#aad)
    if (bytes.length <= MAX_INLINE_BYTES) {
      // Small: the state rides in the head, one DHT value.
      const head: Head = { parts: kept.slice(0, MAX_HEAD_PARTS), inline: bytes }
      const count = await putValue(this.#dht, hk, await encodeHead(hk, head, security.signer, sealer), signal())
      return { part: [sha256(bytes)], count }
    }
    const { part, acknowledged } = await putPart(this.#dht, bytes, { signal, concurrency: this.#options.blockConcurrency })
    const head: Head = { parts: [part, ...kept].slice(0, MAX_HEAD_PARTS) }
    const headAcks = await putValue(this.#dht, hk, await encodeHead(hk, head, security.signer, sealer), signal())
    return { part, count: Math.min(acknowledged, headAcks) }
  }

  /**
   * Remembers, for the record's next put, which parts need no fetching:
   * those settled before that heads still name (the next state holds this
   * one, which held them), those whose content this state holds, and the
   * malformed ones.
   */
  #remember (key: string, kept: readonly string[], contained: readonly Part[], malformed: readonly string[]): void {
    const next = new Set<string>([...kept, ...malformed])
    for (const part of contained) next.add(partId(part))
    this.#settled.delete(key)
    this.#settled.set(key, next)
    if (this.#settled.size > SETTLED_CACHE) this.#settled.delete(this.#settled.keys().next().value as string)
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

/** The queue's and caches' key of a record. */
function recordKey (ref: RecordRef): string {
  return JSON.stringify([ref.collection, ref.id])
}
