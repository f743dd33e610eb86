/**
 * Whether one head of a read already holds everything the read merged: a
 * read repair writes a merged head only when none does.
 * @module
 */
import { KadmiumError } from '../errors.ts'
import type { HeadRead } from './head-read.ts'
import { mergeStates } from './merge.ts'

/**
 * Whether some head of `read` whose states were all fetched (and none
 * `rejected`) holds `merged`: applying `merged` on top of it changes
 * nothing (same structs, same deletions).
 */
export function coversAll (read: Pick<HeadRead, 'heads' | 'fetched'>, rejected: ReadonlySet<string>, merged: Uint8Array): boolean {
  for (const { states } of read.heads) {
    const own: Uint8Array[] = []
    for (const id of states) {
      const bytes = read.fetched.get(id)
      if (bytes !== undefined && !rejected.has(id)) own.push(bytes)
    }
    if (own.length === 0 || own.length < states.length) continue
    try {
      const state = own.length === 1 ? own[0] as Uint8Array : mergeStates(undefined, own).state
      if (!mergeStates(state, [merged]).changed) return true
    } catch (error) {
      if (!(error instanceof KadmiumError)) throw error
    }
  }
  return false
}
