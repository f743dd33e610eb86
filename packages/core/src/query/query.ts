/**
 * Queries: `where` filters, ordering, paging; evaluated over plain rows.
 * @module
 */
import { QueryError, UnsupportedValueError } from '../errors.ts'
import { deepEqual, describeValue, isPlainObject, toStoredObject } from '../model/values.ts'

/**
 * Operators on one field. Several in one object must all hold. An unknown
 * operator, or a value of the wrong type, is refused with `QueryError`.
 */
export interface FieldOperators<V> {
  /** Equal (deep equality for objects and arrays): the way to match an object value. */
  readonly eq?: V
  /** Not equal. */
  readonly ne?: V
  /** Greater than (a number or a string; rows whose value is of another type do not match). */
  readonly gt?: V
  /** Greater than or equal. */
  readonly gte?: V
  /** Less than. */
  readonly lt?: V
  /** Less than or equal. */
  readonly lte?: V
  /** Equal to one of these (an array). */
  readonly in?: readonly V[]
}

/**
 * A value a field is compared with as it is in `where`: anything but a
 * plain object, which holds operators (match an object value with
 * `{ eq: value }`).
 */
export type WhereValue<V> = unknown extends V ? V : V extends string | number | boolean | null | undefined | Uint8Array | readonly unknown[] ? V : never

/**
 * A filter: each named field must equal the value given, or pass the
 * operators given (`{ gte: 2, lt: 5 }`). A plain object always holds
 * operators: to match an object value, use `{ eq: value }`.
 */
export type Where<T> = {
  readonly [K in keyof T & string]?: WhereValue<T[K]> | FieldOperators<T[K]>
} & {
  /** The record id: equal to a string, or passing the operators given. */
  readonly id?: string | FieldOperators<string>
}

/** A field to order by, ascending by default. */
export type OrderBy<T> =
  | (keyof T & string) | 'id'
  | {
    /** The field (or `'id'`). */
    readonly field: (keyof T & string) | 'id'
    /** @default 'asc' */
    readonly direction?: 'asc' | 'desc'
  }

/**
 * What `find`, `count` and live queries take. It is checked before
 * anything is read: a malformed query (from JavaScript, or past the types
 * with `as any`) throws `QueryError`, naming the field and operator —
 * an unknown option, operator or `orderBy` direction, an operator value of
 * the wrong type, a bad `limit` or `offset`, and a field the rows cannot
 * have when the schema tells its fields (a Standard JSON Schema of a
 * closed object, like zod's `z.object`); with a schema that does not tell
 * them (valibot, arktype's open objects, ...) any field name is taken, and
 * an unknown one matches nothing.
 *
 * @example
 * ```ts
 * await todos.find({ where: { done: false, priority: { gte: 2 } }, orderBy: [{ field: 'priority', direction: 'desc' }, 'title'], limit: 20 })
 * await todos.find({ where: { meta: { eq: { owner: 'ann' } } } }) // an object value
 * ```
 */
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

const OPERATORS: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in'])
const QUERY_OPTIONS: ReadonlySet<string> = new Set(['where', 'orderBy', 'limit', 'offset'])
const ORDER_KEYS: ReadonlySet<string> = new Set(['field', 'direction'])

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

/** What {@link compileQuery} knows of the collection queried. */
export interface QueryContext {
  /** The collection's name, for messages. */
  readonly collection?: string
  /**
   * The fields its rows can have (`id` aside), when the schema tells them
   * (see `knownFields`); other fields are refused. `undefined`: any field.
   */
  readonly fields?: ReadonlySet<string> | undefined
}

/**
 * Checks a query given by the user, before anything is read; throws
 * {@link QueryError} naming the part that is wrong: a query that is not an
 * object or has an unknown option; a `where` that is not an object; an
 * unknown operator (a plain object in `where` always holds operators: an
 * object value is matched with `{ eq: value }`); an operator value of the
 * wrong type (`in` takes an array, `gt`/`gte`/`lt`/`lte` a number or a
 * string, every value one a record can hold); an `orderBy` item that is not
 * a field name or `{ field, direction: 'asc' | 'desc' }`; a field the
 * collection's rows cannot have (when `context.fields` is known); a
 * `limit` or `offset` that is not a whole number >= 0.
 */
