/**
 * `@kadmium/core`: typed collections of Yjs records, local-first, with
 * queries and live subscriptions. Platform-neutral: storage (and, later,
 * the network) come from an adapter such as `@kadmium/node`.
 * @module
 */
export { createDatabase, Database } from './database.ts'
export type { DatabaseOptions, DatabaseEvents, DatabaseStatus, RemoteUpdate } from './database.ts'
export { Collection } from './collection.ts'
export type { InvalidRecord } from './collection.ts'
export type { CollectionOptions, CollectionType, CollectionInput, InsertOptions, WriteOptions, GetOptions, Durability, Row, StringField } from './collection.ts'
export type { ChangeEvent, UpdateEvent, Origin, WriteMode } from './store-types.ts'
export type { Query, Where, OrderBy, FieldOperators } from './query.ts'
export type { StorageAdapter, BatchOperation, ScanOptions } from './storage.ts'
export { PREFIX_END } from './storage.ts'
export { memoryStorage } from './memory-storage.ts'
export { newId, MAX_ID_LENGTH } from './ids.ts'
export { TypedEmitter, KadmiumEvent } from './events.ts'
export type { Unsubscribe } from './events.ts'
export type { StandardSchemaV1, InferInput, InferOutput } from './schema.ts'
export type { StoredValue, StoredObject } from './values.ts'
export { ROOT as RECORD_ROOT } from './yjs-mapping.ts'
export * from './errors.ts'
export type { Peer, KadmiumServices, KadmiumLibp2p } from './network/peer.ts'
export { PING_STREAMS } from './network/peer.ts'
export { dhtValidators, dhtSelectors } from './dht/validators.ts'
export { DHT_PROTOCOL, BLOCK_NS, HEAD_NS } from './dht/keys.ts'
export type { SyncEvent, RejectedEvent, ReplicationOptions } from './network/replicator.ts'
export type { DhtStoreOptions } from './dht/dht-store.ts'
export type { EncryptionOptions } from './crypto/secret.ts'
export type { AccessOptions } from './security/setup.ts'
export type { DatabaseAccess } from './security/database-access.ts'
export { useSignatureEngine, webSignatureEngine, ed25519Pkcs8, ED25519_PKCS8_PREFIX, ED25519_SPKI_PREFIX } from './security/ed25519.ts'
export type { SignatureEngine } from './security/ed25519.ts'
