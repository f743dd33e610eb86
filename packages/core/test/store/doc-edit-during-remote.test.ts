/**
 * Regression, found by the todo example's end-to-end test (two windows
 * typing in one title): an edit made through `collection.doc(id)` while a
 * peer's update of the same record waited for the record's lock was
 * committed together with the peer's update, as the peer's — so it was
 * stored but never published live (only a later catch-up carried it). It
 * is now committed first, as this replica's own write.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as Y from 'yjs'
import { z } from 'zod'
import { createDatabase, memoryStorage, RECORD_ROOT, type StorageAdapter, type UpdateEvent } from '@kadmium/core'

const Note = z.object({ title: z.string() })

/** Memory storage whose writes take 30 ms while `slow.on`: a commit holds the record's lock meanwhile. */
function slowStorage (slow: { on: boolean }): StorageAdapter {
  const inner = memoryStorage()
  const wait = async (): Promise<void> => { if (slow.on) await new Promise((resolve) => setTimeout(resolve, 30)) }
  return {
    ...inner,
    get: async (key) => await inner.get(key),
    scan: (prefix, options) => inner.scan(prefix, options),
    put: async (key, value) => { await wait(); await inner.put(key, value) },
    batch: async (ops) => { await wait(); await inner.batch(ops) },
    close: async () => { await inner.close?.() }
  }
}

test('an edit through doc(id) made while a peer\'s update waits for the record is published as a local write', async () => {
  const a = await createDatabase({ name: 'race', storage: memoryStorage() })
  const slow = { on: false }
  const b = await createDatabase({ name: 'race', storage: slowStorage(slow) })
  try {
    const notesA = a.collection('notes', { schema: Note, text: ['title'] })
    const notesB = b.collection('notes', { schema: Note, text: ['title'] })
    const fromA: UpdateEvent[] = []
    a.on('update', (e) => { fromA.push(e) })
    const id = await notesA.insert({ title: 'water' })
    for (const e of fromA.splice(0)) await b.applyRemoteUpdate(e)
    const published: UpdateEvent[] = []
    b.on('update', (e) => { if (e.origin === 'local' && e.target === 'record') published.push(e) })

    const textA = (await notesA.doc(id)).getMap(RECORD_ROOT).get('title') as Y.Text
    const textB = (await notesB.doc(id)).getMap(RECORD_ROOT).get('title') as Y.Text
    textA.insert(0, 'Please ')
    await new Promise((resolve) => setTimeout(resolve, 20))
    const remote = fromA.filter((e) => e.target === 'record')
    slow.on = true
    textB.insert(textB.length, ' t') // B types: its commit holds the record's lock (slow storage)
    const applying = Promise.all(remote.map(async (e) => await b.applyRemoteUpdate(e))) // A's update waits for the lock
    await new Promise((resolve) => setTimeout(resolve, 5))
    textB.insert(textB.length, 'oday') // B types again meanwhile
    await applying
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(textB.toJSON(), 'Please water today')
    // What B published as its own carries both of its edits: applied on A's state, they give B's text.
    const full = new Y.Doc()
    Y.applyUpdate(full, Y.encodeStateAsUpdate(await notesA.doc(id)))
    for (const e of published) Y.applyUpdate(full, e.update)
    assert.equal((full.getMap(RECORD_ROOT).get('title') as Y.Text).toJSON(), 'Please water today', 'B\'s published edits, applied on A\'s state, give B\'s text')
  } finally {
    await a.close()
    await b.close()
  }
})
