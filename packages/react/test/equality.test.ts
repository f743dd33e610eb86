import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deepEqual, sameRows, stableKey } from '../src/equality.ts'

test('stableKey: the same for queries of the same content, whatever the order of keys', () => {
  assert.equal(
    stableKey({ where: { done: false, title: 'a' }, orderBy: 'title', limit: undefined }),
    stableKey({ orderBy: 'title', where: { title: 'a', done: false } })
  )
  assert.notEqual(stableKey({ where: { n: 1 } }), stableKey({ where: { n: '1' } }))
  assert.notEqual(stableKey({ where: { tags: ['a', 'b'] } }), stableKey({ where: { tags: ['b', 'a'] } }))
  assert.notEqual(stableKey({ limit: Infinity }), stableKey({ limit: 1 }))
  assert.equal(stableKey({ where: { key: new Uint8Array([1, 2]) } }), stableKey({ where: { key: new Uint8Array([1, 2]) } }))
  assert.notEqual(stableKey({ where: { key: new Uint8Array([1, 2]) } }), stableKey({ where: { key: new Uint8Array([12]) } }))
  const date = new Date(0)
  assert.equal(stableKey({ where: { at: date } }), stableKey({ where: { at: date } }))
  assert.notEqual(stableKey({ where: { at: date } }), stableKey({ where: { at: new Date(0) } }))
})

test('deepEqual and sameRows compare ids, then fields', () => {
  assert.ok(deepEqual({ a: [1, { b: null }], c: new Uint8Array([3]) }, { c: new Uint8Array([3]), a: [1, { b: null }] }))
  assert.ok(!deepEqual({ a: [1] }, { a: [1, 2] }))
  assert.ok(!deepEqual({ a: 1 }, { a: 1, b: undefined }))
  assert.ok(deepEqual({ at: new Date(5) }, { at: new Date(5) }))
  assert.ok(!deepEqual([1], { 0: 1 }))
  assert.ok(sameRows([{ id: 'a', x: 1 }], [{ id: 'a', x: 1 }]))
  assert.ok(!sameRows([{ id: 'a', x: 1 }], [{ id: 'b', x: 1 }]))
  assert.ok(!sameRows([{ id: 'a', x: 1 }], [{ id: 'a', x: 2 }]))
  assert.ok(!sameRows([{ id: 'a' }], []))
})
