import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import { createDatabase, memoryStorage, type Database } from '@kadmium/core'
import { Todo } from './helpers/schemas.ts'

async function withTodos () {
  const storage = memoryStorage()
  const db = await createDatabase({ name: 'h', storage, maxRecordBytes: 1024 * 1024 })
  const todos = db.collection('todos', { schema: Todo })
  const id = await todos.insert({ title: 'keep', done: false })
  return { db, storage, todos, id }
}

/** Every key and value in storage, to check that a refused call changed nothing. */
async function dump (db: Database, storage: ReturnType<typeof memoryStorage>): Promise<string> {
  void db
  const out: string[] = []
  for await (const [key, value] of storage.scan('')) out.push(`${key}=${Buffer.from(value).toString('hex')}`)
  return out.join('\n')
}

describe('hostile input to the local API', () => {
  test('wrong types and missing fields: ValidationError listing every failing field; nothing written', async () => {
    const { db, storage, todos, id } = await withTodos()
    const before = await dump(db, storage)
    await assert.rejects(todos.insert({ title: 42, done: 'no' } as never), (error: Error & { issues: Array<{ path: string }> }) => {
      assert.equal(error.name, 'ValidationError')
      assert.deepEqual(error.issues.map((i) => i.path).sort(), ['done', 'title'])
      return true
    })
    await assert.rejects(todos.update(id, (t) => { (t as { done: unknown }).done = 'maybe' }), { name: 'ValidationError' })
    await assert.rejects(todos.insert(null as never), { name: 'ValidationError' })
    await assert.rejects(todos.insert('text' as never), { name: 'ValidationError' })
    assert.equal(await dump(db, storage), before)
    assert.deepEqual(await todos.get(id), { id, title: 'keep', done: false })
    await db.close()
  })

  test('unknown fields are dropped by a stripping schema and refused by a strict one', async () => {
    const { db, todos } = await withTodos()
    const id = await todos.insert({ title: 'x', done: false, extra: 'ignored' } as never)
    assert.deepEqual(await todos.get(id), { id, title: 'x', done: false })
    const strict = db.collection('strict', { schema: z.strictObject({ a: z.string() }) })
    await assert.rejects(strict.insert({ a: 'x', b: 1 } as never), { name: 'ValidationError' })
    assert.equal(await strict.count(), 0)
    await db.close()
  })

  test('a huge string beyond maxRecordBytes: RecordTooLargeError, nothing written', async () => {
    const { db, storage, todos, id } = await withTodos()
    const before = await dump(db, storage)
    const huge = 'x'.repeat(2 * 1024 * 1024)
    await assert.rejects(todos.insert({ title: huge, done: false }), { name: 'RecordTooLargeError' })
    await assert.rejects(todos.update(id, (t) => { t.title = huge }), { name: 'RecordTooLargeError' })
    assert.equal(await dump(db, storage), before)
    assert.equal((await todos.get(id))?.title, 'keep')
    // Below the limit, a large string is fine.
    const big = 'y'.repeat(512 * 1024)
    const bigId = await todos.insert({ title: big, done: false })
    assert.equal((await todos.get(bigId))?.title.length, big.length)
    await db.close()
  })

  test('values a record cannot store: UnsupportedValueError naming the field', async () => {
    const { db } = await withTodos()
    const anyDocs = db.collection('any', { schema: z.object({ v: z.any() }) })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const bad of [() => 1, new Date(), NaN, Infinity, 10n, Symbol('s'), cyclic, new Map(), [1, undefined]]) {
      await assert.rejects(anyDocs.insert({ v: bad }), (error: Error & { path: string }) => {
        assert.equal(error.name, 'UnsupportedValueError', `for ${String(typeof bad)}`)
        assert.ok(error.path.startsWith('v'))
        return true
      })
    }
    assert.equal(await anyDocs.count(), 0)
    await db.close()
  })

  test('the reserved field name id is refused', async () => {
    const { db } = await withTodos()
    const withId = db.collection('withid', { schema: z.object({ id: z.string(), a: z.string() }) })
    await assert.rejects(withId.insert({ id: 'x', a: 'y' }), (error: Error & { issues: Array<{ path: string }> }) => {
      assert.equal(error.name, 'ValidationError')
      assert.deepEqual(error.issues.map((i) => i.path), ['id'])
      return true
    })
    await db.close()
  })

  test('missing and malformed ids: NotFoundError or InvalidArgumentError', async () => {
    const { db, todos, id } = await withTodos()
    await assert.rejects(todos.delete('missing'), { name: 'NotFoundError' })
    await assert.rejects(todos.update('missing', () => {}), { name: 'NotFoundError' })
    await assert.rejects(todos.doc('missing'), { name: 'NotFoundError' })
    for (const bad of ['', 'a/b', 'x'.repeat(257), 'tab\there', 'nul\u0000', 'del\u007f', '\ud800', 'x\udc00', 'last\u{10FFFF}', 5, null]) {
      await assert.rejects(todos.get(bad as string), { name: 'InvalidArgumentError' })
      await assert.rejects(todos.insert({ title: 'a', done: false }, { id: bad as string }), { name: 'InvalidArgumentError' })
    }
    // Near misses are fine ids.
    for (const fine of ['x'.repeat(256), 'a.b-c_d:e', 'café ☕ 😀', '\u0080\u{10FFFD}']) await todos.insert({ title: 'ok', done: false }, { id: fine })
    await assert.rejects(todos.update(id, 'not a function' as never), { name: 'InvalidArgumentError' })
    assert.equal(await todos.count(), 5)
    await db.close()
  })

  test('a mutator that throws changes nothing', async () => {
    const { db, storage, todos, id } = await withTodos()
    const before = await dump(db, storage)
    await assert.rejects(todos.update(id, (t) => { t.done = true; throw new Error('boom') }), /boom/)
    assert.equal(await dump(db, storage), before)
    assert.equal((await todos.get(id))?.done, false)
    await db.close()
  })

  test('malformed remote updates: MalformedUpdateError, stored data unchanged', async () => {
    const { db, storage, todos, id } = await withTodos()
    const before = await dump(db, storage)
    const garbage = [new Uint8Array([255, 255, 255, 255, 1, 2, 3]), new Uint8Array([1, 2]), new Uint8Array(0).subarray(0), Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) % 256)]
    for (const update of garbage) {
      await db.applyRemoteUpdate({ collection: 'todos', target: 'record', id, update }).then(
        () => {},
        (error: Error) => { assert.equal(error.name, 'MalformedUpdateError') }
      )
      await db.applyRemoteUpdate({ collection: 'todos', target: 'index', update }).then(
        () => {},
        (error: Error) => { assert.equal(error.name, 'MalformedUpdateError') }
      )
    }
    await assert.rejects(db.applyRemoteUpdate({ collection: '../x', target: 'index', update: new Uint8Array(2) }), { name: 'InvalidArgumentError' })
    await assert.rejects(db.applyRemoteUpdate({ collection: 'todos', target: 'nope' as never, update: new Uint8Array(2) }), { name: 'InvalidArgumentError' })
    assert.equal(await dump(db, storage), before)
    assert.deepEqual(await todos.get(id), { id, title: 'keep', done: false })
    await todos.update(id, (t) => { t.done = true })
    assert.equal((await todos.get(id))?.done, true)
    await db.close()
  })

  test('bad options: InvalidArgumentError', async () => {
    await assert.rejects(createDatabase({ name: '', storage: memoryStorage() }), { name: 'InvalidArgumentError' })
    await assert.rejects(createDatabase({ name: 'x', storage: {} as never }), { name: 'InvalidArgumentError' })
    await assert.rejects(createDatabase({ name: 'x', storage: memoryStorage(), cacheSize: 0 }), { name: 'InvalidArgumentError' })
    const db = await createDatabase({ name: 'x', storage: memoryStorage() })
    assert.throws(() => db.collection('a', { schema: {} as never }), { name: 'InvalidArgumentError' })
    await db.close()
  })
})
