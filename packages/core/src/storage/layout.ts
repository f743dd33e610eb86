/**
 * The layout of a database in its {@link StorageAdapter}:
 *
 * | key | value |
 * | --- | --- |
 * | `meta` | CBOR `{ name, format }` |
 * | `n/<collection>` | empty: the collections the database holds |
 * | `a/<id>` | an access operation (restricted databases) |
 * | `t/<name>` | a time replication noted (8 bytes: a float64, ms since 1970), e.g. `t/republished` |
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
 * entries: `<session>.<counter>`, the counter in base 36 padded to 8
 * digits, so that a log reads back in the order it was written. Yjs updates
 * commute, so the order does not change the result — but it changes the
 * cost: updates applied out of order wait in Yjs's pending queue, which is
 * re-merged on every later update (quadratic in the number of updates: a
 * long log read back out of order makes opening a collection slow).
 */
export class SequenceKeys {
  readonly #session: string
  #counter = 0
  constructor () {
    const random = crypto.getRandomValues(new Uint8Array(6))
    this.#session = Date.now().toString(36) + Array.from(random, (b) => b.toString(36).padStart(2, '0')).join('') + '.'
  }

  next (): string {
    return this.#session + (this.#counter++).toString(36).padStart(8, '0')
  }
}

/**
 * Orders update-log keys as they were written: by session, then by counter
 * as a number (logs written before the counter was padded sort right too).
 */
export function compareLogKeys (a: string, b: string): number {
  const i = a.lastIndexOf('.')
  const j = b.lastIndexOf('.')
  const sa = a.slice(0, i + 1)
  const sb = b.slice(0, j + 1)
  if (sa !== sb) return sa < sb ? -1 : 1
  const ca = a.slice(i + 1).replace(/^0+(?=.)/, '')
  const cb = b.slice(j + 1).replace(/^0+(?=.)/, '')
  if (ca.length !== cb.length) return ca.length - cb.length
  return ca < cb ? -1 : ca > cb ? 1 : 0
}
