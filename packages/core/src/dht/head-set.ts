/**
 * The merge rule of Kadmium's DHT servers: the value stored under a head
 * key is a head set holding, per author, only that author's newest head
 * (each author's successive states hold its previous ones: documents only
 * grow), at most `MAX_SET_HEADS` authors and `MAX_SET_BYTES` bytes (the
 * oldest heads go first). Sorted by author, so that replicas holding the
 * same heads hold the same bytes.
 *
 * Signatures are not checked here: kad-dht's validator checked every value
 * it received before storing it. Structure is: a malformed head is left
 * out, a malformed value counts as none.
 * @module
 */
import { toHex } from '../util/hash.ts'
import { KadmiumError } from '../errors.ts'
import { encodeHeadSet, headEntries, MAX_SET_BYTES, MAX_SET_HEADS, parseHead, type SignedHead } from './head.ts'

/**
 * The newest head of each author among `values` (DHT values: heads or
 * head sets). Malformed values and heads are skipped. On equal times the
 * head whose bytes sort last wins, so every replica picks the same.
 */
export function newestHeads (values: ReadonlyArray<Uint8Array | undefined>): SignedHead[] {
  const newest = new Map<string, SignedHead>()
  for (const value of values) {
    if (value === undefined) continue
    for (const entry of entriesOf(value)) {
      let head: SignedHead
      try {
        head = parseHead(entry)
      } catch (error) {
        if (error instanceof KadmiumError) continue
        throw error
      }
      const author = toHex(head.author)
      const held = newest.get(author)
      if (held === undefined || newerHead(head, held)) newest.set(author, head)
    }
  }
  return [...newest.values()]
}

/**
 * Merges a stored DHT value with an incoming one (either may be
 * malformed): the head set to store instead. `undefined` when neither
 * holds a well-formed head (the caller stores the incoming bytes as they
 * are: the validator, not the merge, decides what is acceptable).
 */
export function mergeHeadValues (stored: Uint8Array | undefined, incoming: Uint8Array): Uint8Array | undefined {
  const heads = newestHeads([stored, incoming])
  return heads.length === 0 ? undefined : headSet(heads)
}

/**
 * The head set of `heads` (one per author, at least one) as a server
 * stores it: the newest that fit `MAX_SET_HEADS` and `MAX_SET_BYTES`,
 * sorted by author.
 */
export function headSet (heads: readonly SignedHead[]): Uint8Array {
  return encodeHeadSet(capped(heads).map((h) => h.bytes))
}

/** The newest heads that fit `MAX_SET_HEADS` and `MAX_SET_BYTES`, sorted by author. */
function capped (heads: readonly SignedHead[]): SignedHead[] {
  const kept: SignedHead[] = []
  let bytes = 16 // the set's own framing
  for (const head of [...heads].sort((a, b) => newerHead(a, b) ? -1 : 1)) {
    if (kept.length >= MAX_SET_HEADS) break
    const size = head.bytes.length + 5
    if (bytes + size > MAX_SET_BYTES) continue
    kept.push(head)
    bytes += size
  }
  return kept.sort((a, b) => compareBytes(a.author, b.author))
}

/** Whether head `a` replaces `b` of the same author: later, or equally dated with bytes sorting after (so every replica picks the same). */
export function newerHead (a: SignedHead, b: SignedHead): boolean {
  return a.t !== b.t ? a.t > b.t : compareBytes(a.bytes, b.bytes) > 0
}

function entriesOf (value: Uint8Array): Uint8Array[] {
  try {
    return headEntries(value)
  } catch (error) {
    if (error instanceof KadmiumError) return []
    throw error
  }
}

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  }
  return a.length - b.length
}
