/**
 * The one interface through which replication attaches to a database, as
 * a Yjs provider attaches to a document: the database hands out its local
 * updates (to the {@link ReplicaLink} attached) and takes remote ones
 * ({@link Replica.apply}); catch-up reads what it holds through digests
 * and diffs. Gossip, catch-up sessions and the DHT all work through it,
 * and nothing below it knows of the network.
 * @module
 */
import type { Digest } from '../store/digest.ts'
import type { ApplyMeter } from '../store/apply-meter.ts'
import type { AppliedRecords, Refusal, RemoteRecord } from '../store/remote-apply.ts'
import type { UpdateEvent } from '../store/types.ts'

export type { AppliedRecords, Refusal, RemoteRecord }

/** A Yjs update (or an access operation) from a peer. */
export interface RemoteUpdate {
  /** The collection it belongs to. */
  readonly collection: string
  /** `record`: an update of record `id`'s document; `index`: of the collection's index. */
  readonly target: 'record' | 'index'
  /** The record id, for `target: 'record'`. */
  readonly id?: string
  /** The Yjs update, as the peer sent it. */
  readonly update: Uint8Array
}

/** What replication attached to a {@link Replica} is handed. */
export interface ReplicaLink {
  /**
   * A local update, handed over as it is made, before it is stored (if
   * storing fails, catch-up brings it back from peers). Returns whether a
   * peer listens: the writer then yields once, so that the send reaches
   * the socket before the rest of the write runs.
   */
  local (update: UpdateEvent): boolean
}

/**
 * A database as replication sees it: named parts (its collections, and
 * the access list of a restricted database), each a set of records and an
 * index, with digests and diffs for catch-up.
 */
export interface Replica {
  /** The database's address (the hash of its manifest). */
  readonly address: string
  /** The database's manifest. */
  readonly manifest: Uint8Array
  /** Attaches replication: it is handed every local update from now on. Returns what detaches it. */
  attach (link: ReplicaLink): () => void
  /** The parts to replicate, those that {@link Replica.decides} first. */
  collections (): Promise<string[]>
  /** Whether it holds nothing at all (no record, no index entry, no access operation): a new replica. */
  holdsNothing (): Promise<boolean>
  /**
   * Whether a part decides who may write (the access list): a peer's
   * updates of it are applied before the rest of what arrives with them.
   */
  decides (collection: string): boolean
  /** Whether a part's states are put in the DHT record by record (Yjs documents are; access operations go as one record of them all). */
  durable (collection: string): boolean
  digests (collection: string): Promise<ReadonlyMap<string, Digest>>
  indexDigest (collection: string): Promise<Digest>
  indexDiff (collection: string, sv: Uint8Array): Promise<Uint8Array>
  recordDiff (collection: string, id: string, sv: Uint8Array): Promise<Uint8Array | undefined>
  storedUpdates (collection: string, ids: ReadonlySet<string>): AsyncIterable<[string, Uint8Array[]]>
  /**
   * Applies a peer's update; resolves whether it changed anything.
   * `meter` (live updates) counts the time spent computing on it, and notes gaps.
   * @throws {MalformedUpdateError} the bytes are refused; nothing changed
   */
  apply (update: RemoteUpdate, meter?: ApplyMeter): Promise<boolean>
  /**
   * Applies many records a peer sent whole (a catch-up's), each with its
   * updates: records new here are stored together. Resolves once they
   * show, with the updates refused (they changed nothing) and a promise of
   * their storing.
   */
  applyRecords (collection: string, records: readonly RemoteRecord[]): Promise<AppliedRecords>
  /** Whether a record (without `id`: the collection index) still waits for an earlier update (a gap a catch-up fills). */
  waiting (collection: string, id?: string): boolean
  /** A time replication noted in storage under `name` (ms since 1970), if any (see {@link Replica.note}). */
  noted (name: string): Promise<number | undefined>
  /** Notes a time in storage, so that replication finds it after a restart (how far republishing went). */
  note (name: string, time: number): Promise<void>
}

/** Progress of a catch-up session with one peer. */
export interface SyncEvent {
  /** The peer, as a string peer id. */
  readonly peer: string
  /** `start`, then `progress` as updates arrive, then `done`, or `error` if the session failed. */
  readonly phase: 'start' | 'progress' | 'done' | 'error'
  /** Updates from the peer applied so far. */
  readonly done: number
  /** Updates the peer announced. */
  readonly total: number
  /** Why the session failed, for `phase: 'error'`. */
  readonly error?: Error
}

/** Input from the network that was refused (and changed nothing). */
export interface RejectedEvent {
  /** `ErrorName: message` of why. */
  readonly reason: string
  /**
   * Where it came from: the live topic, a catch-up session, the DHT, or
   * the presence topic — input refused, nothing changed — or `schema`: a peer's change was merged (the
   * CRDT keeps replicas converging) but left the record failing its
   * collection's schema, so reads skip it (see `collection.invalid()`).
   */
  readonly via: 'gossip' | 'sync' | 'dht' | 'presence' | 'schema'
  /** The peer that sent it, when known. */
  readonly peer?: string
  /** The collection concerned, when known. */
  readonly collection?: string
  /** The record concerned, when known. */
  readonly id?: string
}
