import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createDatabase, memoryStorage } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'

async function seeded () {
  const db = await createDatabase({ name: 'q', storage: memoryStorage() })
  const todos = db.collection('todos', { schema: Todo })
  const rows = [
    { title: 'c', done: false, priority: 3, tags: ['home'] },
    { title: 'a', done: true, priority: 1 },
    { title: 'e', done: false, priority: 5 },
    { title: 'b', done: false },
    { title: 'd', done: true, priority: 3 }
  ]
  for (const row of rows) await todos.insert(row)
  return { db, todos }
}

describe('find', () => {
  test('equality, in, ne and ranges', async () => {
    const { db, todos } = await seeded()
    const titles = async (q: Parameters<typeof todos.find>[0]) => (await todos.find(q)).map((r) => r.title)
    assert.deepEqual(await titles({ where: { done: false }, orderBy: 'title' }), ['b', 'c', 'e'])
    assert.deepEqual(await titles({ where: { priority: 3 }, orderBy: 'title' }), ['c', 'd'])
    assert.deepEqual(await titles({ where: { priority: { in: [1, 5] } }, orderBy: 'title' }), ['a', 'e'])
    assert.deepEqual(await titles({ where: { priority: { gt: 1, lte: 3 } }, orderBy: 'title' }), ['c', 'd'])
    assert.deepEqual(await titles({ where: { priority: { gte: 3 }, done: false }, orderBy: 'title' }), ['c', 'e'])
    assert.deepEqual(await titles({ where: { title: { lt: 'c' } }, orderBy: 'title' }), ['a', 'b'])
    assert.deepEqual(await titles({ where: { done: { ne: true } }, orderBy: 'title' }), ['b', 'c', 'e'])
    assert.deepEqual(await titles({ where: { tags: ['home'] } }), ['c'])
    assert.deepEqual(await titles({ where: { priority: { eq: 3 }, title: 'd' } }), ['d'])
    await db.close()
  })

  test('orderBy with direction, several keys, missing values first; limit and offset', async () => {
    const { db, todos } = await seeded()
    const titles = async (q: Parameters<typeof todos.find>[0]) => (await todos.find(q)).map((r) => r.title)
    assert.deepEqual(await titles({ orderBy: { field: 'priority', direction: 'desc' } }).then((t) => t.slice(0, 1)), ['e'])
    assert.deepEqual(await titles({ orderBy: ['priority', { field: 'title', direction: 'desc' }] }), ['b', 'a', 'd', 'c', 'e'])
    assert.deepEqual(await titles({ orderBy: 'title', limit: 2 }), ['a', 'b'])
    assert.deepEqual(await titles({ orderBy: 'title', offset: 3 }), ['d', 'e'])
    assert.deepEqual(await titles({ orderBy: 'title', offset: 1, limit: 2 }), ['b', 'c'])
    assert.deepEqual(await titles({}), ['c', 'a', 'e', 'b', 'd'], 'default order is by id: creation order')
    await db.close()
  })

  test('count with and without a filter', async () => {
    const { db, todos } = await seeded()
    assert.equal(await todos.count(), 5)
    assert.equal(await todos.count({ where: { done: true } }), 2)
    assert.equal(await todos.count({ where: { priority: { gte: 3 } } }), 3)
    await db.close()
  })

  test('an equality index stays right through updates and deletes', async () => {
    const { db, todos } = await seeded()
    const open = await todos.find({ where: { done: false } })
    assert.equal(open.length, 3)
    const first = open[0]!
    await todos.update(first.id, (t) => { t.done = true })
    assert.equal(await todos.count({ where: { done: false } }), 2)
    assert.equal(await todos.count({ where: { done: true } }), 3)
    await todos.delete(first.id)
    assert.equal(await todos.count({ where: { done: true } }), 2)
    const id = await todos.insert({ title: 'f', done: false })
    assert.ok((await todos.find({ where: { done: false } })).some((r) => r.id === id))
    await db.close()
  })

  test('an object value is matched with eq (a plain object in where holds operators)', async () => {
    const { db, todos } = await seeded()
    const id = await todos.insert({ title: 'owned', done: false, meta: { owner: 'ann' } })
    assert.deepEqual((await todos.find({ where: { meta: { eq: { owner: 'ann' } } } })).map((r) => r.id), [id])
    assert.deepEqual((await todos.find({ where: { meta: { in: [{ owner: 'bob' }, { owner: 'ann' }] } } })).map((r) => r.id), [id])
    assert.equal(await todos.count({ where: { meta: { ne: { owner: 'ann' } } } }), 5)
    await assert.rejects(todos.find({ where: { meta: { owner: 'ann' } } as never }), { name: 'QueryError', field: 'meta', operator: 'owner' })
    await db.close()
  })
})

describe('subscribe', () => {
  test('a live query gets the current result, then each changed result', async () => {
    const { db, todos } = await seeded()
    const results: string[][] = []
    const next = () => new Promise<void>((resolve) => { waiting = resolve })
    let waiting: (() => void) | undefined
    const stop = todos.subscribe({ where: { done: false }, orderBy: 'title', limit: 2 }, (rows) => {
      results.push(rows.map((r) => r.title))
      waiting?.()
    })
    await next()
    assert.deepEqual(results, [['b', 'c']])
    let p = next()
    await todos.insert({ title: 'a0', done: false })
    await p
    assert.deepEqual(results.at(-1), ['a0', 'b'])
    // A change outside the window does not call back.
    await todos.insert({ title: 'z', done: false })
    p = next()
    const b = (await todos.find({ where: { title: 'b' } }))[0]!
    await todos.update(b.id, (t) => { t.done = true })
    await p
    assert.deepEqual(results.at(-1), ['a0', 'c'])
    assert.equal(results.length, 3)
    stop()
    await todos.insert({ title: '0', done: false })
    assert.equal(results.length, 3)
    await db.close()
  })

  test('a record subscription sees updates and the delete', async () => {
    const { db, todos } = await seeded()
    const id = await todos.insert({ title: 'watched', done: false })
    const seen: unknown[] = []
    let notify: (() => void) | undefined
    const stop = todos.subscribe(id, (row) => { seen.push(row?.done); notify?.() })
    await new Promise<void>((resolve) => { notify = resolve })
    await todos.update(id, (t) => { t.done = true })
    await todos.delete(id)
    stop()
    assert.deepEqual(seen, [false, true, undefined])
    await db.close()
  })

  test('a subscription stopped before its first result never calls back', async () => {
    const { db, todos } = await seeded()
    let calls = 0
    const stop = todos.subscribe({}, () => { calls++ })
    stop()
    await todos.insert({ title: 'x', done: false })
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(calls, 0)
    await db.close()
  })
})
