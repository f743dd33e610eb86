/**
 * Databases that write one storage at the same time (`sharedStorage`), as
 * browser tabs of one origin do on one IndexedDB database: each sends its
 * stored updates to the others, which apply them as remote ones. Nothing a
 * writer stored is lost, whatever compactions run meanwhile, and updates
 * already in storage when the receiver reads a record still show.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase, memoryStorage, RECORD_ROOT, type Database, type SharedStorage, type StorageAdapter } from '@kadmium/core'
import { z } from 'zod'
import { decodeDigest } from '../../src/store/digest.ts'
import { prng, seedFromEnv } from '../helpers/random.ts'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'

/** One storage as each database opens it: its own handle, whose close leaves the others' open (as IndexedDB connections). */
function handle (storage: StorageAdapter): StorageAdapter {
  return {
    get: async (key) => storage.get(key),
    put: async (key, value) => storage.put(key, value),
    delete: async (key) => storage.delete(key),
    scan: (prefix, options) => storage.scan(prefix, options),
    batch: async (operations) => storage.batch(operations)
  }
}

/** Exclusive work across the databases of one storage (a Web Lock in browsers). */
function mutex (): SharedStorage {
  let tail: Promise<unknown> = Promise.resolve()
  return {
    exclusive: async <T>(work: () => Promise<T>): Promise<T> => {
      const run = tail.then(work, work)
      tail = run.catch(() => {})
      return run
    }
  }
}

/**
 * "Tabs" on one storage: each database's stored updates go to every other
 * open one (not those it applied from another: they came from there), each
 * delivery after `delay()` macrotasks, in any order.
 */
class Tabs {
  readonly storage = memoryStorage()
  readonly shared = mutex()
  readonly open = new Set<Database>()
  readonly #delay: () => number
  /** Per database, the updates it applied from another (not sent on again). */
  readonly #applied = new WeakMap<Database, WeakSet<Uint8Array>>()
  #inFlight = 0

  constructor (delay: () => number = () => 0) {
    this.#delay = delay
  }

  get quiet (): boolean {
    return this.#inFlight === 0
  }

  async tab (options: { compactEvery?: number } = {}): Promise<Database> {
    const db = await createDatabase({ name: 'tabs', storage: handle(this.storage), sharedStorage: this.shared, ...options })
    db.on('update', (u) => {
      if (this.#applied.get(db)?.has(u.update) === true) return
      for (const to of this.open) {
        if (to === db) continue
        this.#inFlight++
        const update = u.update.slice()
        void this.#later(this.#delay()).then(async () => {
          if (!this.open.has(to)) return
          this.#applied.get(to)?.add(update)
          await to.applyRemoteUpdate({ collection: u.collection, target: u.target, ...(u.id !== undefined ? { id: u.id } : {}), update })
        }).finally(() => { this.#inFlight-- })
      }
    })
    this.#applied.set(db, new WeakSet())
    this.open.add(db)
    return db
  }

  async close (db: Database): Promise<void> {
    this.open.delete(db)
    await db.close()
  }

  async #later (tasks: number): Promise<void> {
    for (let i = 0; i < tasks; i++) await new Promise((resolve) => setImmediate(resolve))
  }
}

test('a write in one shows in the other\'s live query at once, both ways, also for records the other never read', async () => {
  const tabs = new Tabs()
  const a = await tabs.tab()
  const ta = a.collection('todos', { schema: Todo })
  const id = await ta.insert({ title: 'milk', done: false })
  const b = await tabs.tab()
  const tb = b.collection('todos', { schema: Todo })
  const seen: string[][] = []
  const stop = tb.subscribe({ orderBy: 'title' }, (rows) => seen.push(rows.map((r) => `${r.title}:${String(r.done)}`)))
  await waitFor(() => seen.at(-1)?.join() === 'milk:false', 'the stored row in b\'s live query')
  // b never read the record's document: it reads it from storage, where a stored the update before sending it.
  await ta.update(id, (t) => { t.done = true })
  await waitFor(() => seen.at(-1)?.join() === 'milk:true', 'the update in b\'s live query')
  await ta.insert({ title: 'eggs', done: false })
  await waitFor(() => seen.at(-1)?.join() === 'eggs:false,milk:true', 'the insert in b\'s live query')
  const seenA: string[][] = []
  ta.subscribe({ orderBy: 'title' }, (rows) => seenA.push(rows.map((r) => r.title)))
  await tb.insert({ title: 'bread', done: false })
  await waitFor(() => seenA.at(-1)?.join() === 'bread,eggs,milk', 'b\'s insert in a\'s live query')
  stop()
  await tabs.close(a)
  await tabs.close(b)
})

