/**
 * Malformed queries, as JavaScript callers (or `as any`) can write them:
 * every query entry point refuses them with `QueryError`, naming the
 * field and operator, before anything is read.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import { createDatabase, InvalidArgumentError, KadmiumError, memoryStorage, QueryError, type Collection, type StorageAdapter } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'

async function seeded () {
  const db = await createDatabase({ name: 'q', storage: memoryStorage() })
  const todos = db.collection('todos', { schema: Todo })
  for (const row of [{ title: 'a', done: false, priority: 1 }, { title: 'b', done: true, priority: 2 }]) await todos.insert(row)
  return { db, todos }
}

/** The error `find` rejects with for a query, checked to be a QueryError. */
async function refusal (collection: Collection<object>, query: unknown): Promise<QueryError> {
  let caught: unknown
  await collection.find(query as never).then(() => assert.fail(`accepted: ${String(JSON.stringify(query))}`), (error: unknown) => { caught = error })
  assert.ok(caught instanceof QueryError, `a QueryError, not ${String(caught)}`)
  assert.equal(caught.name, 'QueryError')
  return caught
}

/** Checks that a query is refused, with `fragments` in the message and the given properties. */
async function refuses (collection: Collection<object>, query: unknown, expected: { field?: string, operator?: string, path?: string }, ...fragments: string[]): Promise<void> {
  const error = await refusal(collection, query)
  for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${fragment}" in: ${error.message}`)
  if ('field' in expected) assert.equal(error.field, expected.field, error.message)
  if ('operator' in expected) assert.equal(error.operator, expected.operator, error.message)
  if ('path' in expected) assert.equal(error.path, expected.path, error.message)
}

