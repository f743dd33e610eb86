import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createDatabase, memoryStorage, type Database } from '@kadmium/core'
import { keepOpen } from '@kadmium/core/testing'
import { Note, Todo } from './helpers/schemas.ts'

async function open (): Promise<Database> {
  return createDatabase({ name: 'test', storage: memoryStorage() })
}

describe('Collection writes and reads', () => {
  test('insert returns a time-sortable id and get returns the record with it', async () => {
    const db = await open()
    const todos = db.collection('todos', { schema: Todo })
    const a = await todos.insert({ title: 'milk', done: false })
    const b = await todos.insert({ title: 'bread', done: true, tags: ['x'] })
    assert.match(a, /^[0-9A-HJKMNP-TV-Z]{26}$/)
    assert.ok(a < b, 'later ids sort after earlier ones')
    assert.deepEqual(await todos.get(a), { id: a, title: 'milk', done: false })
    assert.deepEqual(await todos.get(b), { id: b, title: 'bread', done: true, tags: ['x'] })
    assert.equal(await todos.get('nope'), undefined)
    await db.close()
  })

  test('insert with a given id; a second insert of it is refused', async () => {
    const db = await open()
    const todos = db.collection('todos', { schema: Todo })
    assert.equal(await todos.insert({ title: 'a', done: false }, { id: 'fixed' }), 'fixed')
    await assert.rejects(todos.insert({ title: 'b', done: false }, { id: 'fixed' }), { name: 'DuplicateIdError' })
    assert.equal((await todos.get('fixed'))?.title, 'a')
    await db.close()
  })

  test('update edits a draft; only changed fields are written', async () => {
    const db = await open()
    const todos = db.collection('todos', { schema: Todo })
    const id = await todos.insert({ title: 'milk', done: false, meta: { owner: 'ann' } })
    const updates: Uint8Array[] = []
    db.on('update', (u) => { if (u.target === 'record') updates.push(u.update) })
    await todos.update(id, (t) => { t.done = true })
    assert.deepEqual(await todos.get(id), { id, title: 'milk', done: true, meta: { owner: 'ann' } })
    assert.equal(updates.length, 1)
    assert.ok((updates[0] as Uint8Array).length < 40, `a one-field change makes a small update (${updates[0]?.length} bytes)`)
    await todos.update(id, (t) => ({ ...t, title: 'oat milk' }))
    assert.equal((await todos.get(id))?.title, 'oat milk')
    await db.close()
  })

  test('upsert inserts, then replaces fields', async () => {
    const db = await open()
    const todos = db.collection('todos', { schema: Todo })
    await todos.upsert('u1', { title: 'a', done: false, priority: 2 })
    await todos.upsert('u1', { title: 'a', done: true })
    assert.deepEqual(await todos.get('u1'), { id: 'u1', title: 'a', done: true })
    await db.close()
  })

  test('delete removes the record for good', async () => {
    const db = await open()
    const todos = db.collection('todos', { schema: Todo })
    const id = await todos.insert({ title: 'milk', done: false })
    await todos.delete(id)
    assert.equal(await todos.get(id), undefined)
    assert.equal(await todos.count(), 0)
    assert.equal(await todos.size(), 0)
    await assert.rejects(todos.delete(id), { name: 'RecordDeletedError' })
    await assert.rejects(todos.update(id, (t) => { t.done = true }), { name: 'RecordDeletedError' })
    await assert.rejects(todos.insert({ title: 'again', done: false }, { id }), { name: 'RecordDeletedError' })
    await db.close()
  })

  test('returned rows are frozen snapshots', async () => {
    const db = await open()
    const todos = db.collection('todos', { schema: Todo })
    const id = await todos.insert({ title: 'milk', done: false, tags: ['a'] })
    const row = await todos.get(id)
    assert.ok(row !== undefined && Object.isFrozen(row) && Object.isFrozen(row.tags))
    await todos.update(id, (t) => { t.tags?.push('b') })
    assert.deepEqual(row.tags, ['a'])
    assert.deepEqual((await todos.get(id))?.tags, ['a', 'b'])
    await db.close()
  })

  test('nested objects, arrays and bytes round-trip exactly', async () => {
    const db = await open()
    const { z } = await import('zod')
    const Any = z.object({ data: z.any() })
    const things = db.collection('things', { schema: Any })
    const value = {
      data: {
        n: 1.5,
        neg: -3,
        big: Number.MAX_SAFE_INTEGER,
        s: 'ünïcödé 🎉',
        empty: '',
        t: true,
        nil: null,
        list: [1, 'two', { three: [3] }, [], {}],
        bytes: new Uint8Array([0, 1, 255]),
        deep: { a: { b: { c: { d: 'e' } } } }
      }
    }
    const id = await things.insert(value)
    assert.deepEqual(await things.get(id), { id, ...value })
    await things.update(id, (t) => {
      (t.data as { list: unknown[] }).list.splice(1, 1, 'TWO', 2.5)
    })
    const list = ((await things.get(id))?.data as { list: unknown[] }).list
    assert.deepEqual(list, [1, 'TWO', 2.5, { three: [3] }, [], {}])
    await db.close()
  })

  test('text fields are Y.Text in the document and plain strings in reads', async () => {
    const db = await open()
    const notes = db.collection('notes', { schema: Note, text: ['body'] })
    const id = await notes.insert({ title: 't', body: 'hello world' })
    const doc = await notes.doc(id)
    const { Text } = await import('yjs')
    const body = doc.getMap('fields').get('body')
    assert.ok(body instanceof Text)
    await notes.update(id, (n) => { n.body = 'hello brave world' })
    assert.equal(body.toJSON(), 'hello brave world')
    assert.equal((await notes.get(id))?.body, 'hello brave world')
    await db.close()
  })

  test('edits made through doc(id) are stored and announced', async () => {
    const db = await open()
    const notes = db.collection('notes', { schema: Note, text: ['body'] })
    const id = await notes.insert({ title: 't', body: 'abc' })
    const doc = await notes.doc(id)
    const changed = new Promise((resolve) => notes.on('change', resolve))
    const { Text } = await import('yjs')
    const text = doc.getMap('fields').get('body')
    assert.ok(text instanceof Text)
    text.insert(3, 'def')
    assert.deepEqual(await changed, { collection: 'notes', id, type: 'update', origin: 'local' })
    assert.equal((await notes.get(id))?.body, 'abcdef')
    await db.close()
  })

  test('collection() returns the same collection; a different schema is refused', async () => {
    const db = await open()
    const a = db.collection('todos', { schema: Todo })
    assert.equal(db.collection('todos', { schema: Todo }), a)
    assert.throws(() => db.collection('todos', { schema: Note }), { name: 'CollectionConflictError' })
    for (const bad of ['bad name!', '', 'x'.repeat(65), 'a/b', 'é', 'tab\t']) {
      assert.throws(() => db.collection(bad, { schema: Todo }), { name: 'InvalidArgumentError' })
    }
    assert.equal(db.collection('x'.repeat(64), { schema: Todo }).name, 'x'.repeat(64))
    assert.equal(db.collection('Az09_.-', { schema: Todo }).name, 'Az09_.-')
    await db.close()
  })

  test('change events carry type and origin', async () => {
    const db = await open()
    const todos = db.collection('todos', { schema: Todo })
    const events: unknown[] = []
    const off = db.on('change', (e) => events.push(e))
    const id = await todos.insert({ title: 'a', done: false })
    await todos.update(id, (t) => { t.done = true })
    await todos.delete(id)
    off()
    await todos.insert({ title: 'b', done: false })
    assert.deepEqual(events, [
      { collection: 'todos', id, type: 'insert', origin: 'local' },
      { collection: 'todos', id, type: 'update', origin: 'local' },
      { collection: 'todos', id, type: 'delete', origin: 'local' }
    ])
    await db.close()
  })

  test('concurrent updates of one record all apply', async () => {
    const db = await open()
    const todos = db.collection('todos', { schema: Todo })
    const id = await todos.insert({ title: '', done: false, priority: 0 })
    await Promise.all(Array.from({ length: 50 }, async () => todos.update(id, (t) => { t.priority = (t.priority ?? 0) + 1 })))
    assert.equal((await todos.get(id))?.priority, 50)
    await db.close()
  })
})

