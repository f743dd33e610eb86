/**
 * What a database is given and what it reports: the options of
 * `createDatabase`, its events, the options of applying a peer's update,
 * and its status.
 * @module
 */
import type { ChangeEvent, UpdateEvent } from './store/types.ts'
import type { SharedStorage, StorageAdapter } from './storage/storage.ts'
import type { Peer } from './peer/peer.ts'
import type { DhtStatus, ReplicationOptions } from './replication/replicator.ts'
import type { RejectedEvent, SyncEvent } from './replica/replica.ts'
import type { EncryptionOptions } from './crypto/secret.ts'
import type { AccessOptions } from './manifest/setup.ts'
import type { PresenceOptions, PresenceState } from './presence/presence.ts'

/**
 * Options of {@link createDatabase}. `P` is the type of the peers'
 * presence states (`db.presence`), from `presence.schema` or given.
 */
export interface DatabaseOptions<P extends object = PresenceState> {
  /**
   * The database's name; storage that holds another database is refused.
   * Give `name` or `address`.
   */
  readonly name?: string
  /**
   * The address of a database another peer shares (`db.address`): its
   * manifest (name, owners, encryption) is read from the network, which
   * needs `peer` — from connected peers that have the database open, the
   * DHT, or the peers the DHT names as its holders, whichever answers
   * first. Peers still connecting (bootstrap dials just after `nodePeer()`)
   * are waited for, up to `openTimeout`.
   */
  readonly address?: string
  /**
   * Opening by `address`: how long to wait for the manifest (ms). Then the
   * open rejects with `PeersUnreachableError` if no peer could be reached,
   * or `DatabaseNotFoundError` if peers were reached but none has the
   * database. @default 15000
   */
  readonly openTimeout?: number
  /**
   * Where the database lives on this device (`memoryStorage()`, or an
   * adapter's: LevelDB, IndexedDB). @default the peer's storage for this database
   */
  readonly storage?: StorageAdapter
  /**
   * The libp2p peer to replicate through (`nodePeer()` from `@kadmium/node`,
   * `browserPeer()` from `@kadmium/browser`). Without one the database is
   * local only.
   */
  readonly peer?: Peer
  /** Timing of replication, when there is a peer. */
  readonly replication?: ReplicationOptions
  /**
   * A restricted database: only its owners and the writers they grant
   * (`db.access.grant`) may write; every peer drops everyone else's
   * updates. The owners are part of the address. @default open: anyone may write
   */
  readonly access?: AccessOptions
  /**
   * End-to-end encryption: `{ key }` (32 random bytes) or `{ passphrase }`.
   * Updates on the wire, DHT blocks and heads are sealed with AES-GCM, and
   * DHT keys are keyed pseudonyms, so peers without the key (DHT peers that
   * store the data) see ciphertext only. Part of the address. Data on this
   * device is not encrypted.
   */
  readonly encryption?: EncryptionOptions
  /**
   * The storage is written by other databases at the same time (browser
   * tabs of one origin, each with the same IndexedDB database open:
   * `@kadmium/browser`'s tabs do this), and this is how they take turns.
   * Compactions of update logs then run as exclusive work, folding in
   * what the others stored; a record is loaded from its whole stored log;
   * and an update another of them sends (`applyRemoteUpdate`), found
   * already stored, is shown all the same. @default not shared
   */
  readonly sharedStorage?: SharedStorage
  /** Records' `Y.Doc`s kept in memory at most per collection (more are loaded on demand). @default 1000 */
  readonly cacheSize?: number
  /** Compact a record's update log into one snapshot once it holds this many updates. @default 64 */
  readonly compactEvery?: number
  /** Largest record accepted, in bytes of its encoded fields. @default 16 MiB */
  readonly maxRecordBytes?: number
  /** Presence (`db.presence`): the schema of the states, the heartbeat, the expiry. */
  readonly presence?: PresenceOptions<P>
}

/** The events of a {@link Database}. */
export interface DatabaseEvents {
  /** A record was inserted, updated or deleted, here (`origin: 'local'`) or by a peer. */
  change: ChangeEvent
  /** A Yjs update was committed to storage: what a network layer sends to peers. */
  update: UpdateEvent
  /** Background work (compaction, a live query's load) failed. */
  error: Error
  /** A catch-up session with a peer started, progressed, ended or failed. */
  sync: SyncEvent
  /** Input from the network was refused (nothing changed), or left a record failing its schema (`via: 'schema'`). */
  rejected: RejectedEvent
  /** The access list changed (a writer was granted or revoked, here or by a peer). */
  access: {
    /** Owners and granted writers now, as peer ids. */
    readonly writers: readonly string[]
  }
}

/** Options of {@link Database.applyRemoteUpdate}. */
export interface ApplyOptions {
  /**
   * Hands the update to replication as this peer's own, so that its peers
   * hear of it: an update another database on this device's storage made
   * (another tab, which has no network of its own). @default false
   */
  readonly publish?: boolean
}

/** What {@link Database.status} reports. */
export interface DatabaseStatus {
  /** Whether the database is open. */
  readonly open: boolean
  /** Whether the peer has a connection to any other peer (always false without a peer). */
  readonly online: boolean
  /** Connected peers that replicate this database. */
  readonly peers: number
  /** Writes not yet durable on the device, or not yet put in the DHT. */
  readonly pendingWrites: number
  /** The database's DHT records (with a peer): puts waiting, parked or given up, records kept for republishing, the next republish. */
  readonly dht?: DhtStatus
  /** When the last catch-up session with a peer ended well. */
  readonly lastSync: Date | undefined
  /**
   * Live envelopes from peers dropped unapplied since the database opened,
   * because too many arrived at once or their author was over its apply
   * budget. A catch-up with the peer follows and brings what they carried.
   */
  readonly droppedEnvelopes: number
}
