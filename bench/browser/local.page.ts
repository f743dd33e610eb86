/**
 * The `browser` scenario's page of IndexedDB alone: Kadmium databases on
 * `indexedDbStorage`, and the baseline, raw Yjs on IndexedDB through
 * `idb` (the library `indexedDbStorage` itself uses), one awaited put per
 * record into one object store — the IndexedDB counterpart of the Node
 * scenarios' raw Yjs + classic-level. Every write transaction of both is
 * `relaxed` (`indexedDbStorage`'s default).
 * @module
 */
import { createDatabase, newId } from '@kadmium/core'
import { deleteIndexedDbStorage, indexedDbStorage } from '@kadmium/browser'
import { deleteDB, openDB } from 'idb'
import { exposePage } from '../../packages/browser-adapter/test/fixtures/browser/expose.ts'
import { FIRST_QUERY, type ColdOpen, type LocalActions } from '../lib/browser-protocol.ts'
import { BASELINE_PREFIX, COLLECTION, encodeRecord, todos, todoSchema, type Todos } from './records.ts'

const STORE = 'entries'
const CHUNK = 100

async function openKadmium (name: string): Promise<{ close: () => Promise<void>, settled: () => Promise<void>, todos: Todos }> {
  const storage = indexedDbStorage(name)
  const db = await createDatabase({ name, storage })
  return { close: async () => { await db.close() }, settled: async () => { await storage.settled?.() }, todos: db.collection(COLLECTION, { schema: todoSchema }) }
}


export const actions: LocalActions = {
  kadmiumInsert: async (records: number, name: string): Promise<number> => {
    const list = todos(records)
    const { close, settled, todos: collection } = await openKadmium(name)
    let ms: number
    try {
      await collection.count() // the collection's index is loaded before the clock starts
      const t0 = performance.now()
      for (const record of list) await collection.insert(record)
      // The whole cost of writing: what the storage put off (its journal folded into its store) done too, as the Node scenarios' `settled()`.
      await settled()
      ms = performance.now() - t0
      const count = await collection.count()
      if (count !== records) throw new Error(`inserted ${records} records, the collection counts ${count}`)
    } finally {
      await close()
    }
    await deleteIndexedDbStorage(name)
    return ms
  },

  baselineInsert: async (records: number, name: string): Promise<number> => {
    const list = todos(records)
    const db = await openDB(name, 1, { upgrade: (d) => { d.createObjectStore(STORE) } })
    let ms: number
    try {
      const t0 = performance.now()
      for (const record of list) {
        const tx = db.transaction(STORE, 'readwrite', { durability: 'relaxed' })
        await Promise.all([tx.store.put(encodeRecord(record), BASELINE_PREFIX + newId()), tx.done])
      }
      ms = performance.now() - t0
      const count = await db.count(STORE)
      if (count !== records) throw new Error(`put ${records} records, the store counts ${count}`)
    } finally {
      db.close()
    }
    await deleteDB(name)
    return ms
  },

  fill: async (records: number, name: string): Promise<number> => {
    const list = todos(records)
    const { close, todos: collection } = await openKadmium(name)
    const t0 = performance.now()
    try {
      for (let i = 0; i < list.length; i += CHUNK) await Promise.all(list.slice(i, i + CHUNK).map(async (r) => collection.insert(r)))
    } finally {
      await close()
    }
    return performance.now() - t0
  },

  coldOpen: async (name: string): Promise<ColdOpen> => {
    const t0 = performance.now()
    const { close, todos: collection } = await openKadmium(name)
    try {
      const rows = await collection.find(FIRST_QUERY)
      const t1 = performance.now()
      return { openMs: t1 - t0, sinceNavigationMs: t1, rows: rows.length, records: await collection.count() }
    } finally {
      await close()
    }
  },

  drop: async (name: string): Promise<void> => {
    await deleteIndexedDbStorage(name)
  }
}

exposePage({ actions })