describe('Database lifecycle', () => {
  test('a closed database rejects every call with DatabaseClosedError', async () => {
    const db = await open()
    const todos = db.collection('todos', { schema: Todo })
    const id = await todos.insert({ title: 'a', done: false })
    await db.close()
    assert.equal(db.status.open, false)
    await assert.rejects(todos.get(id), { name: 'DatabaseClosedError' })
    await assert.rejects(todos.insert({ title: 'b', done: false }), { name: 'DatabaseClosedError' })
    await assert.rejects(todos.find(), { name: 'DatabaseClosedError' })
    assert.throws(() => db.collection('other', { schema: Todo }), { name: 'DatabaseClosedError' })
    await db.close() // closing twice is fine
  })

  test('close waits for writes under way', async () => {
    const storage = keepOpen(memoryStorage())
    const db = await createDatabase({ name: 'test', storage })
    const todos = db.collection('todos', { schema: Todo })
    const writes = Array.from({ length: 20 }, async (_, i) => todos.insert({ title: `t${i}`, done: false }))
    await db.close()
    const ids = await Promise.all(writes)
    assert.equal(new Set(ids).size, 20)
    const again = await createDatabase({ name: 'test', storage: storage })
    assert.equal(await again.collection('todos', { schema: Todo }).count(), 20)
  })

  test('storage holding another database is refused', async () => {
    const storage = memoryStorage()
    const db = await createDatabase({ name: 'one', storage })
    await assert.rejects(createDatabase({ name: 'two', storage }), { name: 'DatabaseMismatchError' })
    await db.close()
  })

  test('data survives close and reopen on the same storage', async () => {
    const storage = memoryStorage()
    const closeNothing = { ...keepOpen(storage) }
    const db = await createDatabase({ name: 'test', storage: closeNothing, compactEvery: 4 })
    const todos = db.collection('todos', { schema: Todo })
    const id = await todos.insert({ title: 'a', done: false, priority: 0 })
    for (let i = 1; i <= 10; i++) await todos.update(id, (t) => { t.priority = i })
    const gone = await todos.insert({ title: 'gone', done: false })
    await todos.delete(gone)
    await db.close()
    const again = await createDatabase({ name: 'test', storage })
    const reopened = again.collection('todos', { schema: Todo })
    assert.deepEqual(await reopened.get(id), { id, title: 'a', done: false, priority: 10 })
    assert.equal(await reopened.get(gone), undefined)
    assert.equal(await reopened.count(), 1)
    await assert.rejects(reopened.insert({ title: 'x', done: false }, { id: gone }), { name: 'RecordDeletedError' })
    await again.close()
  })

  test('an update that storage fails to write rejects, and reads and watchers show the stored record again', async () => {
    const storage = memoryStorage()
    let failing = false
    const flaky = { ...keepOpen(storage), batch: async (ops: Parameters<typeof storage.batch>[0]) => { if (failing) throw new Error('disk full'); return storage.batch(ops) } }
    const db = await createDatabase({ name: 'test', storage: flaky })
    const todos = db.collection('todos', { schema: Todo })
    const id = await todos.insert({ title: 'kept', done: false })
    const seen: Array<string | undefined> = []
    const stop = todos.subscribe(id, (row) => { seen.push(row?.title) })
    failing = true
    await assert.rejects(todos.update(id, (t) => { t.title = 'lost' }), { name: 'StorageError' })
    failing = false
    assert.equal((await todos.get(id))?.title, 'kept')
    assert.deepEqual((await todos.find()).map((t) => t.title), ['kept'])
    assert.equal(seen.at(-1), 'kept', 'the last thing a watcher saw is the stored record')
    await todos.update(id, (t) => { t.done = true })
    assert.deepEqual(await todos.get(id), { id, title: 'kept', done: true })
    stop()
    await db.close()
  })
})
