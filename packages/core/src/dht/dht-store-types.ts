/**
 * The option and event types of the DHT record store (`dht-store.ts`), and
 * its option defaults.
 * @module
 */
import { systemClock, type Clock } from '../util/clock.ts'
import { MAX_PART_BYTES } from './blocks.ts'
/**
 * How a replicated database uses the DHT (`createDatabase({ replication:
 * { dht } })`): timeouts, sizes, retries and republishing. Every field is
 * optional.
 */
export interface DhtStoreOptions {
  /** Longest wait for one DHT query (one key's put or get), in ms. @default 10_000 */
  readonly queryTimeout?: number
  /** Most bytes fetched from the DHT for one record (all its parts), and largest state stored. At most 64 MiB. @default 64 MiB */
  readonly maxRecordBytes?: number
  /** Block queries in flight at once within one part. @default 4 */
  readonly blockConcurrency?: number
  /** Queued record puts running at once. @default 4 */
  readonly concurrency?: number
  /** Peers that must acknowledge a queued put for it to count as done (else it is retried). @default 1 */
  readonly queueReplicas?: number
  /** A scheduled record is put again this long after its last put (kad-dht drops values after 48 h), in ms. @default 22 h */
  readonly republishInterval?: number
  /** Delay before retrying a failed queued put, in ms; doubled for each further attempt. @default 1_000 */
  readonly retryDelay?: number
  /** Longest delay between retries, in ms. @default 60_000 */
  readonly maxRetryDelay?: number
  /** Attempts of a queued put before it is given up until its next schedule or republish. @default 6 */
  readonly maxAttempts?: number
  /** The clock republishing goes by (a test's lets simulated hours pass). @default systemClock */
  readonly clock?: Clock
}

/** The defaults of {@link DhtStoreOptions}. */
export const DHT_STORE_DEFAULTS = {
  queryTimeout: 10_000,
  maxRecordBytes: MAX_PART_BYTES,
  blockConcurrency: 4,
  concurrency: 4,
  queueReplicas: 1,
  republishInterval: 22 * 60 * 60 * 1000,
  retryDelay: 1000,
  maxRetryDelay: 60_000,
  maxAttempts: 6,
  clock: systemClock
} satisfies Required<DhtStoreOptions>

/** Options of one DHT operation. */
export interface DhtOperationOptions {
  /** Longest time for the whole operation, in ms (each query is also bounded by `queryTimeout`). */
  readonly timeout?: number
  /** Cancels the operation. */
  readonly signal?: AbortSignal
}

/** Options of {@link DhtStore.putRecord}. */
export interface PutRecordOptions extends DhtOperationOptions {
  /**
   * Resolve as soon as this many peers acknowledged the head and each
   * block (the rest of the put goes on in the background, see
   * `CompletedEvent`); reject with `DurabilityError` if fewer did in time.
   * Without it, the put resolves once it reached every closest peer.
   */
  readonly replicas?: number
}

/** Options of {@link DhtStore.getRecord}. */
export interface GetRecordOptions extends DhtOperationOptions {
  /** Repair the DHT when replicas lacked heads, or when many authors' heads call for a merged one (see `getRecord`). @default true */
  readonly readRepair?: boolean
  /**
   * Wait for the whole lookup, and merge every replica's heads, before
   * resolving (and await the read repair); else the read resolves with the
   * first replicas' heads and the rest come as `late` events. @default false
   */
  readonly complete?: boolean
}

/** Which record: a collection and a record id, or `id: null` for the collection's index. */
export interface RecordRef {
  readonly collection: string
  readonly id: string | null
}

/** Input from the network that was refused and skipped. */
export interface RejectedEvent extends Partial<RecordRef> {
  /** What was wrong, for people. */
  readonly reason: string
}

/** A queued put succeeded. */
export interface PublishedEvent extends RecordRef {
  /** Peers that acknowledged it (the fewest of its head and blocks). */
  readonly acknowledged: number
}

/** A queued put failed. */
export interface FailedEvent extends RecordRef {
  readonly error: unknown
  /** Attempts so far. */
  readonly attempt: number
  /** In how many ms it is retried; `undefined`: given up until the next schedule or republish. */
  readonly retryIn: number | undefined
}

/**
 * A read repaired the DHT: a replica lacked heads the others held (they
 * were put back), or no head held everything among many authors (a
 * merged head was put).
 */
export interface RepairedEvent extends RecordRef {
  /** Authors whose heads the read found (one head each). */
  readonly heads: number
  /** Peers that acknowledged the put (the fewest of its head and blocks). */
  readonly acknowledged: number
}

/**
 * The rest of a put with `replicas`, which resolved at its `replicas`-th
 * acknowledgement, ended: the head (and blocks) went on to the other
 * closest peers the lookup found. Not emitted once the store stopped.
 */
export interface CompletedEvent extends RecordRef {
  /** Peers that acknowledged in all (the fewest of its head and blocks). */
  readonly acknowledged: number
  /** Set when the rest failed; the put had resolved and stands (`replicas` peers hold it). */
  readonly error?: unknown
}

/**
 * A read that had resolved found more afterwards: heads from replicas
 * that answered later added to the state it resolved with, or one of them
 * is a tombstone. Apply `state` like the read's (or, `deleted`, delete). Not emitted once the store stopped.
 */
export interface LateEvent extends RecordRef {
  /** Everything the read merged so far: a full Yjs update of the record (or index); empty when `deleted`. */
  readonly state: Uint8Array
  /** A later head is a tombstone: the record was deleted (nothing later is reported). */
  readonly deleted: boolean
}

/** The events of a {@link DhtStore}. */
export interface DhtStoreEvents {
  rejected: RejectedEvent
  published: PublishedEvent
  failed: FailedEvent
  repaired: RepairedEvent
  completed: CompletedEvent
  late: LateEvent
}
