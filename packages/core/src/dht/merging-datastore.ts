/**
 * The datastore wrapper that makes a kad-dht server merge Kadmium heads
 * instead of replacing them. kad-dht 16 stores a value it accepted (a
 * `PUT_VALUE` from a peer, after its validator; its own `put`; a
 * "correction" of its `get`) with `datastore.put('/dht/record/<key>',
 * record)`, replacing what was there. Wrapped, a put of a record in
 * Kadmium's head namespace stores the merge of the stored head set and the
 * incoming heads instead (see `head-set.ts`), so that a writer can put its
 * own head without reading the others' first.
 * @module
 */
import { Libp2pRecord } from '@libp2p/record'
import type { Batch, Datastore, Key, KeyQuery, Pair, Query } from 'interface-datastore'
import type { AbortOptions } from '@libp2p/interface'
import { bytesEqual } from '../util/hash.ts'
import { KeyedLock } from '../util/lock.ts'
import { mergeHeadValues } from './head-set.ts'
import { HEAD_NS, parseKey } from './dht-keys.ts'

/** Options of {@link mergingDatastore}. */
export interface MergingDatastoreOptions {
  /** kad-dht's `datastorePrefix` (records live under `<prefix>/record/`). @default '/dht' */
  readonly datastorePrefix?: string
}

/**
 * Wraps libp2p's datastore so that the kad-dht server running on it keeps
 * every author's newest Kadmium head under a head key (merging each put
 * with what it stores) instead of the last value put. Everything else is
 * passed through unchanged. Give it to `createLibp2p({ datastore })` on
 * every peer that runs kad-dht as a server (browser peers are DHT clients
 * and need none).
 *
 * Hostile input never makes it throw: a stored value that is not a head
 * set is replaced; an incoming one with no well-formed head leaves the
 * stored set as it is (kad-dht's validator has refused it before, unless
 * it was told to accept anything).
 *
 * @example
 * ```ts
 * import { MemoryDatastore } from 'datastore-core'
 * const libp2p = await createLibp2p({ datastore: mergingDatastore(new MemoryDatastore()), ... })
 * ```
 */
export function mergingDatastore (inner: Datastore, options: MergingDatastoreOptions = {}): Datastore {
  return new HeadMergingDatastore(inner, options)
}

/** See {@link mergingDatastore}. */
export class HeadMergingDatastore implements Datastore {
  readonly #inner: Datastore
  readonly #prefix: string
  /** Puts of one record key run one at a time (each reads what the previous one stored). */
  readonly #lock = new KeyedLock()

  constructor (inner: Datastore, options: MergingDatastoreOptions = {}) {
    this.#inner = inner
    this.#prefix = `${options.datastorePrefix ?? '/dht'}/record/`
  }

  /** The wrapped datastore. */
  get inner (): Datastore {
    return this.#inner
  }

  async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    if (!this.#mayHoldHead(key)) return await this.#inner.put(key, value, options)
    return await this.#lock.run(key.toString(), async () => {
      return await this.#inner.put(key, await this.#merged(key, value, options), options)
    })
  }

  async * putMany (source: Iterable<Pair> | AsyncIterable<Pair>, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const { key, value } of source) yield await this.put(key, value, options)
  }

  get (key: Key, options?: AbortOptions): Uint8Array | Promise<Uint8Array> {
    return this.#inner.get(key, options)
  }

  getMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): Generator<Pair> | AsyncGenerator<Pair> {
    return this.#inner.getMany(source, options)
  }

  has (key: Key, options?: AbortOptions): boolean | Promise<boolean> {
    return this.#inner.has(key, options)
  }

  delete (key: Key, options?: AbortOptions): void | Promise<void> {
    return this.#inner.delete(key, options)
  }

  deleteMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): Generator<Key> | AsyncGenerator<Key> {
    return this.#inner.deleteMany(source, options)
  }

  query (query: Query, options?: AbortOptions): Generator<Pair> | AsyncGenerator<Pair> {
    return this.#inner.query(query, options)
  }

  queryKeys (query: KeyQuery, options?: AbortOptions): Generator<Key> | AsyncGenerator<Key> {
    return this.#inner.queryKeys(query, options)
  }

  /** A batch whose record puts are merged at commit (others go to the wrapped datastore's batch). */
  batch (): Batch {
    const inner = this.#inner.batch()
    const records: Pair[] = []
    return {
      put: (key, value) => {
        if (this.#mayHoldHead(key)) records.push({ key, value })
        else inner.put(key, value)
      },
      delete: (key) => { inner.delete(key) },
      commit: async (options) => {
        await inner.commit(options)
        for (const { key, value } of records) await this.put(key, value, options)
      }
    }
  }

  #mayHoldHead (key: Key): boolean {
    return key.toString().startsWith(this.#prefix)
  }

  /** What to store for a put of `value` under the record key `key`: the merge when it is a head, else `value`. */
  async #merged (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Uint8Array> {
    const incoming = record(value)
    if (incoming === undefined || parseKey(incoming.key)?.ns !== HEAD_NS) return value
    let stored: Uint8Array | undefined
    try {
      const held = record(await this.#inner.get(key, options))
      if (held !== undefined && bytesEqual(held.key, incoming.key)) stored = held.value
    } catch (error) {
      if (!(error instanceof Error && error.name === 'NotFoundError')) throw error
    }
    const merged = mergeHeadValues(stored, incoming.value)
    if (merged === undefined) return value
    const time = Number.isNaN(incoming.timeReceived.getTime()) ? new Date() : incoming.timeReceived
    return new Libp2pRecord(incoming.key, merged, time).serialize()
  }
}

/** A kad-dht record, or `undefined` if the bytes are not one. */
function record (bytes: Uint8Array): Libp2pRecord | undefined {
  try {
    return Libp2pRecord.deserialize(bytes)
  } catch {
    return undefined
  }
}
