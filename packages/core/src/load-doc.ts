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

/** Rebuilds a `Y.Doc` from a snapshot key and an update-log prefix. */
export async function loadDoc (storage: StorageAdapter, snapshotKey: string, updatesPrefix: string): Promise<LoadedDoc> {
  // A guid given: Yjs would otherwise draw ~30 random numbers for one, a large cost per document.
  const doc = new Y.Doc({ gc: true, guid: snapshotKey })
  const updateKeys: string[] = []
  const [snapshot, updates] = await Promise.all([
    storage.get(snapshotKey),
    collect(storage.scan(updatesPrefix))
  ])
  try {
    doc.transact(() => {
      if (snapshot !== undefined) Y.applyUpdate(doc, snapshot, STORAGE_LOAD)
      for (const [key, update] of updates) {
        Y.applyUpdate(doc, update, STORAGE_LOAD)
        updateKeys.push(key)
      }
    }, STORAGE_LOAD)
  } catch (cause) {
    doc.destroy()
    throw new MalformedUpdateError(`stored data under "${snapshotKey}" does not decode: ${String(cause)}`, { cause })
  }
  return { doc, updateKeys, found: snapshot !== undefined || updates.length > 0 }
}

async function collect<T> (iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}
