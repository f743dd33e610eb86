import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createDatabase, memoryStorage, type Database, type RemoteUpdate } from '@kadmium/core'
import { keepOpen } from '@kadmium/core/testing'
import { z } from 'zod'
import { Note, Todo } from '../helpers/schemas.ts'

/** Resolves once `ok()` holds (checked every turn, for at most 2 s). */
async function waitUntil (ok: () => boolean): Promise<void> {
  const end = Date.now() + 2000
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met in 2 s')
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Two replicas whose local updates are held until `exchange()`. */
async function pair () {
  const make = async () => createDatabase({ name: 'm', storage: memoryStorage() })
  const a = await make()
  const b = await make()
  const toA: RemoteUpdate[] = []
  const toB: RemoteUpdate[] = []
  const hold = (db: Database, box: RemoteUpdate[]) => db.on('update', (u) => { if (u.origin === 'local') box.push({ ...u }) })
  hold(a, toB)
  hold(b, toA)
  const exchange = async () => {
    while (toA.length > 0 || toB.length > 0) {
      for (const u of toA.splice(0)) await a.applyRemoteUpdate(u)
      for (const u of toB.splice(0)) await b.applyRemoteUpdate(u)
    }
  }
  return { a, b, exchange }
}

describe('merging concurrent edits', () => {
  test('concurrent edits of different fields both survive; of one field, one value wins everywhere', async () => {
    const { a, b, exchange } = await pair()
    const ta = a.collection('todos', { schema: Todo })
    const tb = b.collection('todos', { schema: Todo })
    const id = await ta.insert({ title: 'milk', done: false, priority: 1, meta: { owner: 'ann' } })
    await exchange()
    await ta.update(id, (t) => { t.done = true; t.priority = 2 })
    await tb.update(id, (t) => { t.title = 'oat milk'; t.priority = 3; t.meta = { owner: 'ann', notes: [{ text: 'x' }] } })
    await exchange()
    const ra = await ta.get(id)
    const rb = await tb.get(id)
    assert.deepEqual(ra, rb)
    assert.equal(ra?.done, true)
    assert.equal(ra?.title, 'oat milk')
    assert.deepEqual(ra?.meta, { owner: 'ann', notes: [{ text: 'x' }] })
    assert.ok(ra?.priority === 2 || ra?.priority === 3)
    await a.close()
    await b.close()
  })

  test('concurrent edits of one text field merge character by character', async () => {
    const { a, b, exchange } = await pair()
    const na = a.collection('notes', { schema: Note, text: ['body'] })
    const nb = b.collection('notes', { schema: Note, text: ['body'] })
    const id = await na.insert({ title: 't', body: 'hello world' })
    await exchange()
    await na.update(id, (n) => { n.body = 'hello brave world' })
    await nb.update(id, (n) => { n.body = 'hello world!' })
    await exchange()
    assert.equal((await na.get(id))?.body, 'hello brave world!')
    assert.equal((await nb.get(id))?.body, 'hello brave world!')
    await a.close()
    await b.close()
  })

  test('concurrent edits of different items of a list of objects both survive', async () => {
    const { a, b, exchange } = await pair()
    const schema = z.object({ items: z.array(z.object({ name: z.string(), qty: z.number() })) })
    const la = a.collection('lists', { schema })
    const lb = b.collection('lists', { schema })
    const id = await la.insert({ items: [{ name: 'a', qty: 1 }, { name: 'b', qty: 1 }] })
    await exchange()
    await la.update(id, (l) => { (l.items[0] as { qty: number }).qty = 5 })
    await lb.update(id, (l) => { (l.items[1] as { name: string }).name = 'B' })
    await exchange()
    assert.deepEqual((await la.get(id))?.items, [{ name: 'a', qty: 5 }, { name: 'B', qty: 1 }])
    assert.deepEqual(await la.get(id), await lb.get(id))
    await a.close()
    await b.close()
  })

  test('a delete wins over a concurrent edit, on both sides', async () => {
    const { a, b, exchange } = await pair()
    const ta = a.collection('todos', { schema: Todo })
    const tb = b.collection('todos', { schema: Todo })
    const id = await ta.insert({ title: 'x', done: false })
    await exchange()
    await ta.delete(id)
    await tb.update(id, (t) => { t.done = true })
    const remote: unknown[] = []
    b.on('change', (e) => { if (e.origin === 'remote') remote.push(e) })
    await exchange()
    assert.equal(await ta.get(id), undefined)
    assert.equal(await tb.get(id), undefined)
    assert.deepEqual(remote, [{ collection: 'todos', id, type: 'delete', origin: 'remote' }])
    await a.close()
    await b.close()
  })

  test('remote inserts fire live queries and record subscriptions with a remote origin', async () => {
    const { a, b, exchange } = await pair()
    const ta = a.collection('todos', { schema: Todo })
    const tb = b.collection('todos', { schema: Todo })
    const seen: string[][] = []
    tb.subscribe({ where: { done: false }, orderBy: 'title' }, (rows) => seen.push(rows.map((r) => r.title)))
    const origins: string[] = []
    tb.on('change', (e) => origins.push(`${e.type}:${e.origin}`))
    const id = await ta.insert({ title: 'from a', done: false })
    await exchange()
    await ta.update(id, (t) => { t.title = 'from a, edited' })
    await exchange()
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(seen, [[], ['from a'], ['from a, edited']])
    assert.deepEqual(origins, ['insert:remote', 'update:remote'])
    await a.close()
    await b.close()
  })

  test('a peer\'s update is stored as it came; a repeat changes nothing; doc(id) edits still commit after it', async () => {
    const { a, b, exchange } = await pair()
    const ta = a.collection('notes', { schema: Note, text: ['body'] })
    const tb = b.collection('notes', { schema: Note, text: ['body'] })
    const id = await ta.insert({ title: 't', body: 'abc' })
    await exchange()
    const sent: RemoteUpdate[] = []
    a.on('update', (u) => { if (u.target === 'record') sent.push({ ...u }) })
    await ta.update(id, (n) => { n.title = 'u' })
    const update = sent[0] as RemoteUpdate
    const seen: Array<{ update: Uint8Array, origin: string }> = []
    b.on('update', (u) => { if (u.target === 'record') seen.push({ update: u.update, origin: u.origin }) })
    const changes: string[] = []
    tb.on('change', (c) => { changes.push(`${c.type}:${c.origin}`) })
    assert.equal(await b.applyRemoteUpdate(update), true)
    assert.deepEqual(seen, [{ update: update.update, origin: 'remote' }], 'the peer\'s bytes, reported once')
    assert.equal(await b.applyRemoteUpdate(update), false, 'a repeat changes nothing')
    assert.equal(seen.length, 1)
    assert.deepEqual(changes, ['update:remote'])
    // The store's own listener is back on the document: an edit through doc(id) commits as a local write.
    const doc = await tb.doc(id)
    const { Text } = await import('yjs')
    const text = doc.getMap('fields').get('body')
    assert.ok(text instanceof Text)
    text.insert(3, 'def')
    await waitUntil(() => changes.includes('update:local'))
    assert.equal((await tb.get(id))?.body, 'abcdef')
    await exchange()
    assert.deepEqual(await ta.get(id), await tb.get(id))
    await a.close()
    await b.close()
  })

  test('updates that wait for a missing one (index and record) are stored: after a restart the missing one completes them', async () => {
    const a = await createDatabase({ name: 'm', storage: memoryStorage() })
    const sent: RemoteUpdate[] = []
    a.on('update', (u) => { if (u.origin === 'local') sent.push({ ...u }) })
    const ta = a.collection('todos', { schema: Todo })
    const first = await ta.insert({ title: 'one', done: false })
    const second = await ta.insert({ title: 'two', done: false })
    await ta.update(first, (t) => { t.title = 'one, edited' })
    const index = sent.filter((u) => u.target === 'index')
    const records = sent.filter((u) => u.target === 'record')
    assert.equal(index.length, 2)
    assert.equal(records.length, 3)
    const storage = keepOpen(memoryStorage())
    let b = await createDatabase({ name: 'm', storage })
    b.collection('todos', { schema: Todo })
    // The second insert's index update and the edit arrive before what they build on.
    await b.applyRemoteUpdate(index[1] as RemoteUpdate)
    await b.applyRemoteUpdate(records[1] as RemoteUpdate)
    await b.applyRemoteUpdate(records[2] as RemoteUpdate)
    await b.close()
    b = await createDatabase({ name: 'm', storage })
    const tb = b.collection('todos', { schema: Todo })
    await b.applyRemoteUpdate(index[0] as RemoteUpdate)
    await b.applyRemoteUpdate(records[0] as RemoteUpdate)
    assert.deepEqual((await tb.find({ orderBy: 'title' })).map((t) => t.title), ['one, edited', 'two'])
    assert.deepEqual(await tb.get(first), await ta.get(first))
    assert.deepEqual(await tb.get(second), await ta.get(second))
    await a.close()
    await b.close()
  })
})
