/**
 * What a todo list holds: one collection of todos, each a title (shared
 * text: a `Y.Text`, so two people typing in one title converge) and
 * whether it is done.
 * @module
 */
import type { Collection, Database } from '@kadmium/core'
import { z } from 'zod'

/** A todo. */
export const Todo = z.object({
  title: z.string().max(1000),
  done: z.boolean()
})

/** A todo, as written. */
export type Todo = z.infer<typeof Todo>

/** The todos of a list. */
export type Todos = Collection<Todo>

/** The todos of the list `db`: `title` is collaborative text. */
export function todosOf (db: Database): Todos {
  return db.collection('todos', { schema: Todo, text: ['title'] })
}

/** What the list shows: every todo, the open ones, or the done ones. */
export type Filter = 'all' | 'open' | 'done'

/** The live query of a filter, oldest first (ids are time-sortable). */
export function queryOf (filter: Filter): { where?: { done: boolean }, orderBy: 'id' } {
  switch (filter) {
    case 'all': return { orderBy: 'id' }
    case 'open': return { where: { done: false }, orderBy: 'id' }
    case 'done': return { where: { done: true }, orderBy: 'id' }
  }
}
