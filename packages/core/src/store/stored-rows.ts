/**
 * Reading a collection's rows: from the cached documents where they are,
 * else from storage.
 * @module
 */
import type { DocCache } from './doc-cache.ts'
import type { CollectionKeys } from '../storage/layout.ts'
import type { Row } from '../query/query.ts'
import { decodeFields, makeRow } from '../query/row.ts'
import type { CheckedRow, RowChecks } from '../query/row-check.ts'
import type { StorageAdapter } from '../storage/storage.ts'
import type { UnstoredRecords } from './unstored-records.ts'

/**
 * The rows of one collection's records as reads see them: a cached
 * document's row is the newest (storage may not hold it yet: see
 * {@link UnstoredRecords}); other rows are read from storage.
 */
export class StoredRows {
  readonly #storage: StorageAdapter
  readonly #keys: CollectionKeys
  readonly #docs: DocCache
  readonly #unstored: UnstoredRecords
  readonly #shown: ReadonlyMap<string, Row>
  readonly #checks: RowChecks

  /** `shown`: rows shown whose records storage does not hold yet, and not cached (a catch-up's, stored a moment after they show). */
  constructor (storage: StorageAdapter, keys: CollectionKeys, docs: DocCache, unstored: UnstoredRecords, shown: ReadonlyMap<string, Row>, checks: RowChecks) {
    this.#storage = storage
    this.#keys = keys
    this.#docs = docs
    this.#unstored = unstored
    this.#shown = shown
    this.#checks = checks
  }

  /** The row of record `id`, if it has one. */
  async row (id: string): Promise<Row | undefined> {
    const entry = this.#docs.peek(id)
    if (entry !== undefined) return entry.row
    const shown = this.#shown.get(id)
    if (shown !== undefined) return shown
    const bytes = await this.#storage.get(this.#keys.row(id))
    return bytes === undefined ? undefined : makeRow(id, decodeFields(bytes))
  }

  /** Every row of a record that `include` accepts, checked against the schema: one scan of storage. */
  async * all (include: (id: string) => boolean): AsyncGenerator<CheckedRow> {
    const prefix = this.#keys.rows
    // Rows that storage does not hold yet (or holds as they were) are read last, from their documents:
    // those waiting now (storing them while the scan runs could put them behind it), and those the scan meets.
    const later = new Set<string>()
    for (const entry of this.#unstored.records()) later.add(entry.id)
    for (const id of this.#shown.keys()) later.add(id)
    for await (const [key, bytes] of this.#storage.scan(prefix)) {
      const id = key.slice(prefix.length)
      if (!include(id)) continue
      if (this.#unstored.has(id) || this.#shown.has(id)) {
        later.add(id)
        continue
      }
      const checked = this.#checks.of(this.#docs.peek(id)?.row ?? makeRow(id, decodeFields(bytes)))
      yield checked instanceof Promise ? await checked : checked
    }
    for (const entry of this.#unstored.records()) later.add(entry.id)
    for (const id of this.#shown.keys()) later.add(id)
    for (const id of later) {
      const row = include(id) ? await this.row(id) : undefined
      const checked = row === undefined ? undefined : this.#checks.of(row)
      if (checked !== undefined) yield checked instanceof Promise ? await checked : checked
    }
  }
}
