/**
 * Many records from a peer at once (`db.applyRemoteRecords`, what a
 * catch-up session applies): records new here are shown, then stored in
 * one storage batch; anything else merges update by update; bad bytes are
 * refused one by one and change nothing.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase, memoryStorage, type BatchOperation, type Database, type RemoteRecord, type RemoteUpdate, type StorageAdapter } from '@kadmium/core'
import { truncations } from '../adversary/forge.ts'
import { Todo } from '../helpers/schemas.ts'
import { withBatch } from '../helpers/storage.ts'

/** A writer database whose local updates are collected: index updates, and each record's updates by id. */
async function source (): Promise<{ db: Database, index: Uint8Array[], records: Map<string, Uint8Array[]> }> {
  const db = await createDatabase({ name: 'bulk', storage: memoryStorage() })
  const index: Uint8Array[] = []
  const records = new Map<string, Uint8Array[]>()
  db.on('update', (u) => {
    if (u.origin !== 'local') return
    if (u.target === 'index') index.push(u.update)
    else if (u.id !== undefined) records.set(u.id, [...records.get(u.id) ?? [], u.update])
  })
  return { db, index, records }
}

/** A database on `inner` whose storage batches are recorded. */
async function target (inner: StorageAdapter = memoryStorage()): Promise<{ db: Database, batches: BatchOperation[][] }> {
  const batches: BatchOperation[][] = []
  const storage = withBatch(inner, async (ops) => {
    batches.push([...ops])
    await inner.batch(ops)
  })
  return { db: await createDatabase({ name: 'bulk', storage }), batches }
}

const indexOf = (updates: readonly Uint8Array[]): RemoteUpdate[] => updates.map((update) => ({ collection: 'todos', target: 'index', update }))

test('200 records new here: each shows, all in one storage batch, and they are there after a reopen', async () => {
  const from = await source()
  const todos = from.db.collection('todos', { schema: Todo })
  for (let i = 0; i < 200; i++) await todos.insert({ title: `t${i}`, done: i % 2 === 0, priority: i })
  const inner = memoryStorage()
  const to = await target(inner)
  const there = to.db.collection('todos', { schema: Todo })
  for (const u of indexOf(from.index)) await to.db.applyRemoteUpdate(u)
  assert.equal(await there.count(), 0, 'listed by the index, but no data yet: nothing shows')
  const changes: string[] = []
  to.db.on('change', (e) => { changes.push(e.id) })
  const before = to.batches.length
  const refused = await to.db.applyRemoteRecords('todos', [...from.records])
  assert.deepEqual(refused, [])
  assert.equal(changes.length, 200, 'one change event per record')
  const rowBatches = to.batches.slice(before).filter((ops) => ops.some((op) => op.type === 'put' && op.key.includes('todos') && op.key.includes('/r/')))
  assert.equal(rowBatches.length, 1, `one storage batch for the records (${to.batches.length - before} batches in all)`)
  assert.equal(await there.count(), 200)
  assert.equal(await there.count({ where: { done: true } }), 100)
  await to.db.close()

  const reopened = await createDatabase({ name: 'bulk', storage: inner })
  const again = reopened.collection('todos', { schema: Todo })
  assert.equal(await again.count(), 200)
  for (const [id] of from.records) assert.ok(await again.get(id) !== undefined, `record ${id} stored`)
  await reopened.close()
  await from.db.close()
})

test('a record already held here merges with what arrives (concurrent field edits both survive)', async () => {
  const from = await source()
  const todos = from.db.collection('todos', { schema: Todo })
  const id = await todos.insert({ title: 'first', done: false, priority: 1 })
  const to = await target()
  for (const u of indexOf(from.index)) await to.db.applyRemoteUpdate(u)
  await to.db.applyRemoteRecords('todos', [...from.records])
  const there = to.db.collection('todos', { schema: Todo })
  await there.update(id, (t) => { t.done = true })
  from.records.clear()
  await todos.update(id, (t) => { t.title = 'renamed' })
  assert.deepEqual(await to.db.applyRemoteRecords('todos', [...from.records]), [])
  assert.deepEqual({ ...await there.get(id) }, { id, title: 'renamed', done: true, priority: 1 })
  await from.db.close()
  await to.db.close()
})

