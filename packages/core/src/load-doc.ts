import * as Y from 'yjs'
import { MalformedUpdateError } from './errors.ts'
import { STORAGE_LOAD } from './origins.ts'
import type { StorageAdapter } from './storage.ts'

/** A `Y.Doc` read back from storage, with the keys of its update log. */
export interface LoadedDoc {
  readonly doc: Y.Doc
  /** Keys of the update-log entries applied (the snapshot not included). */
  readonly updateKeys: string[]
  /** Whether anything was found at all. */
  readonly found: boolean
}

/**
 * Rebuilds a `Y.Doc` from one prefix scan: `<prefix>s` is the snapshot,
 * `<prefix>u/<seq>` the update log since. With `fresh` (an id just made
 * here, which nothing can be stored under yet), storage is not read.
 */
export async function loadDoc (storage: StorageAdapter, prefix: string, fresh = false): Promise<LoadedDoc> {
  // A guid given: Yjs would otherwise draw ~30 random numbers for one, a large cost per document.
  const doc = new Y.Doc({ gc: true, guid: prefix })
  const updateKeys: string[] = []
  if (fresh) return { doc, updateKeys, found: false }
  const entries: Array<[string, Uint8Array]> = []
  for await (const entry of storage.scan(prefix)) entries.push(entry)
  try {
    doc.transact(() => {
      for (const [key, update] of entries) {
        Y.applyUpdate(doc, update, STORAGE_LOAD)
        if (key !== prefix + 's') updateKeys.push(key)
      }
    }, STORAGE_LOAD)
  } catch (cause) {
    doc.destroy()
    throw new MalformedUpdateError(`stored data under "${prefix}" does not decode: ${String(cause)}`, { cause })
  }
  return { doc, updateKeys, found: entries.length > 0 }
}
