/**
 * The data every scenario uses: a todo collection (zod schema), its
 * records, and the raw-Yjs encoding of the same records for the baseline.
 * @module
 */
import * as Y from 'yjs'
import { z } from 'zod'
import { createDatabase, newId, type Collection, type CollectionInput, type CollectionType, type Database } from '@kadmium/core'
import { openKadmiumStorage, openRawLevel, type RawLevel } from './storage.ts'

/** The schema of the benchmark's records. */
export const todoSchema = z.object({
  title: z.string(),
  done: z.boolean(),
  priority: z.number().int().min(0).max(4)
})

export type Todo = CollectionType<typeof todoSchema>
export type TodoInput = CollectionInput<typeof todoSchema>
export type Todos = Collection<Todo, TodoInput>

export const DB_NAME = 'bench'
export const COLLECTION = 'todos'
/** The Y.Map the baseline keeps fields in (the name Kadmium uses too). */
export const BASELINE_ROOT = 'fields'
/** Key prefix of the baseline's records. */
export const BASELINE_PREFIX = 'todos/'
/**
 * Upper bound of a scan of the baseline's records: `BASELINE_PREFIX +
 * BASELINE_PREFIX_END` sorts after every key under the prefix (ids are
 * strings below U+10FFFF). The baseline's own: it reads raw LevelDB, not
 * through Kadmium's storage interface (whose adapters bound their scans the
 * same way).
 */
export const BASELINE_PREFIX_END = '\u{10FFFF}'

/** Scrambles `i` so that titles do not sort in insertion order. */
function mix (i: number): number {
  let x = (i + 0x9e3779b9) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0
  return (x ^ (x >>> 16)) >>> 0
}

/** The `i`-th record: a title of ~30 characters, a third of them done. */
export function todo (i: number): Todo {
  return {
    title: `todo ${mix(i).toString(36).padStart(7, '0')} buy milk and bread`,
    done: i % 3 === 0,
    priority: i % 5
  }
}

/** `n` records. */
export function todos (n: number): Todo[] {
  return Array.from({ length: n }, (_, i) => todo(i))
}

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

/**
 * The baseline's insert: a fresh Y.Doc, the fields set in a Y.Map, the
 * update encoded. (What the baseline then awaits: `db.put(key, update)`.)
 * A `guid` (it is not part of the update) spares Yjs drawing a random one:
 * for untimed setup only; the measured baseline uses `new Y.Doc()` as is.
 */
export function encodeRecord (record: Todo, guid?: string): Uint8Array {
  const doc = guid === undefined ? new Y.Doc() : new Y.Doc({ guid })
  const map = doc.getMap<unknown>(BASELINE_ROOT)
  doc.transact(() => {
    for (const [key, value] of Object.entries(record)) map.set(key, value)
  })
  const update = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return update
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
