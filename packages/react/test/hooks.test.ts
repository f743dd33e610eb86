import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDatabase, memoryStorage, type Collection, type Database, type DatabaseStatus, type Query, type Row, type StandardSchemaV1 } from '@kadmium/core'
import { useQuery, useRecord, useStatus } from '@kadmium/react'
import { mount, settle, waitFor, write } from './dom.ts'

interface Todo { title: string, done: boolean, tags?: string[] }

/** A Standard Schema that takes any object as a Todo (no validation library needed). */
const todoSchema: StandardSchemaV1<Todo> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) => ({ value: value as Todo })
  }
}

async function open (): Promise<{ db: Database, todos: Collection<Todo>, notes: Collection<Todo> }> {
  const db = await createDatabase({ name: 'react-hooks', storage: memoryStorage() })
  return { db, todos: db.collection('todos', { schema: todoSchema }), notes: db.collection('notes', { schema: todoSchema }) }
}

/** Counts the subscriptions a collection has made and those still live. */
function spySubscriptions (collection: Collection<Todo>): { made: number, live: number } {
  const counts = { made: 0, live: 0 }
  const original = collection.subscribe.bind(collection) as (target: unknown, callback: unknown) => () => void
  Object.defineProperty(collection, 'subscribe', {
    value: (target: unknown, callback: unknown) => {
      const off = original(target, callback)
      counts.made++
      counts.live++
      let on = true
      return () => {
        if (on) counts.live--
        on = false
        off()
      }
    }
  })
  return counts
}

const titles = (rows: ReadonlyArray<Row<Todo>>): string[] => rows.map((row) => row.title)

test('useQuery renders the rows of a live query again after an insert, an update and a delete', async () => {
  const { db, todos } = await open()
  try {
    await todos.insert({ title: 'b', done: false })
    const renders: Array<ReadonlyArray<Row<Todo>>> = []
    function Open ({ collection }: { collection: Collection<Todo> }): null {
      renders.push(useQuery(collection, { where: { done: false }, orderBy: 'title' }))
      return null
    }
    const view = await mount(Open, { collection: todos })
    const last = (): string[] => titles(renders.at(-1) ?? [])
    await waitFor(() => last().length === 1)
    assert.deepEqual(last(), ['b'])

    const a = await write(async () => await todos.insert({ title: 'a', done: false }))
    await waitFor(() => last().length === 2)
    assert.deepEqual(last(), ['a', 'b'])

    await write(async () => await todos.update(a, (t) => { t.title = 'c' }))
    await waitFor(() => last()[1] === 'c')
    assert.deepEqual(last(), ['b', 'c'])

    await write(async () => await todos.update(a, (t) => { t.done = true }))
    await waitFor(() => last().length === 1)
    assert.deepEqual(last(), ['b'])

    const [b] = renders.at(-1) ?? []
    await write(async () => await todos.delete(b?.id ?? ''))
    await waitFor(() => last().length === 0)
    await view.unmount()
  } finally {
    await db.close()
  }
})

test('useQuery renders nothing more for unrelated changes, an unchanged result or a new query literal of the same content', async () => {
  const { db, todos, notes } = await open()
  try {
    const spy = spySubscriptions(todos)
    await todos.insert({ title: 'a', done: false, tags: ['x'] })
    const done = await todos.insert({ title: 'z', done: true })
    let renders = 0
    let result: ReadonlyArray<Row<Todo>> = []
    function Open ({ collection, label }: { collection: Collection<Todo>, label: string }): null {
      renders++
      // A new literal on every render, as components write it.
      const query: Query<Todo> = { where: { done: false }, orderBy: [{ field: 'title', direction: 'asc' }] }
      result = useQuery(collection, query)
      void label
      return null
    }
    const view = await mount(Open, { collection: todos, label: 'one' })
    await waitFor(() => result.length === 1)
    await settle()
    const settled = renders
    const rows = result

    // Another collection, a record outside the query, a write that changes nothing.
    await write(async () => await notes.insert({ title: 'n', done: false }))
    await write(async () => await todos.update(done, (t) => { t.title = 'y' }))
    await write(async () => await todos.insert({ title: 'w', done: true }))
    await write(async () => await todos.update(rows[0]?.id ?? '', (t) => { t.tags = ['x'] }))
    await settle(50)
    assert.equal(renders, settled, 'no render for changes that leave the result as it was')
    assert.equal(result, rows, 'the same array')

    // The parent renders again: a new query literal, the same subscription.
    await view.rerender({ collection: todos, label: 'two' })
    assert.equal(renders, settled + 1)
    assert.equal(result, rows)
    assert.equal(spy.made, 1, 'one subscription across renders')
    assert.equal(spy.live, 1)

    // A new matching record: the same subscription reports it.
    await write(async () => await todos.insert({ title: 'b', done: false }))
    await waitFor(() => result.length === 2)
    assert.equal(spy.made, 1)

    await view.unmount()
    assert.equal(spy.live, 0, 'unmount unsubscribes')
  } finally {
    await db.close()
  }
})

