/**
 * Type-level tests: this file is type-checked by `npm test` (tsc), and
 * every `@ts-expect-error` line must be an error, or the check fails. It
 * also runs, so the three schema libraries are exercised for real.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import { createDatabase, memoryStorage, type Row } from '@kadmium/core'

test('zod: record type inferred; wrong fields and types fail to compile', async () => {
  const db = await createDatabase({ name: 't', storage: memoryStorage() })
  const todos = db.collection('todos', { schema: z.object({ title: z.string(), done: z.boolean(), n: z.number().optional() }), text: ['title'] })
  const id: string = await todos.insert({ title: 'a', done: false })
  // @ts-expect-error a field of the wrong type
  await todos.insert({ title: 1, done: false }).catch(() => {})
  // @ts-expect-error a missing field
  await todos.insert({ title: 'a' }).catch(() => {})
  // @ts-expect-error a field the schema does not have
  await todos.update(id, (t) => { t.nope = 1 })
  // @ts-expect-error a field of the wrong type in an update
  await todos.update(id, (t) => { t.done = 'yes' }).catch(() => {})
  // @ts-expect-error an unknown field in a query (refused at run time too: zod tells its fields)
  await assert.rejects(todos.find({ where: { titel: 'a' } }), { name: 'QueryError', field: 'titel' })
  // @ts-expect-error a value of the wrong type in a query
  await todos.find({ where: { done: 'no' } })
  // @ts-expect-error an operator value of the wrong type
  await todos.find({ where: { n: { gt: 'x' } } })
  // @ts-expect-error an unknown operator
  await assert.rejects(todos.find({ where: { n: { like: 1 } } }), { name: 'QueryError', operator: 'like' })
  // @ts-expect-error ordering by an unknown field
  await assert.rejects(todos.find({ orderBy: 'nope' }), { name: 'QueryError', field: 'nope' })
  // @ts-expect-error a bad direction
  await assert.rejects(todos.find({ orderBy: { field: 'n', direction: 'up' } }), { name: 'QueryError', field: 'n' })
  // @ts-expect-error only string fields can be text
  db.collection('bad', { schema: z.object({ n: z.number() }), text: ['n'] })
  const row = await todos.get(id)
  if (row !== undefined) {
    const title: string = row.title
    const done: boolean = row.done
    const rid: string = row.id
    assert.throws(() => {
      // @ts-expect-error rows are read-only (and frozen at run time)
      row.done = true
    }, TypeError)
    assert.equal(title, 'a')
    assert.equal(done, false)
    assert.equal(rid, id)
  }
  const rows: Array<Row<{ title: string, done: boolean, n?: number | undefined }>> = await todos.find({ where: { done: false, n: { gte: 1 } }, orderBy: [{ field: 'title', direction: 'desc' }, 'id'] })
  assert.equal(rows.length, 0)
  const owned = db.collection('owned', { schema: z.object({ meta: z.object({ owner: z.string() }), tags: z.array(z.string()), any: z.unknown() }) })
  await owned.insert({ meta: { owner: 'ann' }, tags: ['a'], any: 1 })
  assert.equal(await owned.count({ where: { meta: { eq: { owner: 'ann' } }, tags: ['a'], any: 1 } }), 1)
  // @ts-expect-error an object value is matched with { eq } (a bare object holds operators)
  await assert.rejects(owned.count({ where: { meta: { owner: 'ann' } } }), { name: 'QueryError', field: 'meta', operator: 'owner' })
  await db.close()
})

test('valibot: inferred and validated', async () => {
  const db = await createDatabase({ name: 't', storage: memoryStorage() })
  const people = db.collection('people', { schema: v.object({ name: v.string(), age: v.pipe(v.number(), v.minValue(0)) }) })
  const id = await people.insert({ name: 'ann', age: 30 })
  const age: number | undefined = (await people.get(id))?.age
  assert.equal(age, 30)
  // @ts-expect-error age is a number
  await assert.rejects(people.insert({ name: 'bob', age: '3' }), { name: 'ValidationError' })
  await assert.rejects(people.insert({ name: 'bob', age: -1 }), (error: Error & { issues: Array<{ path: string }> }) => {
    assert.equal(error.name, 'ValidationError')
    assert.deepEqual(error.issues.map((i) => i.path), ['age'])
    return true
  })
  await db.close()
})

test('arktype: inferred and validated', async () => {
  const db = await createDatabase({ name: 't', storage: memoryStorage() })
  const items = db.collection('items', { schema: type({ sku: 'string', qty: 'number.integer >= 0' }) })
  const id = await items.insert({ sku: 'x1', qty: 2 })
  const qty: number | undefined = (await items.get(id))?.qty
  assert.equal(qty, 2)
  // @ts-expect-error sku is a string
  await assert.rejects(items.insert({ sku: 1, qty: 2 }), { name: 'ValidationError' })
  await assert.rejects(items.insert({ sku: 'x', qty: 1.5 }), { name: 'ValidationError' })
  await db.close()
})
