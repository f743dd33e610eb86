/**
 * Named error classes of `@kadmium/core`. Tell them apart by `name` (or
 * `instanceof`), never by message text: messages are for people.
 * @module
 */

/** Base class of every error Kadmium throws on purpose. */
export class KadmiumError extends Error {
  /** The error's class name (`'NotFoundError'`, ...): stable, unlike the message; test it, or use `instanceof`. */
  override name = 'KadmiumError'
}

/** One failing field of a value checked against a collection's schema. */
export interface ValidationIssue {
  /** Dotted path of the failing field (`''` for the value as a whole). */
  readonly path: string
  /** What the schema library said about it. */
  readonly message: string
}

/** A value did not pass the collection's schema; nothing was written. */
export class ValidationError extends KadmiumError {
  override name = 'ValidationError'
  /** Every failing field, as the schema library reported it. */
  readonly issues: readonly ValidationIssue[]
  constructor (collection: string, issues: readonly ValidationIssue[]) {
    const fields = issues.map((i) => `${i.path === '' ? '(value)' : i.path}: ${i.message}`).join('; ')
    super(`invalid value for collection "${collection}": ${fields}`)
    this.issues = issues
  }
}

/** No live record has this id in the collection. */
export class NotFoundError extends KadmiumError {
  override name = 'NotFoundError'
  /** The id that was looked for. */
  readonly id: string
  constructor (collection: string, id: string) {
    super(`no record "${id}" in collection "${collection}"`)
    this.id = id
  }
}

/** `insert` with an id that a live record already has. */
export class DuplicateIdError extends KadmiumError {
  override name = 'DuplicateIdError'
  /** The id that is taken. */
  readonly id: string
  constructor (collection: string, id: string) {
    super(`record "${id}" already exists in collection "${collection}"`)
    this.id = id
  }
}

/**
 * The id belonged to a record that was deleted. Deletes are tombstones that
 * win over concurrent edits on every replica, so a deleted id is never reused.
 */
export class RecordDeletedError extends KadmiumError {
  override name = 'RecordDeletedError'
  /** The deleted id. */
  readonly id: string
  constructor (collection: string, id: string) {
    super(`record "${id}" of collection "${collection}" was deleted; deleted ids are not reused`)
    this.id = id
  }
}

/** An argument is malformed: a bad id, collection name, query or option. */
export class InvalidArgumentError extends KadmiumError {
  override name = 'InvalidArgumentError'
}

/**
 * A query given to `find`, `count` or `subscribe` is malformed: not an
 * object, an unknown option, an unknown operator, an operator value of the
 * wrong type, an unknown field (when the schema tells the fields), a bad
 * `orderBy` item or direction, a bad `limit` or `offset`. Nothing was read.
 * TypeScript callers are stopped by the types already; this is for
 * JavaScript callers and `as any`. It is an {@link InvalidArgumentError}.
 *
 * @example
 * ```ts
 * await todos.find({ where: { done: { like: 1 } } })
 * // QueryError: invalid query on collection "todos": where field "done": unknown operator "like" (...)
 * ```
 */
export class QueryError extends InvalidArgumentError {
  override name = 'QueryError'
  /** Where in the query the mistake is: `where.done.like`, `orderBy[1].direction`, `limit`, `''` (the query itself), ... */
  readonly path: string
  /** The field the mistake is about, if any. */
  readonly field: string | undefined
  /** The operator the mistake is about, if any. */
  readonly operator: string | undefined
  constructor (message: string, where: { readonly path: string, readonly field?: string, readonly operator?: string, readonly collection?: string }) {
    super(`invalid query${where.collection === undefined ? '' : ` on collection "${where.collection}"`}: ${message}`)
    this.path = where.path
    this.field = where.field
    this.operator = where.operator
  }
}

/** A value cannot be stored in a record (a function, a cycle, a class instance, ...). */
export class UnsupportedValueError extends KadmiumError {
  override name = 'UnsupportedValueError'
  /** Dotted path of the offending field. */
  readonly path: string
  constructor (path: string, what: string) {
    super(`field "${path === '' ? '(value)' : path}" holds ${what}, which a record cannot store`)
    this.path = path
  }
}

/** A write would make a record larger than the database's `maxRecordBytes`; nothing was written. */
export class RecordTooLargeError extends KadmiumError {
  override name = 'RecordTooLargeError'
  /** Size of the record, in bytes. */
  readonly bytes: number
  /** The limit in force. */
  readonly limit: number
  constructor (bytes: number, limit: number) {
    super(`a record of ${bytes} bytes exceeds the limit of ${limit} bytes`)
    this.bytes = bytes
    this.limit = limit
  }
}

/**
 * A presence state cannot be announced: not a plain object of storable
 * values, larger than 8 KiB encoded, or failing the database's presence
 * schema. Nothing was announced.
 */
export class PresenceError extends InvalidArgumentError {
  override name = 'PresenceError'
}

/** The database was closed; open it again to use it. */
export class DatabaseClosedError extends KadmiumError {
  override name = 'DatabaseClosedError'
  constructor () {
    super('the database is closed')
  }
}

/** The storage holds another database than the one asked for. */
export class DatabaseMismatchError extends KadmiumError {
  override name = 'DatabaseMismatchError'
}

/** A collection was opened twice with different options. */
export class CollectionConflictError extends KadmiumError {
  override name = 'CollectionConflictError'
}

/** Bytes from outside (a remote peer, storage) could not be decoded; nothing was applied. */
export class MalformedUpdateError extends KadmiumError {
  override name = 'MalformedUpdateError'
}

/** The storage adapter failed; the write did not happen. */
export class StorageError extends KadmiumError {
  override name = 'StorageError'
}