test('useQuery subscribes again when the query changes, and unsubscribes the old one', async () => {
  const { db, todos } = await open()
  try {
    const spy = spySubscriptions(todos)
    await todos.insert({ title: 'a', done: false })
    await todos.insert({ title: 'b', done: true })
    let result: ReadonlyArray<Row<Todo>> = []
    function List ({ done }: { done: boolean }): null {
      result = useQuery(todos, { where: { done } })
      return null
    }
    const view = await mount(List, { done: false })
    await waitFor(() => result.length === 1)
    assert.deepEqual(titles(result), ['a'])
    await view.rerender({ done: true })
    await waitFor(() => titles(result)[0] === 'b')
    assert.equal(spy.made, 2)
    assert.equal(spy.live, 1)
    await view.unmount()
    assert.equal(spy.live, 0)
  } finally {
    await db.close()
  }
})

test('useRecord follows one record and renders nothing for others', async () => {
  const { db, todos } = await open()
  try {
    const spy = spySubscriptions(todos)
    const id = await todos.insert({ title: 'a', done: false })
    const other = await todos.insert({ title: 'o', done: false })
    const seen: Array<Row<Todo> | undefined> = []
    function One ({ id }: { id: string | undefined }): null {
      seen.push(useRecord(todos, id))
      return null
    }
    const view = await mount<{ id: string | undefined }>(One, { id })
    await waitFor(() => seen.at(-1)?.title === 'a')

    await write(async () => await todos.update(id, (t) => { t.done = true }))
    await waitFor(() => seen.at(-1)?.done === true)
    const renders = seen.length
    await write(async () => await todos.update(other, (t) => { t.title = 'p' }))
    await settle(50)
    assert.equal(seen.length, renders, 'another record changed: no render')

    await write(async () => await todos.delete(id))
    await waitFor(() => seen.at(-1) === undefined)

    await view.rerender({ id: undefined })
    assert.equal(seen.at(-1), undefined)
    assert.equal(spy.live, 0, 'no id: no subscription')
    await view.unmount()
    assert.equal(spy.live, 0)
    assert.equal(spy.made, 1)
  } finally {
    await db.close()
  }
})

test('useStatus keeps one snapshot while the status is unchanged and shows the database closed', async () => {
  const { db, todos } = await open()
  let closed = false
  try {
    const seen: DatabaseStatus[] = []
    function Status (_: { n: number }): null {
      seen.push(useStatus(db, { interval: 10 }))
      return null
    }
    const view = await mount(Status, { n: 0 })
    await write(async () => await todos.insert({ title: 'a', done: false }))
    await settle(50)
    const before = seen.length
    await settle(50)
    assert.equal(seen.length, before, 'polling an unchanged status renders nothing')
    await view.rerender({ n: 1 })
    assert.equal(seen.at(-1), seen.at(-2), 'the same object while unchanged')
    assert.equal(seen.at(-1)?.open, true)

    await write(async () => { await db.close() })
    closed = true
    await waitFor(() => seen.at(-1)?.open === false)
    assert.equal(seen.at(-1)?.online, false)
    await view.unmount()
  } finally {
    if (!closed) await db.close()
  }
})
