/**
 * The layout of a database in its {@link StorageAdapter}:
 *
 * | key | value |
 * | --- | --- |
 * | `meta` | CBOR `{ name, format }` |
 * | `n/<collection>` | empty: the collections the database holds |
 * | `c/<collection>/i/s` | the collection index: Yjs snapshot |
 * | `c/<collection>/i/u/<seq>` | the collection index: Yjs updates since |
 * | `c/<collection>/d/<id>/s` | a record: Yjs snapshot |
 * | `c/<collection>/d/<id>/u/<seq>` | a record: Yjs updates since the snapshot |
 * | `c/<collection>/r/<id>` | a record's fields as CBOR (the materialized row, for queries) |
 * | `c/<collection>/v/<id>` | a record's digest (state vector and hash), for catch-up |
 * @module
 */

/** The key of the database's metadata. */
export const META_KEY = 'meta'

/** Storage keys of one collection. */
export class CollectionKeys {
  readonly base: string
  constructor (collection: string) {
    this.base = `c/${collection}/`
  }

  /** Prefix of the index's snapshot and log: one scan reads both. */
  get index (): string { return `${this.base}i/` }
  get indexSnapshot (): string { return `${this.base}i/s` }
  get indexUpdates (): string { return `${this.base}i/u/` }
  /** Prefix of every record's snapshot and log. */
  get docs (): string { return `${this.base}d/` }
  /** Prefix of one record's snapshot and log: one scan reads both. */
  doc (id: string): string { return `${this.base}d/${id}/` }
  get rows (): string { return `${this.base}r/` }
  snapshot (id: string): string { return `${this.base}d/${id}/s` }
  updates (id: string): string { return `${this.base}d/${id}/u/` }
  row (id: string): string { return `${this.base}r/${id}` }
  get digests (): string { return `${this.base}v/` }
  digest (id: string): string { return `${this.base}v/${id}` }
}

/**
 * Makes keys that are unique across processes and sessions for update-log
 * entries. Yjs updates commute, so their order in storage does not matter;
 * only uniqueness does.
 */
export class SequenceKeys {
  readonly #session: string
  #counter = 0
  constructor () {
    const random = crypto.getRandomValues(new Uint8Array(6))
    this.#session = Date.now().toString(36) + Array.from(random, (b) => b.toString(36).padStart(2, '0')).join('') + '.'
  }

  next (): string {
    return this.#session + (this.#counter++).toString(36)
  }
}
