import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase, memoryStorage, type StorageAdapter } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'

/** Storage that counts how often each record's document is read (its snapshot key or its whole prefix). */
function counting (inner: StorageAdapter): { storage: StorageAdapter, loads: Map<string, number> } {
  const loads = new Map<string, number>()
  const storage: StorageAdapter = {
    get: async (k) => {
      const m = /^c\/todos\/d\/(.+)\/s$/.exec(k)
      if (m !== null) loads.set(m[1] as string, (loads.get(m[1] as string) ?? 0) + 1)
      return inner.get(k)
    },
    put: async (k, v) => inner.put(k, v),
    delete: async (k) => inner.delete(k),
    batch: async (ops) => inner.batch(ops),
    scan: (prefix, options) => {
      const m = /^c\/todos\/d\/(.+)\/$/.exec(prefix)
      if (m !== null) loads.set(m[1] as string, (loads.get(m[1] as string) ?? 0) + 1)
      return inner.scan(prefix, options)
    }
  }
  return { storage, loads }
}

test('reopening a large collection loads rows, not documents; the document cache is bounded', async () => {
  const inner = memoryStorage()
  const first = await createDatabase({ name: 'lazy', storage: { ...counting(inner).storage } })
  const todos = first.collection('todos', { schema: Todo })
  const ids: string[] = []
  for (let i = 0; i < 3000; i += 100) {
    ids.push(...await Promise.all(Array.from({ length: 100 }, async (_, k) => todos.insert({ title: `t${i + k}`, done: (i + k) % 3 === 0, priority: i + k }))))
  }
  await first.close()

  const { storage, loads } = counting(inner)
  const db = await createDatabase({ name: 'lazy', storage, cacheSize: 50 })
  const reopened = db.collection('todos', { schema: Todo })
  assert.equal(await reopened.count(), 3000)
  assert.equal(await reopened.count({ where: { done: true } }), 1000)
  const top = await reopened.find({ orderBy: { field: 'priority', direction: 'desc' }, limit: 3 })
  assert.deepEqual(top.map((r) => r.priority), [2999, 2998, 2997])
  assert.equal((await reopened.get(ids[7] as string))?.title, 't7')
  assert.equal(loads.size, 0, 'no record document was built to answer reads and queries')

  // Writes load documents, and only a bounded number stay in memory.
  const a = ids[0] as string
  await reopened.update(a, (t) => { t.done = false })
  for (const id of ids.slice(1, 200)) await reopened.update(id, (t) => { t.priority = -1 })
  await reopened.update(a, (t) => { t.done = true })
  assert.equal(loads.get(a), 2, 'the first document was evicted and loaded again')
  assert.equal(loads.size, 200)
  assert.equal(await reopened.count({ where: { priority: -1 } }), 199)
  await db.close()
})
