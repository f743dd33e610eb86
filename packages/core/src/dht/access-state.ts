/**
 * The access list of a restricted database as a record in the DHT, so
 * that a reader that meets DHT peers only knows who may write: every
 * operation the replica holds, in one Yjs document (a map from operation
 * id to its signed bytes). Stored like any record — a head per author who
 * holds the list (anyone may relay it: each operation carries its owner's
 * signature), merged across replicas, sealed in an encrypted database,
 * republished — and each operation read back is checked by the access
 * list before it counts.
 * @module
 */
import * as Y from 'yjs'
import { MAX_ACCESS_OPS, opId } from '../access/access-list.ts'

/** The record id the access list is stored under (in the pseudo-collection `$access`). */
export const ACCESS_RECORD = 'list'

const MAP = 'ops'

/** The state of the access-list record: the operations, by id. */
export function accessState (ops: Iterable<Uint8Array>): Uint8Array {
  const doc = new Y.Doc({ guid: 'kadmium-access' })
  const map = doc.getMap<Uint8Array>(MAP)
  doc.transact(() => {
    for (const op of ops) map.set(opId(op), op)
  })
  return Y.encodeStateAsUpdate(doc)
}

/**
 * The operations in a state read from the DHT (merged, so it decodes):
 * the byte values of its map, at most `MAX_ACCESS_OPS`. They are not
 * checked here: the access list verifies each.
 */
export function accessOps (state: Uint8Array): Uint8Array[] {
  const doc = new Y.Doc({ guid: 'kadmium-access' })
  Y.applyUpdate(doc, state)
  const ops: Uint8Array[] = []
  for (const value of doc.getMap<unknown>(MAP).values()) {
    if (ops.length >= MAX_ACCESS_OPS) break
    if (value instanceof Uint8Array) ops.push(value)
  }
  return ops
}
