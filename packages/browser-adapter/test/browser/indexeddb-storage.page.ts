/**
 * The test page of `indexedDbStorage`: core's storage conformance suite
 * (persistent: a location reopens the same IndexedDB database), this
 * adapter's own cases, and actions for tests that span reloads and tabs.
 * @module
 */
import { storageAdapterTests, type StorageHarness } from '@kadmium/core/testing'
import type { StorageAdapter } from '@kadmium/core'
import { deleteIndexedDbStorage, indexedDbStorage } from '@kadmium/browser'
import { exposePage } from '../fixtures/browser/expose.ts'
import { indexedDbCases } from './indexeddb-cases.ts'

/** Databases of the conformance suite: deleted after each case. */
const opened = new Set<string>()
const harness: StorageHarness = {
  persistent: true,
  open: async (location) => {
    const name = `conformance/${location}`
    opened.add(name)
    return indexedDbStorage(name)
  },
  cleanup: async () => {
    for (const name of opened) await deleteIndexedDbStorage(name)
    opened.clear()
  }
}

/** Storages the actions hold open, by database name. */
const open = new Map<string, StorageAdapter>()
const encoder = new TextEncoder()
const decoder = new TextDecoder()

function held (name: string): StorageAdapter {
  let storage = open.get(name)
  if (storage === undefined) {
    storage = indexedDbStorage(name)
    open.set(name, storage)
  }
  return storage
}

/** What the Node side may ask of this page (text values, to cross the page boundary as plain data). */
export const actions = {
  /** Writes `text` at `key` in database `name` (opened on first use, kept open). */
  put: async (name: string, key: string, text: string): Promise<void> => {
    await held(name).put(key, encoder.encode(text))
  },
  /** The text at `key` in database `name`, or null. */
  get: async (name: string, key: string): Promise<string | null> => {
    const value = await held(name).get(key)
    return value === undefined ? null : decoder.decode(value)
  },
  /** The keys under `prefix` in database `name`. */
  keys: async (name: string, prefix: string): Promise<string[]> => {
    const keys: string[] = []
    for await (const [key] of held(name).scan(prefix, { keysOnly: true })) keys.push(key)
    return keys
  },
  /** Closes the storage held open on database `name`. */
  close: async (name: string): Promise<void> => {
    await open.get(name)?.close?.()
    open.delete(name)
  },
  /** Deletes database `name`. */
  remove: async (name: string): Promise<void> => {
    await deleteIndexedDbStorage(name)
  }
}

exposePage({
  cases: { conformance: storageAdapterTests(harness), indexeddb: indexedDbCases },
  actions
})
