import { LiveQuery } from './live-query.ts'
import { fieldOf, indexKey, type CompiledQuery, type Condition, type Row } from './query.ts'
import type { CheckedRow } from './row-check.ts'

/**
 * The rows of a collection's live records in memory, with equality indexes
 * built on first use and kept up to date, and the live queries that watch
 * them. Rows are frozen: they are handed to user code as they are.
 * Records that fail the schema are kept apart: queries never see them.
 */
export class RowView {
  /** The rows of records that pass the schema: what queries see. */
  readonly rows = new Map<string, Row>()
  /** Records that fail the schema, with their stored fields and issues. */
  readonly invalid = new Map<string, CheckedRow>()
  /** field → value key → ids, for the fields equality queries have used. */
  readonly #indexes = new Map<string, Map<string, Set<string>>>()
  readonly #live = new Set<LiveQuery>()

  /**
   * Sets (or, with `undefined`, removes) the row of `id`. A record that
   * fails the schema leaves the rows (and so every query) and is kept
   * among the invalid ones; one that passes again comes back.
   */
  set (id: string, checked: CheckedRow | undefined): void {
    let row: Row | undefined
    if (checked?.issues === undefined) {
      row = checked?.row
      this.invalid.delete(id)
    } else {
      this.invalid.set(id, checked)
    }
    const old = this.rows.get(id)
    if (old === row) return
    if (row === undefined) this.rows.delete(id)
    else this.rows.set(id, row)
    for (const [field, index] of this.#indexes) {
      if (old !== undefined) removeFrom(index, indexKey(fieldOf(old, field)), id)
      if (row !== undefined) addTo(index, indexKey(fieldOf(row, field)), id)
    }
    for (const query of this.#live) query.change(id, row)
  }

  /** The verdict on record `id`, if the view holds it. */
  checked (id: string): CheckedRow | undefined {
    const row = this.rows.get(id)
    return row !== undefined ? { row } : this.invalid.get(id)
  }

  /** The rows a query asks for, in order. */
  find (query: CompiledQuery): Row[] {
    const want = query.offset + query.limit
    // A small window of a large result: keep only the best `want` rows while scanning.
    if (want < 256 && want < this.rows.size / 8) return topK(this.#candidates(query), query, want).slice(query.offset)
    const out: Row[] = []
    for (const row of this.#candidates(query)) if (query.matches(row)) out.push(row)
    if (out.length > 1) out.sort(query.compare)
    return query.offset === 0 && query.limit >= out.length ? out : out.slice(query.offset, want)
  }

  /** How many rows match a query (ignoring offset and limit). */
  count (query: CompiledQuery): number {
    if (query.conditions.length === 0) return this.rows.size
    let n = 0
    for (const row of this.#candidates(query)) if (query.matches(row)) n++
    return n
  }

  /** Starts a live query; `callback` gets the current result soon, then every changed result. */
  watch (query: CompiledQuery, callback: (rows: readonly Row[]) => void): () => void {
    const live = new LiveQuery(query, this.#candidates(query), callback)
    this.#live.add(live)
    return () => {
      live.stop()
      this.#live.delete(live)
    }
  }

  /** Rows that may match: those of the most selective equality index, or all. */
  #candidates (query: CompiledQuery): Iterable<Row> {
    let best: Set<string> | undefined
    for (const condition of query.conditions) {
      const ids = this.#lookup(condition)
      if (ids !== undefined && (best === undefined || ids.size < best.size)) best = ids
    }
    if (best === undefined) return this.rows.values()
    const rows = this.rows
    return (function * () {
      for (const id of best) {
        const row = rows.get(id)
        if (row !== undefined) yield row
      }
    })()
  }

  #lookup (condition: Condition): Set<string> | undefined {
    if (condition.op !== 'eq' && condition.op !== 'in') return undefined
    const values = condition.op === 'eq' ? [condition.value] : condition.value as unknown[]
    const keys = values.map(indexKey)
    if (keys.some((k) => k === undefined || k === 'u')) return undefined
    const index = this.#index(condition.field)
    if (keys.length === 1) return index.get(keys[0] as string) ?? new Set()
    const out = new Set<string>()
    for (const key of keys) for (const id of index.get(key as string) ?? []) out.add(id)
    return out
  }

  #index (field: string): Map<string, Set<string>> {
    let index = this.#indexes.get(field)
    if (index === undefined) {
      index = new Map()
      for (const [id, row] of this.rows) addTo(index, indexKey(fieldOf(row, field)), id)
      this.#indexes.set(field, index)
    }
    return index
  }
}

/** The first `k` matching rows in query order, kept sorted in a small array while scanning. */
function topK (rows: Iterable<Row>, query: CompiledQuery, k: number): Row[] {
  const best: Row[] = []
  if (k === 0) return best
  for (const row of rows) {
    if (best.length === k && query.compare(row, best[k - 1] as Row) >= 0) continue
    if (!query.matches(row)) continue
    let lo = 0
    let hi = best.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (query.compare(best[mid] as Row, row) < 0) lo = mid + 1
      else hi = mid
    }
    best.splice(lo, 0, row)
    if (best.length > k) best.pop()
  }
  return best
}

function addTo (index: Map<string, Set<string>>, key: string | undefined, id: string): void {
  if (key === undefined) return
  let ids = index.get(key)
  if (ids === undefined) index.set(key, ids = new Set())
  ids.add(id)
}

function removeFrom (index: Map<string, Set<string>>, key: string | undefined, id: string): void {
  if (key === undefined) return
  const ids = index.get(key)
  if (ids === undefined) return
  ids.delete(id)
  if (ids.size === 0) index.delete(key)
}
