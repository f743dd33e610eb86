/**
 * The IndexedDB database of a browser peer (through `idb`): its key, so
 * that a page keeps its identity (and its write permissions) across
 * reloads and browser restarts, and the manifests of the databases it
 * opened, so that they open by address again with no network.
 * @module
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import { StorageError } from '@kadmium/core'

/** The IndexedDB database a browser peer keeps its key and manifests in when given no other name. */
export const DEFAULT_PEER_STORE = 'kadmium-peer'

/** Where the key is, in the object store `keys`. */
export const PEER_KEY = 'peer-key'

/** What a peer store holds. */
interface Schema extends DBSchema {
  /** The peer key, under {@link PEER_KEY}: libp2p's protobuf form of the private key. */
  keys: { key: string, value: Uint8Array }
  /** Each manifest a database opened with, by the database's address. */
  manifests: { key: string, value: Uint8Array }
}

/** Schema version 1: the object stores `keys` and `manifests`. */
const VERSION = 1

/** An open peer store: see {@link openPeerStore}. */
export interface PeerStore {
  /** The stored bytes of `key` in object store `store`, if any. */
  get (store: 'keys' | 'manifests', key: string): Promise<Uint8Array | undefined>
  /** Stores `value` under `key`, replacing what was there. */
  put (store: 'keys' | 'manifests', key: string, value: Uint8Array): Promise<void>
  /** Stores `value` under `key` unless something is there already; resolves whether it did. */
  add (store: 'keys' | 'manifests', key: string, value: Uint8Array): Promise<boolean>
  /** Closes the connection (IndexedDB finishes the transactions under way first). */
  close (): void
}

/**
 * Opens (or creates) the peer store `name` of the page's origin. Rejects
 * with `StorageError` when IndexedDB is not there or refuses.
 */
export async function openPeerStore (name: string): Promise<PeerStore> {
  if (typeof indexedDB === 'undefined') throw new StorageError('IndexedDB is not available in this environment')
  let db: IDBPDatabase<Schema>
  try {
    db = await openDB<Schema>(name, VERSION, {
      upgrade: (database) => {
        if (!database.objectStoreNames.contains('keys')) database.createObjectStore('keys')
        if (!database.objectStoreNames.contains('manifests')) database.createObjectStore('manifests')
      },
      // Another tab wants to delete or upgrade the store: let it (this one's calls then fail with StorageError).
      blocking: (_current, _blocked, event) => { (event.target as IDBDatabase).close() }
    })
  } catch (cause) {
    throw new StorageError(`cannot open the peer store "${name}" in IndexedDB: ${reason(cause)}`, { cause })
  }
  const run = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call()
    } catch (cause) {
      throw new StorageError(`the peer store "${name}" could not ${what}: ${reason(cause)}`, { cause })
    }
  }
  return {
    get: async (store, key) => await run(`read ${store}/${key}`, async () => {
      const value: unknown = await db.get(store, key)
      if (value === undefined) return undefined
      if (!(value instanceof Uint8Array)) throw new TypeError(`${store}/${key} holds no bytes`)
      return value
    }),
    put: async (store, key, value) => {
      await run(`write ${store}/${key}`, async () => {
        const tx = db.transaction(store, 'readwrite', { durability: 'strict' })
        await Promise.all([tx.store.put(value.slice(), key), tx.done])
      })
    },
    add: async (store, key, value) => await run(`write ${store}/${key}`, async () => {
      const tx = db.transaction(store, 'readwrite', { durability: 'strict' })
      // One readwrite transaction: no other tab writes the store between the look and the write.
      const added = (await tx.store.getKey(key)) === undefined
      if (added) await tx.store.add(value.slice(), key)
      await tx.done
      return added
    }),
    close: () => { db.close() }
  }
}

function reason (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  return error.name !== 'Error' && !error.message.includes(error.name) ? `${error.name}: ${error.message}` : error.message
}
