import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as Y from 'yjs'
import { z } from 'zod'
import { createDatabase, memoryStorage, RECORD_ROOT, type Database, type RejectedEvent, type StandardSchemaV1, type UpdateEvent } from '@kadmium/core'
import { keepOpen } from '@kadmium/core/testing'
import { Todo } from './helpers/schemas.ts'
import { waitFor } from './helpers/wait.ts'

/** Any object: what an outdated or hostile peer's collection accepts. */
const Anything = z.record(z.string(), z.unknown())

/**
 * Two databases on memory storage: `peer` writes with a schema that takes
 * anything, `here` opens the same collection with the strict `Todo` schema.
 * `deliver()` applies the peer's committed updates to `here`, as a network
 * layer would (`db.applyRemoteUpdate`).
 */
async function peers (options: { openHere?: boolean } = {}) {
  const peerDb = await createDatabase({ name: 'invalid', storage: memoryStorage() })
  const hereDb = await createDatabase({ name: 'invalid', storage: memoryStorage() })
  const peer = peerDb.collection('todos', { schema: Anything })
  const here = options.openHere === false ? undefined : hereDb.collection('todos', { schema: Todo })
  const outbox: UpdateEvent[] = []
  peerDb.on('update', (u) => { if (u.origin === 'local') outbox.push(u) })
  const rejected: RejectedEvent[] = []
  hereDb.on('rejected', (e) => { rejected.push(e) })
  const deliver = async (): Promise<void> => {
    for (const u of outbox.splice(0)) await hereDb.applyRemoteUpdate(u)
  }
  const close = async (): Promise<void> => { await Promise.all([peerDb.close(), hereDb.close()]) }
  return { peerDb, hereDb, peer, here: here as NonNullable<typeof here>, deliver, rejected, close }
}

/** A Standard Schema that counts how often it is run. */
function counted<S extends StandardSchemaV1> (schema: S): { schema: S, runs: () => number } {
  let runs = 0
  const std = schema['~standard']
  const wrapped = { '~standard': { ...std, validate: (value: unknown) => { runs++; return std.validate(value) } } } as unknown as S
  return { schema: wrapped, runs: () => runs }
}

/** The latest result of a live query, and a wait for a condition on it. */
function watchQuery (subscribe: (cb: (rows: ReadonlyArray<{ id: string }>) => void) => () => void) {
  let latest: string[] | undefined
  const stop = subscribe((rows) => { latest = rows.map((r) => r.id) })
  return {
    stop,
    ids: () => latest,
    until: async (want: string[], what: string) => waitFor(() => JSON.stringify(latest) === JSON.stringify(want), `${what} (live result: ${JSON.stringify(latest)})`)
  }
}