describe('QueryError', () => {
  test('is a named InvalidArgumentError, and its message names the collection, field and operator', async () => {
    const { db, todos } = await seeded()
    const error = await refusal(todos, { where: { done: { like: 1 } } })
    assert.ok(error instanceof InvalidArgumentError)
    assert.ok(error instanceof KadmiumError)
    assert.equal(error.field, 'done')
    assert.equal(error.operator, 'like')
    assert.equal(error.path, 'where.done.like')
    assert.match(error.message, /collection "todos".*field "done".*unknown operator "like".*eq, ne, gt, gte, lt, lte, in/)
    await db.close()
  })

  test('unknown operators, alone or next to known ones, and empty operator objects', async () => {
    const { db, todos } = await seeded()
    await refuses(todos, { where: { title: { contains: 'a' } } }, { field: 'title', operator: 'contains' }, '"title"', '"contains"')
    await refuses(todos, { where: { priority: { gte: 1, lte3: 5 } } }, { field: 'priority', operator: 'lte3' }, '"lte3"')
    await refuses(todos, { where: { priority: { $gt: 1 } } }, { field: 'priority', operator: '$gt' }, '"$gt"')
    await refuses(todos, { where: { id: { startsWith: '0' } } }, { field: 'id', operator: 'startsWith' })
    // An object value is matched with { eq }: a bare object holds operators.
    await refuses(todos, { where: { meta: { owner: 'ann' } } }, { field: 'meta', operator: 'owner' }, '{ eq: value }')
    await refuses(todos, { where: { meta: {} } }, { field: 'meta', operator: undefined }, '"meta"', 'empty object')
    await db.close()
  })

  test('operator values of the wrong type', async () => {
    const { db, todos } = await seeded()
    await refuses(todos, { where: { priority: { in: 3 } } }, { field: 'priority', operator: 'in' }, '"in" takes an array', 'not 3')
    await refuses(todos, { where: { priority: { in: 'abc' } } }, { operator: 'in' }, 'not "abc"')
    await refuses(todos, { where: { priority: { gt: true } } }, { field: 'priority', operator: 'gt' }, '"gt" takes a number or a string', 'not true')
    await refuses(todos, { where: { priority: { lt: null } } }, { operator: 'lt' }, 'not null')
    await refuses(todos, { where: { priority: { gte: [1] } } }, { operator: 'gte' }, 'not an array')
    await refuses(todos, { where: { priority: { lte: Number.NaN } } }, { operator: 'lte' }, 'not NaN')
    await refuses(todos, { where: { title: { gt: new Date() } } }, { operator: 'gt' }, 'not a Date')
    // eq, ne, in and bare values: any value a record can hold, nothing else.
    await refuses(todos, { where: { title: { eq: new Date() } } }, { field: 'title', operator: 'eq' }, 'a Date is not a value a record can hold')
    await refuses(todos, { where: { title: { ne: () => 1 } } }, { operator: 'ne' }, 'a function')
    await refuses(todos, { where: { priority: { in: [1, Number.NaN] } } }, { operator: 'in' }, 'NaN at 1')
    await refuses(todos, { where: { tags: { eq: ['a', undefined] } } }, { operator: 'eq' }, 'undefined at 1')
    await refuses(todos, { where: { priority: 1n } }, { field: 'priority', operator: undefined }, 'a bigint')
    await refuses(todos, { where: { title: /a/ } }, { field: 'title' }, 'a RegExp')
    await refuses(todos, { where: { meta: { eq: { owner: new Map() } } } }, { field: 'meta', operator: 'eq' }, 'a Map at owner')
    await db.close()
  })

  test('unknown fields, in where and orderBy, when the schema tells its fields', async () => {
    const { db, todos } = await seeded()
    await refuses(todos, { where: { titel: 'a' } }, { field: 'titel', path: 'where.titel' }, 'unknown field "titel"', 'title, done, priority, tags, meta and id')
    await refuses(todos, { orderBy: 'nope' }, { field: 'nope', path: 'orderBy' }, 'orderBy', 'unknown field "nope"')
    await refuses(todos, { orderBy: ['title', { field: 'nope', direction: 'desc' }] }, { field: 'nope', path: 'orderBy[1].field' }, '"nope"')
    await refuses(todos, { where: { constructor: { in: ['x'] } } }, { field: 'constructor' }, 'unknown field "constructor"')
    await refuses(todos, { where: { 'meta.owner': 'ann' } }, { field: 'meta.owner' }, 'unknown field "meta.owner"')
    await refuses(todos, { orderBy: '' }, { field: '' }, 'cannot be empty')
    // id is always a field.
    assert.equal((await todos.find({ where: { id: { gte: '' } }, orderBy: { field: 'id', direction: 'desc' } })).length, 2)
    await db.close()
  })

  test('bad orderBy items and directions', async () => {
    const { db, todos } = await seeded()
    await refuses(todos, { orderBy: { field: 'title', direction: 'up' } }, { field: 'title', path: 'orderBy.direction' }, 'direction must be \'asc\' or \'desc\'', 'not "up"')
    await refuses(todos, { orderBy: { field: 'title', direction: 'DESC' } }, { field: 'title' }, 'not "DESC"')
    await refuses(todos, { orderBy: { field: 'title', dir: 'desc' } }, { field: 'title', path: 'orderBy.dir' }, 'unknown key "dir"')
    await refuses(todos, { orderBy: [3] }, { path: 'orderBy[0]' }, 'field names or { field, direction', 'not 3')
    await refuses(todos, { orderBy: { direction: 'desc' } }, { path: 'orderBy' }, 'not an object')
    await refuses(todos, { orderBy: [null] }, { path: 'orderBy[0]' }, 'not null')
    // null, like undefined, is no option.
    assert.equal((await todos.find({ where: null, orderBy: null, limit: null, offset: null } as never)).length, 2)
    await db.close()
  })

  test('a query, or its where, that is not an object; unknown options', async () => {
    const { db, todos } = await seeded()
    await refuses(todos, 'done', { path: '' }, 'a query must be an object', 'not "done"')
    await refuses(todos, null, { path: '' }, 'not null')
    await refuses(todos, [{ where: {} }], { path: '' }, 'not an array')
    await refuses(todos, { where: 'done' }, { path: 'where' }, '"where" must be an object', 'not "done"')
    await refuses(todos, { where: [{ done: true }] }, { path: 'where' }, 'not an array')
    await refuses(todos, { where: new Map() }, { path: 'where' }, 'not a Map')
    await refuses(todos, { filter: { done: true } }, { path: 'filter' }, 'unknown option "filter"')
    await refuses(todos, { sort: 'title' }, { path: 'sort' }, 'unknown option "sort"')
    // An option given as undefined is no option.
    assert.equal((await todos.find({ where: undefined, sort: undefined } as never)).length, 2)
    await db.close()
  })

  test('bad limit and offset', async () => {
    const { db, todos } = await seeded()
    for (const limit of [-1, 1.5, '10', Number.NaN, true]) await refuses(todos, { limit }, { path: 'limit' }, '"limit" must be a whole number >= 0')
    for (const offset of [-1, 0.5, '1', Infinity, Number.NaN]) await refuses(todos, { offset }, { path: 'offset' }, '"offset" must be a whole number >= 0')
    assert.equal((await todos.find({ limit: Infinity, offset: 1 })).length, 1)
    assert.equal((await todos.find({ limit: 0 })).length, 0)
    await db.close()
  })

  test('count rejects, and a live query throws synchronously without calling back', async () => {
    const { db, todos } = await seeded()
    await assert.rejects(todos.count({ where: { done: { like: 1 } } as never }), { name: 'QueryError', field: 'done', operator: 'like' })
    await assert.rejects(todos.count({ where: { nope: 1 } } as never), { name: 'QueryError', field: 'nope' })
    let calls = 0
    assert.throws(() => todos.subscribe({ where: { done: { like: 1 } } } as never, () => { calls++ }), { name: 'QueryError', field: 'done', operator: 'like' })
    assert.throws(() => todos.subscribe({ orderBy: 'nope' } as never, () => { calls++ }), { name: 'QueryError', field: 'nope' })
    assert.throws(() => todos.subscribe({ limit: -1 }, () => { calls++ }), { name: 'QueryError', path: 'limit' })
    assert.throws(() => todos.subscribe(42 as never, () => { calls++ }), { name: 'QueryError', path: '' })
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(calls, 0)
    await db.close()
  })

  test('a malformed query is refused before anything is read', async () => {
    const inner = memoryStorage()
    let reads = 0
    // Without close: the database closing it does not close `inner`.
    const storage: StorageAdapter = {
      get: async (key) => { reads++; return inner.get(key) },
      put: async (key, value) => inner.put(key, value),
      delete: async (key) => inner.delete(key),
      batch: async (operations) => inner.batch(operations),
      scan: (prefix, options) => { reads++; return inner.scan(prefix, options) }
    }
    const first = await createDatabase({ name: 'q', storage })
    await first.collection('todos', { schema: Todo }).insert({ title: 'a', done: false })
    await first.close()
    const db = await createDatabase({ name: 'q', storage })
    const todos = db.collection('todos', { schema: Todo })
    await new Promise((resolve) => setImmediate(resolve))
    reads = 0
    await refuses(todos, { where: { done: { like: 1 } } }, { operator: 'like' })
    await assert.rejects(todos.count({ orderBy: 'nope' } as never), { name: 'QueryError' })
    assert.throws(() => todos.subscribe({ orderBy: 'nope' } as never, () => {}), { name: 'QueryError' })
    assert.equal(reads, 0, 'nothing was read')
    assert.equal(await todos.count({ where: { done: false } }), 1)
    assert.ok(reads > 0)
    await db.close()
  })
})

