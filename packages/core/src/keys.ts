/**
 * The layout of a database in its {@link StorageAdapter}:
 *
 * | key | value |
 * | --- | --- |
 * | `meta` | CBOR `{ name, format }` |
 * | `c/<collection>/i/s` | the collection index: Yjs snapshot |
 * | `c/<collection>/i/u/<seq>` | the collection index: Yjs updates since |
 * | `c/<collection>/s/<id>` | a record: Yjs snapshot |
 * | `c/<collection>/u/<id>/<seq>` | a record: Yjs updates since the snapshot |
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

  get indexSnapshot (): string { return `${this.base}i/s` }
  get indexUpdates (): string { return `${this.base}i/u/` }
  get rows (): string { return `${this.base}r/` }
  snapshot (id: string): string { return `${this.base}s/${id}` }
  updates (id: string): string { return `${this.base}u/${id}/` }
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
