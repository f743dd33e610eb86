import * as Y from 'yjs'
import { MalformedUpdateError } from '../errors.ts'
import { STORAGE_LOAD } from './origins.ts'
import type { StorageAdapter } from '../storage/storage.ts'
import { compareLogKeys } from '../storage/layout.ts'

/** A `Y.Doc` read back from storage, with the keys of its update log. */
export interface LoadedDoc {
  readonly doc: Y.Doc
  /** Keys of the update-log entries applied (the snapshot not included). */
  readonly updateKeys: string[]
  /** Whether anything was found at all. */
  readonly found: boolean
}

/**
 * Rebuilds a `Y.Doc` from storage: `<prefix>s` is the snapshot,
 * `<prefix>u/<seq>` the update log since. With `log`, the keys of the log
 * as the record's digest lists them, it reads those keys (no scan: LevelDB
 * iterators are costly, and their memory is slow to return); without, one
 * prefix scan. With `fresh` (an id just made here, which nothing can be
 * stored under yet), storage is not read.
 */
export async function loadDoc (storage: StorageAdapter, prefix: string, fresh = false, log?: readonly string[]): Promise<LoadedDoc> {
  // A guid given: Yjs would otherwise draw ~30 random numbers for one, a large cost per document.
  const doc = new Y.Doc({ gc: true, guid: prefix })
  const updateKeys: string[] = []
  if (fresh) return { doc, updateKeys, found: false }
  const entries: Array<[string, Uint8Array]> = []
  if (log !== undefined) {
    const keys = [prefix + 's', ...log]
    const values = await Promise.all(keys.map(async (key) => storage.get(key)))
    keys.forEach((key, i) => {
      const value = values[i]
      if (value !== undefined) entries.push([key, value])
    })
  } else {
    for await (const entry of storage.scan(prefix)) entries.push(entry)
  }
  // The snapshot first, then the log in the order it was written: Yjs applies in-order updates at once.
  const snapshot = prefix + 's'
  entries.sort(([a], [b]) => a === snapshot ? -1 : b === snapshot ? 1 : compareLogKeys(a, b))
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
