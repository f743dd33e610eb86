/**
 * Merging Yjs states found in the DHT: each one is applied to a fresh
 * `Y.Doc` and the document is encoded once — never `Y.mergeUpdates` on
 * bytes from the network: it trusts its input, and crafted bytes make it
 * spin without bound (yjs#687; docs/security.md, "Crafted Yjs updates").
 * @module
 */
import * as Y from 'yjs'
import { checkUpdate } from '../guard/update-guard.ts'
import { MalformedUpdateError } from '../errors.ts'
import { bytesEqual } from '../util/hash.ts'

/** What {@link mergeStates} made. */
export interface MergeResult {
  /** Everything merged, as one Yjs update (a compacted snapshot). */
  readonly state: Uint8Array
  /** Indexes (into `untrusted`) of the updates that did not apply; they were left out. */
  readonly rejected: readonly number[]
  /** Whether the untrusted updates added anything to `trusted` (with no `trusted`: whether any applied). */
  readonly changed: boolean
}

/**
 * Merges Yjs updates into one. `trusted` (this peer's own state) must
 * decode; each `untrusted` update that throws is left out, and the document
 * is rebuilt without it so that nothing half-applied stays in the result.
 * @throws {MalformedUpdateError} `trusted` does not decode
 */
export function mergeStates (trusted: Uint8Array | undefined, untrusted: readonly Uint8Array[]): MergeResult {
  const rejected = new Set<number>()
  for (;;) {
    const doc = new Y.Doc({ guid: 'kadmium-merge' }) // a guid given spares Yjs ~30 random draws
    try {
      if (trusted !== undefined) {
        try {
          Y.applyUpdate(doc, trusted)
        } catch (cause) {
          throw new MalformedUpdateError('the state to store does not decode as a Yjs update', { cause })
        }
      }
      if (untrusted.length === 0) return { state: trusted ?? Y.encodeStateAsUpdate(doc), rejected: [], changed: false }
      const before = trusted === undefined ? undefined : Y.encodeStateAsUpdate(doc)
      const failed = applyAll(doc, untrusted, rejected)
      if (failed !== undefined) {
        rejected.add(failed)
        continue
      }
      const state = Y.encodeStateAsUpdate(doc)
      const changed = before === undefined ? rejected.size < untrusted.length : !bytesEqual(before, state)
      return { state, rejected: [...rejected].sort((a, b) => a - b), changed }
    } finally {
      doc.destroy()
    }
  }
}

/** Applies every update not yet rejected; returns the index of the first that throws. */
function applyAll (doc: Y.Doc, updates: readonly Uint8Array[], rejected: ReadonlySet<number>): number | undefined {
  for (let i = 0; i < updates.length; i++) {
    if (rejected.has(i)) continue
    try {
      // Untrusted bytes: checked before Yjs sees them (see guard/update-guard.ts).
      checkUpdate(updates[i] as Uint8Array)
      Y.applyUpdate(doc, updates[i] as Uint8Array)
    } catch {
      return i
    }
  }
  return undefined
}
