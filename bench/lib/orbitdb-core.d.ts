/**
 * The part of `@orbitdb/core` 4 (plain JavaScript, no types of its own)
 * that the OrbitDB baseline uses: createOrbitDB, open, a documents
 * database's put and all, its update events, close and stop.
 */
declare module '@orbitdb/core' {
  import type { EventEmitter } from 'node:events'

  /** What OrbitDB needs of IPFS: a Helia node (blockstore, pins, libp2p with pubsub). */
  export interface OrbitIpfs {
    readonly libp2p: unknown
    readonly blockstore: unknown
  }

  export interface OrbitDBOptions {
    readonly ipfs: OrbitIpfs
    /** Where OrbitDB keeps its keystore and its databases' LevelDB stores. @default './orbitdb' */
    readonly directory?: string
    readonly id?: string
  }

  export interface OpenOptions {
    readonly type?: 'events' | 'documents' | 'keyvalue' | 'keyvalue-indexed'
    /** Sync with peers automatically. @default true */
    readonly sync?: boolean
    readonly referencesCount?: number
  }

  export interface DocumentEntry<T> {
    readonly hash: string
    readonly key: string
    readonly value: T
  }

  export interface DocumentsDatabase<T> {
    readonly address: string
    readonly name: string
    readonly events: EventEmitter
    put (doc: T): Promise<string>
    get (key: string): Promise<DocumentEntry<T> | undefined>
    all (): Promise<Array<DocumentEntry<T>>>
    close (): Promise<void>
    drop (): Promise<void>
  }

  export interface OrbitDB {
    readonly id: string
    readonly directory: string
    open<T = Record<string, unknown>> (address: string, options?: OpenOptions): Promise<DocumentsDatabase<T>>
    stop (): Promise<void>
  }

  export function createOrbitDB (options: OrbitDBOptions): Promise<OrbitDB>
}
