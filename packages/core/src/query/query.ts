/**
 * Queries: `where` filters, ordering, paging; evaluated over plain rows.
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'
import { deepEqual, isPlainObject } from '../model/values.ts'

/** Operators on one field. Several in one object must all hold. */
export interface FieldOperators<V> {
  /** Equal (deep equality for objects and arrays). */
  readonly eq?: V
  /** Not equal. */
  readonly ne?: V
  /** Greater than (numbers and strings). */
  readonly gt?: V
  /** Greater than or equal. */
  readonly gte?: V
  /** Less than. */
  readonly lt?: V
  /** Less than or equal. */
  readonly lte?: V
  /** Equal to one of these. */
  readonly in?: readonly V[]
}

/** A filter: each named field must equal the value given, or pass the operators given. */
export type Where<T> = {
  readonly [K in keyof T & string]?: T[K] | FieldOperators<T[K]>
} & { readonly id?: string | FieldOperators<string> }

/** A field to order by, ascending by default. */
export type OrderBy<T> =
  | (keyof T & string) | 'id'
  | { readonly field: (keyof T & string) | 'id', readonly direction?: 'asc' | 'desc' }

/** What `find`, `count` and live queries take. */
export interface Query<T> {
  /** Only rows that match. @default every row */
  readonly where?: Where<T>
  /** Order of the results; ties are broken by id. @default by id, so by creation time for generated ids */
  readonly orderBy?: OrderBy<T> | ReadonlyArray<OrderBy<T>>
  /** At most this many rows. @default Infinity */
  readonly limit?: number
  /** Skip this many rows first. @default 0 */
  readonly offset?: number
}

const OPERATORS = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in'])

/** One checked condition on one field. */
export interface Condition {
  readonly field: string
  readonly op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in'
  readonly value: unknown
}

/** A query checked and brought into a form that is quick to evaluate. */
export interface CompiledQuery {
  readonly conditions: readonly Condition[]
  readonly order: ReadonlyArray<{ readonly field: string, readonly desc: boolean }>
  readonly limit: number
  readonly offset: number
  /** Orders two rows as the query asks (ties broken by id). */
  readonly compare: (a: Row, b: Row) => number
  /** Tells whether a row passes the filter. */
  readonly matches: (row: Row) => boolean
}

/** A row as queries see it: the record's fields and its `id`. */
export interface Row {
  readonly id: string
  readonly [field: string]: unknown
}

/** Checks a query given by the user; throws {@link InvalidArgumentError} when it is malformed. */
export function compileQuery (query: Query<unknown> = {}): CompiledQuery {
  if (!isPlainObject(query)) throw new InvalidArgumentError('a query must be an object')
  const conditions: Condition[] = []
  const where: unknown = query.where ?? {}
  if (!isPlainObject(where)) throw new InvalidArgumentError('"where" must be an object')
  for (const [field, spec] of Object.entries(where)) {
    if (spec === undefined) continue
    if (isPlainObject(spec) && Object.keys(spec).length > 0 && Object.keys(spec).every((k) => OPERATORS.has(k))) {
      for (const [op, value] of Object.entries(spec)) {
        if (value === undefined) continue
        if (op === 'in' && !Array.isArray(value)) throw new InvalidArgumentError(`"${field}.in" must be an array`)
        conditions.push({ field, op: op as Condition['op'], value })
      }
    } else {
      conditions.push({ field, op: 'eq', value: spec })
    }
  }
  const order: Array<{ field: string, desc: boolean }> = []
  const orderBy = query.orderBy === undefined ? [] : Array.isArray(query.orderBy) ? query.orderBy : [query.orderBy]
  for (const item of orderBy as unknown[]) {
    if (typeof item === 'string') {
      order.push({ field: item, desc: false })
    } else if (isPlainObject(item) && typeof item.field === 'string' && (item.direction === undefined || item.direction === 'asc' || item.direction === 'desc')) {
      order.push({ field: item.field, desc: item.direction === 'desc' })
    } else {
      throw new InvalidArgumentError('"orderBy" takes field names or { field, direction: "asc" | "desc" }')
    }
  }
  const limit = query.limit ?? Infinity
  const offset = query.offset ?? 0
  if (typeof limit !== 'number' || !(limit >= 0) || (limit !== Infinity && !Number.isInteger(limit))) {
    throw new InvalidArgumentError('"limit" must be a whole number >= 0')
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw new InvalidArgumentError('"offset" must be a whole number >= 0')
  }
  const compare = (a: Row, b: Row): number => {
    for (const { field, desc } of order) {
      const c = compareValues(fieldOf(a, field), fieldOf(b, field))
      if (c !== 0) return desc ? -c : c
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  }
  const matches = (row: Row): boolean => conditions.every((c) => test(c, fieldOf(row, c.field)))
  return { conditions, order, limit, offset, compare, matches }
}

/** The value of a field of a row (`id` is the record id). */
export function fieldOf (row: Row, field: string): unknown {
  return Object.hasOwn(row, field) ? row[field] : undefined
}

function test (c: Condition, actual: unknown): boolean {
  switch (c.op) {
    case 'eq': return deepEqual(actual, c.value)
    case 'ne': return !deepEqual(actual, c.value)
    case 'in': return (c.value as unknown[]).some((v) => deepEqual(actual, v))
    default: {
      if (!comparable(actual) || !comparable(c.value) || typeof actual !== typeof c.value) return false
      const r = compareValues(actual, c.value)
      return c.op === 'gt' ? r > 0 : c.op === 'gte' ? r >= 0 : c.op === 'lt' ? r < 0 : r <= 0
    }
  }
}

function comparable (v: unknown): v is number | string {
  return typeof v === 'number' || typeof v === 'string'
}

const TYPE_RANK: Record<string, number> = { undefined: 0, object: 1, boolean: 2, number: 3, string: 4 }

/**
 * A total order over field values: missing and null first, then booleans,
 * numbers, strings (by code unit), then other values.
 */
export function compareValues (a: unknown, b: unknown): number {
  const ra = a === null ? 1 : TYPE_RANK[typeof a] ?? 5
  const rb = b === null ? 1 : TYPE_RANK[typeof b] ?? 5
  if (ra !== rb) return ra - rb
  if (typeof a === 'number' || typeof a === 'string' || typeof a === 'boolean') {
    return a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0
  }
  return 0
}

/** A key for a value in an equality index (same key ⇔ deep-equal, for scalars). */
export function indexKey (value: unknown): string | undefined {
  switch (typeof value) {
    case 'string': return 's' + value
    case 'number': return 'n' + String(value)
    case 'boolean': return value ? 'T' : 'F'
    case 'undefined': return 'u'
    default: return value === null ? 'N' : undefined
  }
}
