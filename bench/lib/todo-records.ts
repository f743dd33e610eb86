/**
 * The records every scenario uses, in Node and in the browser scenario's
 * pages alike (no Node.js module here): the todo collection's zod schema,
 * its records, and the raw-Yjs encoding of the same records for the
 * baselines.
 * @module
 */
import * as Y from 'yjs'
import { z } from 'zod'
import type { Collection, CollectionInput, CollectionType } from '@kadmium/core'

/** The schema of the benchmark's records. */
export const todoSchema = z.object({
  title: z.string(),
  done: z.boolean(),
  priority: z.number().int().min(0).max(4)
})

export type Todo = CollectionType<typeof todoSchema>
export type TodoInput = CollectionInput<typeof todoSchema>
export type Todos = Collection<Todo, TodoInput>

export const COLLECTION = 'todos'
/** The Y.Map the baseline keeps fields in (the name Kadmium uses too). */
export const BASELINE_ROOT = 'fields'
/** Key prefix of the baseline's records. */
export const BASELINE_PREFIX = 'todos/'

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