test('bad bytes are refused one by one; the good updates and records of the batch apply', async () => {
  const from = await source()
  const todos = from.db.collection('todos', { schema: Todo })
  const a = await todos.insert({ title: 'a', done: false, priority: 1 })
  const b = await todos.insert({ title: 'b', done: false, priority: 2 })
  const to = await target()
  for (const u of indexOf(from.index)) await to.db.applyRemoteUpdate(u)
  const good = from.records.get(a) as Uint8Array[]
  const damaged = truncations(good[0] as Uint8Array)
  const batch: RemoteRecord[] = [[a, [...damaged, ...good]], [b, from.records.get(b) as Uint8Array[]], ['bad/id', good]]
  const refused = await to.db.applyRemoteRecords('todos', batch)
  assert.equal(refused.filter((r) => r.id === a).length, damaged.length, 'each damaged update refused alone')
  assert.ok(refused.every((r) => r.error.name === 'MalformedUpdateError' || r.error.name === 'InvalidArgumentError'), refused.map((r) => r.error.name).join())
  assert.ok(refused.some((r) => r.id === 'bad/id'), 'an id that is not one is refused')
  const there = to.db.collection('todos', { schema: Todo })
  assert.equal((await there.get(a))?.title, 'a')
  assert.equal((await there.get(b))?.title, 'b')
  await from.db.close()
  await to.db.close()
})

test('a record deleted here stays deleted; one sent twice in a batch gets both updates', async () => {
  const from = await source()
  const todos = from.db.collection('todos', { schema: Todo })
  const gone = await todos.insert({ title: 'gone', done: false, priority: 1 })
  const twice = await todos.insert({ title: 'v1', done: false, priority: 2 })
  await todos.update(twice, (t) => { t.title = 'v2' })
  const to = await target()
  const there = to.db.collection('todos', { schema: Todo })
  for (const u of indexOf(from.index)) await to.db.applyRemoteUpdate(u)
  await to.db.applyRemoteRecords('todos', [[gone, from.records.get(gone) as Uint8Array[]]])
  await there.delete(gone)
  const [first, second] = from.records.get(twice) as Uint8Array[]
  await to.db.applyRemoteRecords('todos', [[gone, from.records.get(gone) as Uint8Array[]], [twice, [first as Uint8Array]], [twice, [second as Uint8Array]]])
  assert.equal(await there.get(gone), undefined)
  assert.equal((await there.get(twice))?.title, 'v2')
  await from.db.close()
  await to.db.close()
})

test('a first query while the records are shown but not yet stored sees them (its rows are loaded then)', async () => {
  const from = await source()
  const todos = from.db.collection('todos', { schema: Todo })
  for (let i = 0; i < 50; i++) await todos.insert({ title: `t${i}`, done: false, priority: i })
  const inner = memoryStorage()
  let hold: Promise<void> = Promise.resolve()
  let release: () => void = () => {}
  const storage = withBatch(inner, async (ops) => {
    await hold
    await inner.batch(ops)
  })
  const db = await createDatabase({ name: 'bulk', storage })
  for (const u of indexOf(from.index)) await db.applyRemoteUpdate(u)
  // Storage holds every write from now on: the records show, and wait to be stored.
  hold = new Promise<void>((resolve) => { release = resolve })
  const shown = new Promise<void>((resolve) => {
    let n = 0
    db.on('change', () => { if (++n === 50) resolve() })
  })
  const applying = db.applyRemoteRecords('todos', [...from.records])
  await shown
  // The collection's rows had never been read: this first query loads them now, from storage and from what waits.
  const there = db.collection('todos', { schema: Todo })
  assert.equal(await there.count(), 50)
  release()
  assert.deepEqual(await applying, [])
  assert.equal(await there.count(), 50)
  await from.db.close()
  await db.close()
})
