/**
 * The records of the `browser` scenario's pages: the same todos as every
 * other scenario's (`bench/lib/fixtures.ts`, which a page cannot import:
 * it opens LevelDB), and their zod schema.
 * @module
 */
import type { Collection, CollectionInput, CollectionType } from '@kadmium/core'
import { z } from 'zod'

export const todoSchema = z.object({
  title: z.string(),
  done: z.boolean(),
  priority: z.number().int().min(0).max(4)
})

export type Todo = CollectionType<typeof todoSchema>
export type Todos = Collection<Todo, CollectionInput<typeof todoSchema>>

export const COLLECTION = 'todos'
/** The Y.Map the baseline keeps fields in (the name Kadmium uses too). */
export const BASELINE_ROOT = 'fields'
/** Key prefix of the baseline's records. */
export const BASELINE_PREFIX = 'todos/'

/** Scrambles `i` so that titles do not sort in insertion order (as `bench/lib/fixtures.ts`). */
function mix (i: number): number {
  let x = (i + 0x9e3779b9) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0
  return (x ^ (x >>> 16)) >>> 0
}

/** The `i`-th record: a title of ~30 characters, a third of them done (as `bench/lib/fixtures.ts`). */
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

/** Resolves once `check` holds, polling every `everyMs`; rejects naming `what` after `boundMs`. */
export async function waitUntil (what: string, check: () => boolean | Promise<boolean>, boundMs: number, everyMs = 5): Promise<void> {
  const deadline = performance.now() + boundMs
  while (!await check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${boundMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
