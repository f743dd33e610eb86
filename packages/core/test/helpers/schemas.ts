import type { Collection, CollectionInput, CollectionType } from '@kadmium/core'
import { z } from 'zod'

/** The schema most tests use. */
export const Todo = z.object({
  title: z.string().max(10_000_000),
  done: z.boolean(),
  priority: z.number().int().optional(),
  tags: z.array(z.string()).optional(),
  meta: z.object({ owner: z.string(), notes: z.array(z.object({ text: z.string() })).optional() }).optional()
})

/** A collection of {@link Todo}s. */
export type Todos = Collection<CollectionType<typeof Todo>, CollectionInput<typeof Todo>>

/** A collection with a collaborative-text field. */
export const Note = z.object({
  title: z.string(),
  body: z.string()
})