test('digests on shared storage list no log: a database that is not shared reads every writer\'s updates', async () => {
  const tabs = new Tabs()
  const a = await tabs.tab()
  const b = await tabs.tab()
  const id = await a.collection('todos', { schema: Todo }).insert({ title: 'one', done: false })
  await waitFor(async () => (await b.collection('todos', { schema: Todo }).get(id)) !== undefined, 'the record in b')
  await b.collection('todos', { schema: Todo }).update(id, (t) => { t.priority = 2 })
  await a.collection('todos', { schema: Todo }).update(id, (t) => { t.done = true })
  await waitFor(() => tabs.quiet, 'every delivery')
  const digest = await tabs.storage.get(`c/todos/v/${id}`)
  assert.ok(digest !== undefined)
  assert.equal(decodeDigest(digest)?.log, undefined)
  await tabs.close(a)
  await tabs.close(b)
  const alone = await createDatabase({ name: 'tabs', storage: handle(tabs.storage) })
  const row = await alone.collection('todos', { schema: Todo }).get(id)
  assert.deepEqual({ title: row?.title, done: row?.done, priority: row?.priority }, { title: 'one', done: true, priority: 2 })
  // The document itself too, not only its stored row.
  const doc = await alone.collection('todos', { schema: Todo }).doc(id)
  assert.deepEqual(doc.getMap(RECORD_ROOT).toJSON(), { title: 'one', done: true, priority: 2 })
  await alone.close()
})

const Counters = z.record(z.string(), z.number())

test('compactions fold every writer\'s updates: writes in many tabs, some closing at random, are all kept', async (t) => {
  const seed = seedFromEnv()
  t.diagnostic(`seed ${seed} (KADMIUM_SEED=${seed} replays it)`)
  const random = prng(seed)
  const tabs = new Tabs(() => Math.floor(random() * 4))
  const ids = ['r0', 'r1', 'r2']
  const first = await tabs.tab({ compactEvery: 2 })
  for (const id of ids) await first.collection('counters', { schema: Counters }).upsert(id, { made: 0 })
  /** The last value each writer wrote, by record and field. */
  const expected = new Map<string, Record<string, number>>(ids.map((id) => [id, { made: 0 }]))
  const writers: Array<{ db: Database, field: string }> = [{ db: first, field: 'w0' }]
  let made = 1
  for (let step = 0; step < 300; step++) {
    const roll = random()
    if (roll < 0.03 && writers.length > 1) {
      // A tab closes, deliveries to it still under way.
      const [gone] = writers.splice(Math.floor(random() * writers.length), 1)
      await tabs.close(gone!.db)
      continue
    }
    if ((roll < 0.06 && writers.length < 4) || writers.length === 0) {
      writers.push({ db: await tabs.tab({ compactEvery: 2 }), field: `w${made++}` })
      continue
    }
    const writer = writers[Math.floor(random() * writers.length)]!
    const id = ids[Math.floor(random() * ids.length)]!
    const counters = writer.db.collection('counters', { schema: Counters })
    // A tab opened late may not have read the record yet: then it waits for it, as a user would.
    await waitFor(async () => (await counters.get(id)) !== undefined, `record ${id} in the tab of ${writer.field}`)
    await counters.update(id, (fields) => { fields[writer.field] = step })
    expected.get(id)![writer.field] = step
  }
  await waitFor(() => tabs.quiet, 'every delivery', 20_000)
  for (const { db, field } of writers) {
    for (const id of ids) {
      const row = await db.collection('counters', { schema: Counters }).get(id)
      const { id: _id, ...fields } = row ?? { id }
      assert.deepEqual(fields, expected.get(id), `record ${id} as the tab of ${field} shows it`)
    }
  }
  for (const { db } of [...writers]) await tabs.close(db)
  let snapshots = 0
  for await (const [key] of tabs.storage.scan('c/counters/d/', { keysOnly: true })) if (key.endsWith('/s')) snapshots++
  assert.equal(snapshots, ids.length, 'every record was compacted')
  // Read back alone, from storage: documents (a write loads one) and rows.
  const alone = await createDatabase({ name: 'tabs', storage: handle(tabs.storage) })
  const counters = alone.collection('counters', { schema: Counters })
  for (const id of ids) {
    const { id: _id, ...fields } = (await counters.get(id)) ?? { id }
    assert.deepEqual(fields, expected.get(id), `the stored row of ${id}`)
    const doc = await counters.doc(id)
    assert.deepEqual(doc.getMap(RECORD_ROOT).toJSON(), expected.get(id), `the stored document of ${id}`)
  }
  await alone.close()
})
