/**
 * The data every scenario uses in Node: the records and schema of
 * `todo-records.ts` (re-exported), Kadmium databases of them on LevelDB,
 * and the raw-LevelDB baseline.
 * @module
 */
import * as Y from 'yjs'
import { createDatabase, newId, type Database } from '@kadmium/core'
import { BASELINE_PREFIX, COLLECTION, encodeRecord, todoSchema, type Todo, type Todos } from './todo-records.ts'
import { openKadmiumStorage, openRawLevel, type RawLevel } from './storage.ts'

export { BASELINE_PREFIX, BASELINE_ROOT, COLLECTION, encodeRecord, todo, todos, todoSchema, type Todo, type TodoInput, type Todos } from './todo-records.ts'

export const DB_NAME = 'bench'
/**
 * Upper bound of a scan of the baseline's records: `BASELINE_PREFIX +
 * BASELINE_PREFIX_END` sorts after every key under the prefix (ids are
 * strings below U+10FFFF). The baseline's own: it reads raw LevelDB, not
 * through Kadmium's storage interface (whose adapters bound their scans the
 * same way).
 */
export const BASELINE_PREFIX_END = '\u{10FFFF}'

/** A Kadmium database with its todo collection, on LevelDB at `path`. */
export interface KadmiumTodos {
  readonly db: Database
  readonly todos: Todos
  /**
   * Resolves once LevelDB itself holds every write resolved so far (they
   * resolve once in the storage's journal): timed write loops end with it,
   * so that they pay for the whole write.
   */
  readonly settled: () => Promise<void>
}

/** Opens (or creates) a Kadmium database on LevelDB at `path`. */
export async function openKadmium (path: string): Promise<KadmiumTodos> {
  const storage = await openKadmiumStorage(path)
  const db = await createDatabase({ name: DB_NAME, storage })
  return { db, todos: db.collection(COLLECTION, { schema: todoSchema }), settled: async () => { await storage.settled?.() } }
}

/** Inserts records `chunk` at a time (concurrent inserts within a chunk); resolves their ids in order. Also the setup of scenarios that need records. */
export async function insertConcurrently (collection: Todos, records: readonly Todo[], chunk = 100): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < records.length; i += chunk) {
    ids.push(...await Promise.all(records.slice(i, i + chunk).map(async (r) => collection.insert(r))))
  }
  return ids
}


/** Decodes a baseline record into a Y.Doc. */
export function decodeRecord (update: Uint8Array): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc
}

/** The baseline key of a record id. */
export function baselineKey (id: string): string {
  return BASELINE_PREFIX + id
}

/** Writes `records` the baseline way (one awaited put each); resolves their ids. */
export async function baselineInsert (db: RawLevel, records: readonly Todo[]): Promise<string[]> {
  const ids: string[] = []
  for (const record of records) {
    const id = newId()
    await db.put(baselineKey(id), encodeRecord(record))
    ids.push(id)
  }
  return ids
}

/** Writes `records` the baseline way in batches (quick setup, not measured); resolves their ids. */
export async function baselinePopulate (db: RawLevel, records: readonly Todo[], chunk = 500): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < records.length; i += chunk) {
    const ops = records.slice(i, i + chunk).map((record) => {
      const id = newId()
      ids.push(id)
      return { type: 'put' as const, key: baselineKey(id), value: encodeRecord(record, id) }
    })
    await db.batch(ops)
  }
  return ids
}

export { openRawLevel, type RawLevel }
