import type { KadDHT } from '@libp2p/kad-dht'
import { CID } from 'multiformats/cid'
import { DhtStore, type DhtStoreOptions } from '../dht/dht-store.ts'
import { InvalidArgumentError, NotFoundError } from '../errors.ts'
import type { ReplicaSecurity } from '../security/context.ts'
import type { RejectedEvent } from './replicator.ts'
import type { SyncSource } from './sync-session.ts'

const EMPTY_STATE_VECTOR = new Uint8Array([0])
/** How long a written record waits before its DHT put is queued (ms). */
const PUT_DELAY = 100
/** A Yjs update that changes nothing. */
const EMPTY_UPDATE = new Uint8Array([0, 0])

/** What durable storage needs to know of the database. */
export interface DurableSource extends SyncSource {
  /** The database's manifest (its address is the hash of these bytes). */
  readonly manifest: Uint8Array
}

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
 * expiry); a write can wait for N replicas (it resolves at the N-th
 * acknowledgement; the put goes on to the other closest peers); a read
 * that misses locally can fetch from the DHT (it answers with the first
 * replicas' state; what later replicas add is applied as it comes); the
 * manifest is stored so that peers can open the database by its address.
 */
export class DurableRecords {
  readonly store: DhtStore
  readonly #source: DurableSource
  readonly #online: () => boolean
  /** Records written while offline, or whose puts gave up: put again once a peer connects. */
  readonly #parked = new Map<string, { collection: string, id: string | null }>()
  /** Records written in the last moment, handed to the queue together after a short delay. */
  readonly #due = new Map<string, { collection: string, id: string | null }>()
  #dueTimer: ReturnType<typeof setTimeout> | undefined
  /** Whether a DHT peer acknowledged the manifest, and the put of it under way. */
  #announced = false
  #announcing: Promise<void> | undefined
  /** Applies of states that DHT reads found after they had answered (`stop` awaits them). */
  readonly #applying = new Set<Promise<void>>()

  constructor (
    dht: KadDHT, source: DurableSource, security: ReplicaSecurity, online: () => boolean, onRejected: (event: RejectedEvent) => void, options: DhtStoreOptions = {}
  ) {
    this.#source = source
    this.#online = online
    this.store = new DhtStore(dht, source.address, options, security)
    this.store.on('failed', (e) => {
      if (e.retryIn === undefined) this.#parked.set(refKey(e.collection, e.id), { collection: e.collection, id: e.id })
    })
    this.store.on('rejected', (e) => { onRejected({ reason: e.reason, via: 'dht' }) })
    // What replicas answering after a read resolved add: applied like the read's own state.
    this.store.on('late', (e) => {
      const update = e.id === null
        ? { collection: e.collection, target: 'index' as const, update: e.state }
        : { collection: e.collection, target: 'record' as const, id: e.id, update: e.state }
      const applying = source.apply(update).then(() => {}, (error: unknown) => {
        // A database closing refuses it: nothing to report then.
        if ((error as Error).name !== 'DatabaseClosedError') onRejected({ reason: `${(error as Error).name}: ${(error as Error).message}`, via: 'dht' })
      }).finally(() => { this.#applying.delete(applying) })
      this.#applying.add(applying)
    })
  }

  /** Puts not yet done in the DHT. */
  get pending (): number {
    return this.store.pending + this.#due.size
  }

  /** Stores the manifest block (in the background). */
  announce (): void {
    if (this.#announcing !== undefined) return
    this.#announcing = this.store.putUpdate(this.#source.manifest)
      .then(({ acknowledged }) => { this.#announced ||= acknowledged > 0 }, () => {})
      .finally(() => { this.#announcing = undefined })
  }

  /** Puts a record (or, with `id` null, the collection index) in the background; offline, once online again. */
  schedule (collection: string, id: string | null): void {
    if (!this.#online()) {
      this.#parked.set(refKey(collection, id), { collection, id })
      return
    }
    this.#parked.delete(refKey(collection, id))
    // Starting a DHT put a moment later leaves the CPU to live gossip first,
    // and coalesces bursts of writes.
    this.#due.set(refKey(collection, id), { collection, id })
    this.#dueTimer ??= setTimeout(() => { this.#handOver() }, PUT_DELAY)
  }

  #handOver (): void {
    clearTimeout(this.#dueTimer)
    this.#dueTimer = undefined
    for (const { collection, id } of this.#due.values()) this.store.schedule(collection, id, async () => this.#state(collection, id))
    this.#due.clear()
  }

  /** Schedules the records parked while offline (call when a peer connects). */
  resume (): void {
    if (!this.#online()) return
    // A database opened offline put its manifest nowhere but here: put it where peers can find it.
    if (!this.#announced) this.announce()
    for (const { collection, id } of [...this.#parked.values()]) this.schedule(collection, id)
  }

  /**
   * Puts a record and, with it, its collection's index, and resolves once
   * `replicas` DHT peers acknowledged each: the puts go on to the other
   * closest peers in the background (counted in `pending`; `stop` gives
   * them its timeout, then ends them).
   * @throws {DurabilityError} fewer peers acknowledged in time
   */
  async ensure (collection: string, id: string, options: ReplicasOptions): Promise<void> {
    const put = { replicas: options.replicas, timeout: options.timeout ?? 15_000 }
    // Both heads are put at once, each state loaded when its put's turn comes
    // (so that it is never older than a background put of the same record's).
    const tasks: Array<Promise<number>> = [this.store.putRecord(collection, null, async () => this.#source.indexDiff(collection, EMPTY_STATE_VECTOR), put)]
    if (await this.#source.recordDiff(collection, id, EMPTY_STATE_VECTOR) !== undefined) {
      tasks.push(this.store.putRecord(collection, id, async () => await this.#state(collection, id), put))
    }
    const results = await Promise.allSettled(tasks)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  /**
   * Fetches a record and its collection's index from the DHT and applies
   * them. Resolves whether anything was found: each read resolves with
   * the first replicas' state, and the lookups go on — heads that replicas
   * answering later add are applied as they come (`late` events).
   */
  async fetch (collection: string, id: string, timeout: number): Promise<boolean> {
    const [index, record] = await Promise.all([
      this.store.getRecord(collection, null, { timeout }).catch(() => undefined),
      this.store.getRecord(collection, id, { timeout }).catch(() => undefined)
    ])
    if (record !== undefined) await this.#source.apply({ collection, target: 'record', id, update: record })
    if (index !== undefined) await this.#source.apply({ collection, target: 'index', update: index })
    return record !== undefined
  }

  /** Waits (at most `timeout` ms) for queued puts and background work (the rest of durable puts, of reads), then stops. */
  async stop (timeout: number): Promise<void> {
    this.#handOver()
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([this.store.flush(), new Promise<void>((resolve) => { timer = setTimeout(() => { resolve() }, timeout) })])
    clearTimeout(timer)
    await this.store.stop()
    while (this.#applying.size > 0) await Promise.all([...this.#applying])
  }

  async #state (collection: string, id: string | null): Promise<Uint8Array> {
    if (id === null) return this.#source.indexDiff(collection, EMPTY_STATE_VECTOR)
    const state = await this.#source.recordDiff(collection, id, EMPTY_STATE_VECTOR)
    if (state !== undefined) return state
    // Deleted since: the index carries the tombstone.
    this.store.forget(collection, id)
    return EMPTY_UPDATE
  }
}

function refKey (collection: string, id: string | null): string {
  return id === null ? `${collection}/` : `${collection}/${id}`
}

/**
 * Fetches a database's manifest by its address from the DHT (the block is
 * checked against its hash, so the bytes are the ones the address names).
 * @throws {NotFoundError} no peer holds the manifest
 * @throws {InvalidArgumentError} the address is not a database address
 */
export async function fetchManifest (dht: KadDHT, address: string, timeout = 15_000): Promise<Uint8Array> {
  let cid: CID
  try {
    cid = CID.parse(address)
  } catch (cause) {
    throw new InvalidArgumentError(`"${address}" is not a database address`, { cause })
  }
  const store = new DhtStore(dht, address, { queryTimeout: timeout })
  try {
    const bytes = await store.getPart([cid.multihash.digest])
    if (bytes === undefined) throw new NotFoundError('manifests', address)
    return bytes
  } finally {
    await store.stop()
  }
}
