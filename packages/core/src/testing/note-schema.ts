import type { StandardSchemaV1 } from '../model/schema.ts'

/** The record type of the suite's database cases. */
export interface Note {
  title: string
  rank: number
  done: boolean
  body?: string
  tags?: string[]
}

type Issue = StandardSchemaV1.Issue

/**
 * A hand-written Standard Schema for {@link Note}: the suite needs a schema
 * but core depends on no schema library. Unknown fields are dropped.
 */
export const noteSchema: StandardSchemaV1<Note, Note> = {
  '~standard': {
    version: 1,
    vendor: 'kadmium-testing',
    validate (value: unknown): StandardSchemaV1.Result<Note> {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return { issues: [{ message: 'expected an object' }] }
      }
      const v = value as Record<string, unknown>
      const issues: Issue[] = []
      const expect = (key: string, ok: boolean, what: string): void => {
        if (!ok) issues.push({ message: `expected ${what}`, path: [key] })
      }
      expect('title', typeof v.title === 'string', 'a string')
      expect('rank', typeof v.rank === 'number' && Number.isFinite(v.rank), 'a finite number')
      expect('done', typeof v.done === 'boolean', 'a boolean')
      expect('body', v.body === undefined || typeof v.body === 'string', 'a string or nothing')
      expect('tags', v.tags === undefined || (Array.isArray(v.tags) && v.tags.every((t) => typeof t === 'string')), 'an array of strings or nothing')
      if (issues.length > 0) return { issues }
      const note: Note = { title: v.title as string, rank: v.rank as number, done: v.done as boolean }
      if (v.body !== undefined) note.body = v.body as string
      if (v.tags !== undefined) note.tags = [...v.tags as string[]]
      return { value: note }
    }
  }
}