describe('fields a schema does not tell', () => {
  test('valibot (no JSON Schema): any field is taken and matches nothing; operators are still checked', async () => {
    const db = await createDatabase({ name: 'q', storage: memoryStorage() })
    const people = db.collection('people', { schema: v.object({ name: v.string(), age: v.number() }) })
    await people.insert({ name: 'ann', age: 30 })
    assert.deepEqual(await people.find({ where: { nmae: 'ann' } } as never), [])
    assert.equal((await people.find({ orderBy: 'nope' } as never)).length, 1)
    await refuses(people, { where: { age: { like: 1 } } }, { field: 'age', operator: 'like' })
    await refuses(people, { where: { nmae: { in: 'ann' } } }, { field: 'nmae', operator: 'in' })
    // Inherited names are not fields: they match nothing, and a function is no value to match.
    assert.equal(await people.count({ where: { constructor: { ne: null } } } as never), 1)
    assert.equal(await people.count({ where: { constructor: { gt: '' } } } as never), 0)
    await refuses(people, { where: { constructor: { in: [Object] } } }, { field: 'constructor', operator: 'in' }, 'a function')
    await db.close()
  })

  test('arktype objects and zod passthrough are open to other keys: any field is taken', async () => {
    const db = await createDatabase({ name: 'q', storage: memoryStorage() })
    const ark = db.collection('ark', { schema: type({ name: 'string' }) })
    await ark.insert({ name: 'ann' })
    assert.deepEqual(await ark.find({ where: { nope: 1 } } as never), [])
    await refuses(ark, { where: { name: { like: 'a' } } }, { field: 'name', operator: 'like' })
    const open = db.collection('open', { schema: z.object({ name: z.string() }).passthrough() })
    await open.insert({ name: 'ann', extra: 1 })
    assert.equal((await open.find({ where: { extra: 1 } })).length, 1)
    await db.close()
  })

  test('zod: strict objects and unions of objects tell their fields; a transform does not', async () => {
    const db = await createDatabase({ name: 'q', storage: memoryStorage() })
    const strict = db.collection('strict', { schema: z.object({ name: z.string() }).strict() })
    await refuses(strict, { where: { nope: 1 } }, { field: 'nope' }, 'the rows have name and id')
    const union = db.collection('union', { schema: z.union([z.object({ kind: z.literal('a'), a: z.string() }), z.object({ kind: z.literal('b'), b: z.number() })]) })
    await union.insert({ kind: 'b', b: 2 })
    assert.equal((await union.find({ where: { b: { gte: 2 } }, orderBy: 'a' } as never)).length, 1)
    await refuses(union, { where: { c: 1 } }, { field: 'c' }, 'the rows have kind, a, b and id')
    const transformed = db.collection('transformed', { schema: z.object({ name: z.string().transform((s) => s.trim()) }) })
    assert.deepEqual(await transformed.find({ where: { nope: 1 } } as never), [])
    await db.close()
  })
})
