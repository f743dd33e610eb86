import * as Y from 'yjs'
import { MalformedUpdateError } from '../errors.ts'
import { STORAGE_LOAD } from './origins.ts'
import type { SharedStorage, StorageAdapter } from '../storage/storage.ts'
import { bytesEqual } from '../util/hash.ts'
import { compareLogKeys } from '../storage/layout.ts'

/** A `Y.Doc` read back from storage, with the keys of its update log. */
export interface LoadedDoc {
  readonly doc: Y.Doc
  /** Keys of the update-log entries applied (the snapshot not included). */
  readonly updateKeys: string[]
  /** Whether anything was found at all. */
  readonly found: boolean
}

/** Reads of a document on shared storage that may meet another database's compaction, before one runs as exclusive work. */
const OPTIMISTIC_READS = 3

/**
 * Rebuilds a `Y.Doc` from storage: `<prefix>s` is the snapshot,
 * `<prefix>u/<seq>` the update log since. With `log`, the keys of the log
 * as the record's digest lists them, it reads those keys (no scan: LevelDB
 * iterators are costly, and their memory is slow to return); without, one
 * prefix scan. With `fresh` (an id just made here, which nothing can be
 * stored under yet), storage is not read. With `shared` (storage other
 * databases write at once), a scan, checked against their compactions.
 */
export async function loadDoc (storage: StorageAdapter, prefix: string, fresh = false, log?: readonly string[], shared?: SharedStorage): Promise<LoadedDoc> {
  // A guid given: Yjs would otherwise draw ~30 random numbers for one, a large cost per document.
  const doc = new Y.Doc({ gc: true, guid: prefix })
  const updateKeys: string[] = []
  if (fresh) return { doc, updateKeys, found: false }
  let entries: Array<[string, Uint8Array]> = []
  if (shared !== undefined) {
    entries = await readShared(storage, prefix, shared)
  } else if (log !== undefined) {
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

/**
 * A document's snapshot and log as one state, on storage where another
 * database may compact the document meanwhile: a compaction rewrites the
 * snapshot and deletes log entries in one batch, so a scan that met one
 * may have read the old snapshot and then missed entries folded into the
 * new one. The snapshot (read first: it sorts before the log) is read
 * again after the scan; if it changed, the scan is read again (an
 * unchanged snapshot means no compaction took anything it lacks), and
 * after {@link OPTIMISTIC_READS} tries, as exclusive work.
 */
async function readShared (storage: StorageAdapter, prefix: string, shared: SharedStorage): Promise<Array<[string, Uint8Array]>> {
  const read = async (): Promise<Array<[string, Uint8Array]>> => {
    const entries: Array<[string, Uint8Array]> = []
    for await (const entry of storage.scan(prefix)) entries.push(entry)
    return entries
  }
  for (let attempt = 0; attempt < OPTIMISTIC_READS; attempt++) {
    const entries = await read()
    const read1 = entries[0]?.[0] === prefix + 's' ? entries[0][1] : undefined
    const read2 = await storage.get(prefix + 's')
    if (read1 === read2 || (read1 !== undefined && read2 !== undefined && bytesEqual(read1, read2))) return entries
  }
  return shared.exclusive(read)
}
