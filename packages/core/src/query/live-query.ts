import type { CompiledQuery, Row } from './query.ts'

/**
 * The result of one live query, kept up to date one change at a time: a
 * change costs a binary search and an array splice, never a rescan.
 */
export class LiveQuery {
  readonly query: CompiledQuery
  readonly #callback: (rows: readonly Row[]) => void
  /** Every matching row, in query order (before offset and limit). */
  readonly #matching: Row[] = []
  readonly #byId = new Map<string, Row>()
  #emitted: readonly Row[] | undefined
  #scheduled = false
  #stopped = false

  constructor (query: CompiledQuery, rows: Iterable<Row>, callback: (rows: readonly Row[]) => void) {
    this.query = query
    this.#callback = callback
    for (const row of rows) {
      if (query.matches(row)) {
        this.#matching.push(row)
        this.#byId.set(row.id, row)
      }
    }
    this.#matching.sort(query.compare)
    this.#schedule()
  }

  /** Takes in a change of one row (`undefined`: the row is gone). */
  change (id: string, row: Row | undefined): void {
    const old = this.#byId.get(id)
    if (old !== undefined) {
      this.#matching.splice(this.#indexOf(old), 1)
      this.#byId.delete(id)
    }
    if (row !== undefined && this.query.matches(row)) {
      this.#matching.splice(this.#insertionPoint(row), 0, row)
      this.#byId.set(id, row)
    }
    if (old !== undefined || this.#byId.has(id)) this.#schedule()
  }

  /** Stops calling back. */
  stop (): void {
    this.#stopped = true
  }

  #schedule (): void {
    if (this.#scheduled || this.#stopped) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      if (this.#stopped) return
      const { offset, limit } = this.query
      const window = offset === 0 && limit >= this.#matching.length
        ? this.#matching.slice()
        : this.#matching.slice(offset, offset + limit)
      if (this.#emitted !== undefined && sameRows(this.#emitted, window)) return
      this.#emitted = window
      this.#callback(window)
    })
  }

  #insertionPoint (row: Row): number {
    let lo = 0
    let hi = this.#matching.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.query.compare(this.#matching[mid] as Row, row) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  #indexOf (row: Row): number {
    // Rows are ordered with ties broken by id, so the position is exact.
    const i = this.#insertionPoint(row)
    if (this.#matching[i] === row) return i
    return this.#matching.indexOf(row)
  }
}

function sameRows (a: readonly Row[], b: readonly Row[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