describe('records that fail the schema (from peers)', () => {
  test('find, count and live queries skip them; get throws InvalidRecordError; invalid() lists them', async () => {
    const { peer, here, deliver, close } = await peers()
    const good = await peer.insert({ title: 'good', done: false })
    const badType = await peer.insert({ title: 42, done: false })
    const badNesting = await peer.insert({ title: 'nested', done: false, meta: 'not an object' })
    const missing = await peer.insert({ done: false })
    await deliver()

    assert.deepEqual((await here.find()).map((r) => r.id), [good])
    assert.equal(await here.count(), 1)
    assert.equal(await here.size(), 4, 'size() counts every live record held, failing ones too')
    assert.equal(await here.count({ where: { done: false } }), 1)
    assert.deepEqual(await here.find({ where: { title: 42 as never } }), [])
    assert.deepEqual((await here.find({ where: { done: false }, orderBy: 'title', limit: 10 })).map((r) => r.id), [good])
    const live = watchQuery((cb) => here.subscribe({ where: { done: false } }, cb))
    await live.until([good], 'the live query to hold the valid record only')
    live.stop()

    assert.deepEqual(await here.get(good), { id: good, title: 'good', done: false })
    for (const [id, path] of [[badType, 'title'], [badNesting, 'meta'], [missing, 'title']] as const) {
      await assert.rejects(here.get(id), (error: Error & { collection: string, id: string, issues: Array<{ path: string }> }) => {
        assert.equal(error.name, 'InvalidRecordError')
        assert.equal(error.collection, 'todos')
        assert.equal(error.id, id)
        assert.deepEqual(error.issues.map((i) => i.path), [path])
        return true
      })
    }
    const invalid = await here.invalid()
    assert.deepEqual(invalid.map((r) => r.id).sort(), [badType, badNesting, missing].sort())
    const typed = invalid.find((r) => r.id === badType)
    assert.deepEqual(typed?.value, { id: badType, title: 42, done: false })
    assert.deepEqual(typed?.issues.map((i) => i.path), ['title'])
    // A record watcher sees nothing while the record fails the schema.
    const seen: unknown[] = []
    const stop = here.subscribe(badType, (row) => { seen.push(row) })
    await waitFor(() => seen.length > 0, 'the record watcher')
    assert.deepEqual(seen, [undefined])
    stop()
    await close()
  })

  test('a remote change that leaves a record invalid emits rejected (via "schema") with the collection and id', async () => {
    const { peer, deliver, rejected, close } = await peers()
    await peer.insert({ title: 'fine', done: true })
    await deliver()
    assert.deepEqual(rejected, [], 'a valid record is not reported')
    const bad = await peer.insert({ title: 42, done: true })
    await deliver()
    assert.equal(rejected.length, 1)
    const event = rejected[0] as (RejectedEvent & { collection?: string, id?: string }) | undefined
    assert.ok(event !== undefined)
    assert.equal(event.via, 'schema')
    assert.match(event.reason, /^InvalidRecordError: /)
    assert.ok(event.reason.includes(bad) && event.reason.includes('title'), event.reason)
    assert.equal(event.collection, 'todos')
    assert.equal(event.id, bad)
    // Each further remote change that leaves it invalid is reported again.
    await peer.update(bad, (t) => { t.done = false })
    await deliver()
    assert.equal(rejected.length, 2)
    await close()
  })

  test('a valid record that a peer breaks leaves queries and watchers; the CRDT still merges', async () => {
    const { peer, here, hereDb, deliver, close } = await peers()
    const id = await peer.insert({ title: 'ok', done: false })
    await deliver()
    const live = watchQuery((cb) => here.subscribe({}, cb))
    await live.until([id], 'the record in the live query')
    const rows: unknown[] = []
    here.subscribe(id, (row) => { rows.push(row) })
    await waitFor(() => rows.length === 1, 'the first value of the record watcher')
    const changes: string[] = []
    hereDb.on('change', (e) => { changes.push(`${e.type}:${e.id}`) })

    await peer.update(id, (t) => { t.title = ['not', 'a', 'string'] })
    await deliver()
    await live.until([], 'the broken record to leave the live query')
    assert.equal(rows.at(-1), undefined)
    assert.deepEqual(changes, [`update:${id}`], 'the change is announced (reads then skip or throw)')
    await assert.rejects(here.get(id), { name: 'InvalidRecordError' })
    // Kept as a CRDT: this replica's document holds the peer's state, so later updates still apply.
    assert.deepEqual(Y.encodeStateVector(await here.doc(id)), Y.encodeStateVector(await peer.doc(id)))
    live.stop()
    await close()
  })

  test('a later remote update that makes the record pass brings it back (change event, live query, watcher)', async () => {
    const { peer, here, hereDb, deliver, close } = await peers()
    const id = await peer.insert({ title: 'x', done: 'yes' })
    await deliver()
    assert.equal(await here.count(), 0)
    const live = watchQuery((cb) => here.subscribe({ where: { done: true } }, cb))
    await live.until([], 'the empty live result')
    const rows: unknown[] = []
    here.subscribe(id, (row) => { rows.push(row) })
    const changes: string[] = []
    hereDb.on('change', (e) => { changes.push(`${e.type}:${e.id}`) })

    await peer.update(id, (t) => { t.done = true })
    await deliver()
    await live.until([id], 'the repaired record in the live query')
    assert.deepEqual(changes, [`update:${id}`])
    assert.deepEqual(rows.at(-1), { id, title: 'x', done: true })
    assert.deepEqual(await here.get(id), { id, title: 'x', done: true })
    assert.deepEqual(await here.invalid(), [])
    live.stop()
    await close()
  })

  test('an app repairs an invalid record with update: the draft holds the stored value; the result must pass', async () => {
    const { peer, here, deliver, rejected, close } = await peers()
    const id = await peer.insert({ title: 42, done: false, junk: true })
    await deliver()
    const live = watchQuery((cb) => here.subscribe({}, cb))
    await live.until([], 'the empty live result')
    // A repair that still fails the schema is refused as any write is.
    await assert.rejects(here.update(id, (t) => { t.done = true }), { name: 'ValidationError' })
    let drafted: unknown
    await here.update(id, (t) => {
      drafted = { ...t }
      t.title = String(t.title)
    })
    assert.deepEqual(drafted, { title: 42, done: false, junk: true })
    // The schema's output is what is stored: the unknown key is gone.
    assert.deepEqual(await here.get(id), { id, title: '42', done: false })
    await live.until([id], 'the repaired record in the live query')
    assert.deepEqual(await here.invalid(), [])
    assert.equal(await here.count(), 1)
    assert.equal(rejected.length, 1, 'a local repair is not reported')
    // upsert and delete work on an invalid record too.
    const other = await peer.insert({ title: false, done: false })
    const third = await peer.insert({ title: null, done: false })
    await deliver()
    await here.upsert(other, { title: 'replaced', done: true })
    assert.equal((await here.get(other))?.title, 'replaced')
    await here.delete(third)
    assert.equal(await here.get(third), undefined)
    assert.deepEqual(await here.invalid(), [])
    live.stop()
    await close()
  })

  test('a hostile update built with Yjs directly (an array where a string belongs, junk keys)', async () => {
    const { peer, here, hereDb, deliver, rejected, close } = await peers()
    const id = await peer.insert({ title: 'fine', done: false })
    // The hostile peer's own copy of the record, edited below with Yjs.
    const recordUpdate = new Y.Doc()
    Y.applyUpdate(recordUpdate, Y.encodeStateAsUpdate(await peer.doc(id)))
    await deliver()
    assert.equal((await here.get(id))?.title, 'fine')
    const before = Y.encodeStateVector(recordUpdate)
    recordUpdate.transact(() => {
      const root = recordUpdate.getMap(RECORD_ROOT)
      const array = new Y.Array<number>()
      array.insert(0, [1, 2, 3])
      root.set('title', array)
      root.set('__proto__junk', new Y.Map())
    })
    await hereDb.applyRemoteUpdate({ collection: 'todos', target: 'record', id, update: Y.encodeStateAsUpdate(recordUpdate, before) })
    await assert.rejects(here.get(id), { name: 'InvalidRecordError' })
    assert.equal(await here.count(), 0)
    assert.equal(rejected.length, 1)
    // Junk keys alone do not make a record fail a stripping schema: reads return the schema's output, without them.
    const junk = await peer.insert({ title: 'junk', done: true, extra: { deep: [1] } })
    await deliver()
    assert.deepEqual(await here.get(junk), { id: junk, title: 'junk', done: true })
    assert.deepEqual((await here.find({ where: { done: true } })).map((r) => Object.keys(r).sort()), [['done', 'id', 'title']])
    assert.equal(rejected.length, 1)
    await close()
  })

  test('records that arrived while the collection was not open are checked when it opens (no rejected event)', async () => {
    const { peer, hereDb, deliver, rejected, close } = await peers({ openHere: false })
    const good = await peer.insert({ title: 'good', done: false })
    const bad = await peer.insert({ title: 7, done: false })
    await deliver()
    const here = hereDb.collection('todos', { schema: Todo })
    await assert.rejects(here.get(bad), { name: 'InvalidRecordError' })
    assert.deepEqual((await here.find()).map((r) => r.id), [good])
    assert.deepEqual((await here.invalid()).map((r) => r.id), [bad])
    assert.deepEqual(rejected, [])
    await close()
  })

  test('a new schema over stored data: records that fail it are skipped and listed; defaults fill old records', async () => {
    const storage = keepOpen(memoryStorage())
    const v1 = await createDatabase({ name: 'evolve', storage })
    const old = v1.collection('todos', { schema: z.object({ title: z.string() }) })
    const a = await old.insert({ title: 'a' })
    const b = await old.insert({ title: 'b' })
    await v1.close()

    // v2 requires `done`: the old records fail it until an app migrates them.
    const v2 = await createDatabase({ name: 'evolve', storage })
    const strict = v2.collection('todos', { schema: z.object({ title: z.string(), done: z.boolean() }) })
    assert.equal(await strict.count(), 0)
    assert.deepEqual(await strict.find(), [])
    await assert.rejects(strict.get(a), { name: 'InvalidRecordError' })
    const invalid = await strict.invalid()
    assert.deepEqual(invalid.map((r) => [r.id, r.issues.map((i) => i.path)]), [[a, ['done']], [b, ['done']]])
    // The migration: update each one.
    for (const { id } of invalid) await strict.update(id, (t) => { t.done = false })
    assert.deepEqual(await strict.find(), [{ id: a, title: 'a', done: false }, { id: b, title: 'b', done: false }])
    await v2.close()

    // v3 adds a field with a default: old records pass and read with it.
    const v3 = await createDatabase({ name: 'evolve', storage })
    const withDefault = v3.collection('todos', { schema: z.object({ title: z.string(), done: z.boolean(), priority: z.number().default(0) }) })
    assert.deepEqual(await withDefault.get(a), { id: a, title: 'a', done: false, priority: 0 })
    assert.deepEqual((await withDefault.find({ where: { priority: 0 } })).map((r) => r.id), [a, b])
    assert.deepEqual(await withDefault.invalid(), [])
    await v3.close()
  })

  test('validity is remembered: finds do not run the schema again; each remote change runs it once', async () => {
    const { schema, runs } = counted(Todo)
    const peerDb = await createDatabase({ name: 'cost', storage: memoryStorage() })
    const hereDb = await createDatabase({ name: 'cost', storage: memoryStorage() })
    const peer = peerDb.collection('todos', { schema: Anything })
    const outbox: UpdateEvent[] = []
    peerDb.on('update', (u) => { outbox.push(u) })
    for (let i = 0; i < 50; i++) await peer.insert({ title: i % 10 === 0 ? i : `t${i}`, done: false })
    const here = hereDb.collection('todos', { schema })
    for (const u of outbox.splice(0)) await hereDb.applyRemoteUpdate(u)
    assert.equal(runs(), 50, 'each remote record was checked once')
    assert.equal(await here.count(), 45)
    for (let i = 0; i < 5; i++) {
      await here.find({ where: { done: false } })
      await here.find({ orderBy: 'title', limit: 3 })
      await here.count()
      await here.get((await here.find({ limit: 1 }))[0]?.id as string)
    }
    assert.equal(runs(), 50, 'reads did not run the schema again')
    // A local write runs it once (the write's own validation), a remote change once.
    const mine = await here.insert({ title: 'mine', done: true })
    assert.equal(runs(), 51)
    await here.get(mine)
    assert.equal(runs(), 51)
    await peer.update((await peer.find({ limit: 1 }))[0]?.id as string, (t) => { t.done = true })
    for (const u of outbox.splice(0)) await hereDb.applyRemoteUpdate(u)
    assert.equal(runs(), 52)
    await Promise.all([peerDb.close(), hereDb.close()])
  })

  test('an async schema: invalid records are skipped all the same', async () => {
    const std = Todo['~standard']
    const asyncTodo = { '~standard': { ...std, validate: async (value: unknown) => std.validate(value) } } as unknown as typeof Todo
    const { peer, hereDb, deliver, rejected, close } = await peers({ openHere: false })
    const here = hereDb.collection('todos', { schema: asyncTodo })
    const good = await peer.insert({ title: 'ok', done: true })
    const bad = await peer.insert({ title: 1, done: true })
    await deliver()
    assert.deepEqual((await here.find()).map((r) => r.id), [good])
    await assert.rejects(here.get(bad), { name: 'InvalidRecordError' })
    assert.equal(rejected.length, 1)
    await close()
  })

  test('an edit through doc(id) that breaks the schema hides the record (it is not refused)', async () => {
    const db: Database = await createDatabase({ name: 'doc-edit', storage: memoryStorage() })
    const todos = db.collection('todos', { schema: Todo })
    const id = await todos.insert({ title: 'x', done: false })
    const doc = await todos.doc(id)
    doc.getMap(RECORD_ROOT).set('done', 'maybe')
    await waitFor(async () => (await todos.count()) === 0, 'the broken record to leave the count')
    await assert.rejects(todos.get(id), { name: 'InvalidRecordError' })
    doc.getMap(RECORD_ROOT).set('done', true)
    await waitFor(async () => (await todos.count()) === 1, 'the fixed record to be back')
    await db.close()
  })
})
