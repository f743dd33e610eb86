import { createDatabase, type Collection, type Database } from '../index.ts'
import { assert, assertDeepEqual, assertEqual, assertRejects } from './assert.ts'
import { scanKeys } from './bytes.ts'
import { keepOpen } from './keep-open.ts'
import type { CaseDefinition } from './harness.ts'
import { noteSchema, type Note } from './note-schema.ts'

const NAME = 'conformance'
const COMPACT_EVERY = 4

/** The database on top of the adapter, through `@kadmium/core`'s public API. */
export const databaseCases: readonly CaseDefinition[] = [
  {
    name: 'database: inserts, updates, deletes and queries work on the adapter',
    body: async ({ open }) => {
      const db = await createDatabase({ name: NAME, storage: await open(), compactEvery: COMPACT_EVERY })
      try {
        await writeNotes(notes(db))
        await expectNotes(notes(db), 'in the session that wrote them')
      } finally {
        await db.close()
      }
    }
  },
  {
    name: 'database: records and query results survive close and reopen',
    persistentOnly: true,
    body: async ({ open }) => {
      const first = await createDatabase({ name: NAME, storage: await open(), compactEvery: COMPACT_EVERY })
      await writeNotes(notes(first))
      const before = await notes(first).find({ orderBy: 'rank' })
      await first.close()
      const second = await createDatabase({ name: NAME, storage: await open(), compactEvery: COMPACT_EVERY })
      try {
        await expectNotes(notes(second), 'after reopening')
        assertDeepEqual(await notes(second).find({ orderBy: 'rank' }), before, 'every record after reopening, as before closing')
        const error = await assertRejects(() => notes(second).insert({ title: 'again', rank: 9, done: false }, { id: 'c' }), 'insert with the id of a record deleted before reopening')
        assertEqual(error.name, 'RecordDeletedError', 'name of the error of reusing a deleted id after reopening')
      } finally {
        await second.close()
      }
    }
  },
  {
    name: `database: a record updated more than compactEvery (${COMPACT_EVERY}) times reads back, its update log compacted`,
    body: async ({ open, persistent }) => {
      const storage = await open()
      // The database's close must not close the adapter: the case reads its raw keys afterwards.
      const db = await createDatabase({ name: NAME, storage: keepOpen(storage), compactEvery: COMPACT_EVERY })
      const expected = { id: 'counter', title: 'counter', rank: 12, done: true, body: 'count: 0 1 2 3 4 5 6 7 8 9 10 11 12', tags: ['t12'] }
      try {
        const collection = notes(db)
        await collection.insert({ title: 'counter', rank: 0, done: false, body: 'count: 0', tags: ['t0'] }, { id: 'counter' })
        for (let i = 1; i <= 12; i++) {
          await collection.update('counter', (draft) => {
            draft.rank = i
            draft.body = `${draft.body ?? ''} ${i}`
            draft.tags = [`t${i}`]
            if (i === 12) draft.done = true
          })
        }
        assertDeepEqual(await collection.get('counter'), expected, 'the record in the session that wrote it')
      } finally {
        await db.close()
      }
      const log = await scanKeys(storage, 'c/notes/d/counter/u/')
      assert(log.length < COMPACT_EVERY, `the update log of a record written 13 times must be compacted below compactEvery (${COMPACT_EVERY}) entries; it holds ${log.length}: ${log.join(', ')}`)
      assert(await storage.get('c/notes/d/counter/s') !== undefined, 'a compacted record must have a snapshot under "c/notes/d/counter/s"')
      if (!persistent) return
      await storage.close?.()
      const reopened = await createDatabase({ name: NAME, storage: await open(), compactEvery: COMPACT_EVERY })
      try {
        assertDeepEqual(await notes(reopened).get('counter'), expected, 'the compacted record after reopening')
        assertDeepEqual(await notes(reopened).find({ where: { done: true } }), [expected], 'a query over the compacted record after reopening')
      } finally {
        await reopened.close()
      }
    }
  }
]

function notes (db: Database): Collection<Note> {
  return db.collection('notes', { schema: noteSchema, text: ['body'] })
}

/** Writes the records {@link expectNotes} checks for. */
async function writeNotes (collection: Collection<Note>): Promise<void> {
  await collection.insert({ title: 'alpha', rank: 2, done: false, body: 'first draft', tags: ['x'] }, { id: 'a' })
  await collection.insert({ title: 'beta', rank: 1, done: false }, { id: 'b' })
  await collection.insert({ title: 'gamma', rank: 3, done: false }, { id: 'c' })
  await collection.insert({ title: 'delta', rank: 4, done: true, body: 'ünïcødé ✓ 😀' }, { id: 'd' })
  await collection.update('a', (draft) => {
    draft.done = true
    draft.body = 'second draft, longer'
    draft.tags?.push('y')
  })
  await collection.update('b', (draft) => ({ ...draft, title: 'beta 2', rank: 5 }))
  await collection.delete('c')
}

async function expectNotes (collection: Collection<Note>, when: string): Promise<void> {
  const a = { id: 'a', title: 'alpha', rank: 2, done: true, body: 'second draft, longer', tags: ['x', 'y'] }
  const b = { id: 'b', title: 'beta 2', rank: 5, done: false }
  const d = { id: 'd', title: 'delta', rank: 4, done: true, body: 'ünïcødé ✓ 😀' }
  assertDeepEqual(await collection.get('a'), a, `record "a" (inserted, then updated) ${when}`)
  assertDeepEqual(await collection.get('b'), b, `record "b" (replaced by update) ${when}`)
  assertEqual(await collection.get('c'), undefined, `record "c" (deleted) ${when}`)
  assertDeepEqual(await collection.find({ orderBy: 'rank' }), [a, d, b], `every record by rank ${when}`)
  assertDeepEqual(await collection.find({ where: { done: true }, orderBy: { field: 'rank', direction: 'desc' } }), [d, a], `records with done: true ${when}`)
  assertEqual(await collection.count({ where: { rank: { gte: 4 } } }), 2, `count of records with rank >= 4 ${when}`)
  assertEqual(await collection.count(), 3, `count of every record ${when}`)
}

