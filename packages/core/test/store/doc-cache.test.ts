import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { DocCache } from '../../src/store/doc-cache.ts'
import { makeRow } from '../../src/query/row.ts'
import type { Entry } from '../../src/store/entry.ts'

const destroyedDocs = new WeakSet<Y.Doc>()

/** A cache entry whose document's destruction is recorded. */
function tracked (id: string): Entry {
  const doc = new Y.Doc({ guid: id })
  doc.on('destroy', () => { destroyedDocs.add(doc) })
  return { id, doc, fields: {}, row: makeRow(id, {}), updateKeys: [], pending: [], unstored: [], storing: 0, pinned: false, behind: 0 }
}

function destroyed (e: Entry): boolean {
  return destroyedDocs.has(e.doc)
}

test('beyond its size, the cache destroys the least recently used documents', () => {
  const cache = new DocCache(2, () => false)
  const [a, b, c] = [tracked('a'), tracked('b'), tracked('c')]
  cache.add(a)
  cache.add(b)
  assert.equal(cache.use('a'), a) // a is now more recent than b
  cache.add(c)
  assert.equal(cache.peek('b'), undefined)
  assert.ok(destroyed(b))
  assert.equal(cache.peek('a'), a)
  assert.equal(cache.peek('c'), c)
  assert.ok(!destroyed(a) && !destroyed(c))
})

test('pinned, busy and not yet stored documents stay beyond the size; a forced eviction drops a pinned one', () => {
  let busy = 'b'
  const cache = new DocCache(1, (id) => id === busy)
  const [a, b, c, d] = [tracked('a'), tracked('b'), tracked('c'), tracked('d')]
  a.pinned = true
  c.pending.push(new Uint8Array([0]))
  for (const e of [a, b, c, d]) cache.add(e)
  // d is the newest: it stays; a (pinned), b (busy) and c (pending) stay too.
  for (const e of [a, b, c, d]) assert.equal(cache.peek(e.id), e, e.id)
  busy = ''
  c.pending = []
  cache.add(tracked('e'))
  assert.equal(cache.peek('b'), undefined)
  assert.equal(cache.peek('c'), undefined)
  assert.equal(cache.peek('d'), undefined)
  assert.equal(cache.peek('a'), a, 'pinned')
  cache.evict('a')
  assert.equal(cache.peek('a'), a, 'not without force')
  cache.evict('a', true)
  assert.equal(cache.peek('a'), undefined)
  assert.ok(destroyed(a))
})

test('clear destroys every cached document', () => {
  const cache = new DocCache(10, () => false)
  const all = ['a', 'b', 'c'].map(tracked)
  for (const e of all) cache.add(e)
  cache.clear()
  for (const e of all) {
    assert.equal(cache.peek(e.id), undefined)
    assert.ok(destroyed(e))
  }
})
