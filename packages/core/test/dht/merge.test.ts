import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as Y from 'yjs'
import { mergeStates } from '../../src/dht/merge.ts'
import { fieldsOf } from './states.ts'

function docWith (fields: Record<string, unknown>, base?: Uint8Array): Y.Doc {
  const doc = new Y.Doc()
  if (base !== undefined) Y.applyUpdate(doc, base)
  for (const [k, v] of Object.entries(fields)) doc.getMap('fields').set(k, v)
  return doc
}

describe('mergeStates', () => {
  test('merges concurrent states into one snapshot and tells whether the untrusted ones added anything', () => {
    const base = Y.encodeStateAsUpdate(docWith({ title: 'milk' }))
    const a = Y.encodeStateAsUpdate(docWith({ done: true }, base))
    const b = Y.encodeStateAsUpdate(docWith({ priority: 2 }, base))
    const merged = mergeStates(a, [b])
    assert.deepEqual(fieldsOf(merged.state), { title: 'milk', done: true, priority: 2 })
    assert.equal(merged.changed, true)
    assert.deepEqual(merged.rejected, [])
    // What the trusted state already holds changes nothing.
    assert.equal(mergeStates(merged.state, [a, b, base]).changed, false)
    // Without a trusted state: changed means something applied.
    assert.equal(mergeStates(undefined, [a]).changed, true)
  })

  test('leaves out untrusted updates that do not decode, and nothing of them stays', () => {
    const good = Y.encodeStateAsUpdate(docWith({ title: 'milk' }))
    const garbage = [new Uint8Array([1, 2, 3, 4, 5]), new TextEncoder().encode('not a yjs update'), new Uint8Array(0), good.subarray(0, good.length - 3)]
    const merged = mergeStates(undefined, [garbage[0] as Uint8Array, good, ...garbage.slice(1)])
    assert.deepEqual(merged.rejected, [0, 2, 3, 4])
    assert.deepEqual(fieldsOf(merged.state), { title: 'milk' })
  })

  test('a trusted state that does not decode is an error', () => {
    assert.throws(() => mergeStates(new Uint8Array([9, 9, 9]), []), { name: 'MalformedUpdateError' })
  })
})