export function compileQuery (query: Query<unknown> = {}, context: QueryContext = {}): CompiledQuery {
  const fail = (message: string, path: string, field?: string, operator?: string): never => {
    throw new QueryError(message, { path, field, operator, collection: context.collection })
  }
  if (!isPlainObject(query)) fail(`a query must be an object ({ where, orderBy, limit, offset }), not ${shown(query)}`, '')
  for (const key of Object.keys(query)) {
    if (!QUERY_OPTIONS.has(key) && (query as Record<string, unknown>)[key] !== undefined) {
      fail(`unknown option "${key}" (a query has where, orderBy, limit, offset)`, key)
    }
  }
  const checkField = (field: string, path: string, what: string): void => {
    if (field === '') fail(`${what}: a field name cannot be empty`, path, field)
    if (field === 'id' || context.fields === undefined || context.fields.has(field)) return
    const known = [...context.fields]
    const list = known.length <= 20 ? known.join(', ') : `${known.slice(0, 20).join(', ')}, ...`
    fail(`${what}: unknown field "${field}" (the rows have ${list === '' ? 'only id' : `${list} and id`})`, path, field)
  }
  const conditions: Condition[] = []
  const where: unknown = query.where ?? {}
  if (!isPlainObject(where)) fail(`"where" must be an object of fields, not ${shown(where)}`, 'where')
  for (const [field, spec] of Object.entries(where as Record<string, unknown>)) {
    if (spec === undefined) continue
    const at = `where field "${field}"`
    checkField(field, `where.${field}`, 'where')
    if (!isPlainObject(spec)) {
      checkValue(spec, at, `where.${field}`, field, fail)
      conditions.push({ field, op: 'eq', value: spec })
      continue
    }
    const ops = Object.keys(spec)
    if (ops.length === 0) fail(`${at}: an empty object is no condition (to match an object value, use { eq: value })`, `where.${field}`, field)
    for (const op of ops) {
      const value = spec[op]
      const path = `where.${field}.${op}`
      if (!OPERATORS.has(op)) {
        fail(`${at}: unknown operator "${op}" (operators are ${[...OPERATORS].join(', ')}; to match an object value, use { eq: value })`, path, field, op)
      }
      if (value === undefined) continue
      if (op === 'in') {
        if (!Array.isArray(value)) fail(`${at}: operator "in" takes an array of values, not ${shown(value)}`, path, field, op)
        checkValue(value, `${at}, operator "in"`, path, field, fail, op)
      } else if (op === 'eq' || op === 'ne') {
        checkValue(value, `${at}, operator "${op}"`, path, field, fail, op)
      } else if (!(typeof value === 'string' || (typeof value === 'number' && !Number.isNaN(value)))) {
        fail(`${at}: operator "${op}" takes a number or a string, not ${shown(value)}`, path, field, op)
      }
      conditions.push({ field, op: op as Condition['op'], value })
    }
  }
  const order: Array<{ field: string, desc: boolean }> = []
  const orderBy: unknown = query.orderBy ?? undefined
  const items = orderBy === undefined ? [] : Array.isArray(orderBy) ? orderBy as unknown[] : [orderBy]
  items.forEach((item, i) => {
    const path = Array.isArray(orderBy) ? `orderBy[${i}]` : 'orderBy'
    if (typeof item === 'string') {
      checkField(item, path, 'orderBy')
      order.push({ field: item, desc: false })
      return
    }
    if (!isPlainObject(item) || typeof item.field !== 'string') {
      fail(`"orderBy" takes field names or { field, direction: 'asc' | 'desc' }, not ${shown(item)}`, path)
    }
    const { field, direction } = item as { field: string, direction?: unknown }
    for (const key of Object.keys(item as object)) {
      if (!ORDER_KEYS.has(key)) fail(`orderBy field "${field}": unknown key "${key}" (an item is { field, direction: 'asc' | 'desc' })`, `${path}.${key}`, field)
    }
    checkField(field, `${path}.field`, 'orderBy')
    if (direction !== undefined && direction !== 'asc' && direction !== 'desc') {
      fail(`orderBy field "${field}": direction must be 'asc' or 'desc', not ${shown(direction)}`, `${path}.direction`, field)
    }
    order.push({ field, desc: direction === 'desc' })
  })
  const limit: unknown = query.limit ?? Infinity
  const offset: unknown = query.offset ?? 0
  if (typeof limit !== 'number' || !(limit >= 0) || (limit !== Infinity && !Number.isInteger(limit))) {
    fail(`"limit" must be a whole number >= 0 (or Infinity), not ${shown(limit)}`, 'limit')
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    fail(`"offset" must be a whole number >= 0, not ${shown(offset)}`, 'offset')
  }
  const compare = (a: Row, b: Row): number => {
    for (const { field, desc } of order) {
      const c = compareValues(fieldOf(a, field), fieldOf(b, field))
      if (c !== 0) return desc ? -c : c
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  }
  const matches = (row: Row): boolean => conditions.every((c) => test(c, fieldOf(row, c.field)))
  return { conditions, order, limit: limit as number, offset: offset as number, compare, matches }
}

/** Fails unless `value` is one a record can hold (so one that can match): no function, Date, NaN, ... */
function checkValue (value: unknown, at: string, path: string, field: string, fail: (message: string, path: string, field?: string, operator?: string) => never, op?: string): void {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null || (typeof value === 'number' && Number.isFinite(value))) return
  try {
    toStoredObject({ value })
  } catch (error) {
    if (!(error instanceof UnsupportedValueError)) throw error
    const inner = error.path === 'value' ? '' : ` at ${error.path.slice('value.'.length)}`
    fail(`${at}: ${shown(unwrap(value, error.path))}${inner} is not a value a record can hold`, path, field, op)
  }
}

/** The part of `value` at a dotted path of {@link toStoredObject}'s error (`value.a.0`). */
function unwrap (value: unknown, path: string): unknown {
  let at = value
  for (const key of path.split('.').slice(1)) at = (at as Record<string, unknown> | undefined)?.[key]
  return at
}

/** A value as messages show it: scalars as they are, others by kind. */
function shown (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value)
  return isPlainObject(value) ? 'an object' : describeValue(value)
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
