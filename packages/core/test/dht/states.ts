/**
 * Record states for DHT tests: Yjs updates of a `fields` map.
 * @module
 */
import assert from 'node:assert/strict'
import * as Y from 'yjs'

/** A record's state with these fields set, on top of `base`. */
export function edit (fields: Record<string, unknown>, base?: Uint8Array): Uint8Array {
  const doc = new Y.Doc()
  if (base !== undefined) Y.applyUpdate(doc, base)
  doc.transact(() => {
    for (const [k, v] of Object.entries(fields)) doc.getMap('fields').set(k, v)
  })
  return Y.encodeStateAsUpdate(doc)
}

/** The fields of a state (asserts there is one). */
export function fieldsOf (state: Uint8Array | undefined): unknown {
  assert.ok(state !== undefined, 'no state was found')
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc.getMap('fields').toJSON()
}