/**
 * The device has no room for the write: the disk (or the user's quota) is
 * full, or a file reached the size limit the process runs under. The write
 * did not happen; what was stored before is intact and stays readable.
 * Free some space: with Node's LevelDB storage, writes go on once there is
 * room, except after LevelDB itself could not write (the message says so),
 * when they go on once the database is closed and opened again — the writes
 * that had resolved are kept meanwhile. It is a {@link StorageError}; a
 * database's write that fails for it rejects with a `StorageError` whose
 * `cause` is this one.
 */
export class StorageFullError extends StorageError {
  override name = 'StorageFullError'
}

/**
 * The files of a storage are damaged (cut short, overwritten, or
 * missing) and cannot be trusted: what they held cannot all be read. Node's
 * LevelDB storage finds it when it opens a directory; `location` is the
 * directory. A peer's storage sets the damaged files aside and starts empty,
 * to be refilled by catch-up from other peers. It is a {@link StorageError}.
 */
export class StorageCorruptionError extends StorageError {
  override name = 'StorageCorruptionError'
  /** Where the damaged storage is (a directory, for LevelDB). */
  readonly location: string
  constructor (location: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.location = location
  }
}

/** A message from a peer (gossip envelope or sync message) is malformed or too large; it was dropped. */
export class MalformedMessageError extends KadmiumError {
  override name = 'MalformedMessageError'
}

/** The catch-up protocol with a peer failed (refused, timed out, or broke off). */
export class SyncError extends KadmiumError {
  override name = 'SyncError'
}

/**
 * Fewer DHT peers than wanted acknowledged a write in time
 * (`durability: { replicas }`). The write is still stored on this device and
 * may still reach more peers later.
 */
export class DurabilityError extends KadmiumError {
  override name = 'DurabilityError'
  /** Peers that acknowledged the write (for a record: the fewest of its head and of each of its blocks). */
  readonly acknowledged: number
  /** Peers that were wanted. */
  readonly wanted: number
  constructor (acknowledged: number, wanted: number, options?: ErrorOptions) {
    super(`${acknowledged} DHT peer(s) acknowledged the write, ${wanted} wanted`, options)
    this.acknowledged = acknowledged
    this.wanted = wanted
  }
}

/**
 * Encrypted bytes could not be opened: the key is wrong or the ciphertext
 * was tampered with. Nothing was decrypted or applied.
 */
export class DecryptionError extends KadmiumError {
  override name = 'DecryptionError'
}

/** A signature is missing, malformed, or does not verify; the signed input was dropped. */
export class SignatureError extends KadmiumError {
  override name = 'SignatureError'
}

/** A write came from a key that may not write to this (restricted) database; it was not applied. */
export class UnauthorizedWriterError extends KadmiumError {
  override name = 'UnauthorizedWriterError'
  /** The writer's public key, base58btc (its libp2p peer id). */
  readonly writer: string
  constructor (writer: string, message = `"${writer}" may not write to this database`) {
    super(message)
    this.writer = writer
  }
}

/**
 * A record's stored data does not pass its collection's schema (it came
 * from a peer that wrote it with another schema, or a hostile one). The
 * record's CRDT is kept so that replicas still converge; reads skip it.
 */
export class InvalidRecordError extends KadmiumError {
  override name = 'InvalidRecordError'
  /** The collection of the record. */
  readonly collection: string
  /** The record's id. */
  readonly id: string
  /** What the schema reported. */
  readonly issues: readonly ValidationIssue[]
  constructor (collection: string, id: string, issues: readonly ValidationIssue[]) {
    super(`record "${id}" of "${collection}" does not pass the schema: ${issues.map((i) => `${i.path === '' ? '(value)' : i.path}: ${i.message}`).join('; ')}`)
    this.collection = collection
    this.id = id
    this.issues = issues
  }
}

/**
 * A peer used more than its share of this peer's time (its updates took
 * too long to apply); what it sends is dropped for a while. Catch-up
 * repairs what honest peers lost meanwhile.
 */
export class PeerThrottledError extends KadmiumError {
  override name = 'PeerThrottledError'
}

/**
 * Opening a database by address: no peer could be reached before the open
 * timed out (this device is offline, or its bootstrap peers are down).
 */
export class PeersUnreachableError extends KadmiumError {
  override name = 'PeersUnreachableError'
}

/**
 * Opening a database by address: peers were reached, but neither they nor
 * the DHT had the database's manifest before the open timed out.
 */
export class DatabaseNotFoundError extends KadmiumError {
  override name = 'DatabaseNotFoundError'
  /** The address that was looked for. */
  readonly address: string
  constructor (address: string, message?: string) {
    super(message ?? `no peer reached has the database at "${address}"`)
    this.address = address
  }
}

/**
 * An address given to a peer adapter (`nodePeer()`, `browserPeer()`) is not
 * one: a bootstrap address that does not parse as a multiaddr or lacks a
 * valid `/p2p/<peer id>`, or a listen or announce address that does not
 * parse. `address` is the text given; the message says what is wrong.
 */
export class AddressError extends InvalidArgumentError {
  override name = 'AddressError'
  /** The address as given. */
  readonly address: string
  constructor (address: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.address = address
  }
}

/**
 * A peer key could not be read, decoded or used: the stored key is not a
 * protobuf-encoded libp2p private key, or it is another identity than the
 * `privateKey` passed to the peer adapter.
 */
export class PeerKeyError extends KadmiumError {
  override name = 'PeerKeyError'
}

/** The peer was closed: it dials and opens no more storage. */
export class PeerClosedError extends KadmiumError {
  override name = 'PeerClosedError'
}
