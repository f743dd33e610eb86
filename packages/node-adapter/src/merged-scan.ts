/**
 * A scan of LevelDB with the writes it lacks merged in: once LevelDB has
 * refused a batch (a full disk), what the journal holds and LevelDB does not
 * is still read, from the write-behind's memory.
 * @module
 */
/** Orders keys as LevelDB does: by their UTF-8 bytes. */
export function compareUtf8 (a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/**
 * The entries of `stored` (LevelDB's, in its order) with `unstored` (the
 * latest writes LevelDB lacks, in the same order: a value, or `undefined`
 * for a delete) over them: a put replaces or adds an entry, a delete hides
 * one. At most `limit` entries.
 */
export async function * mergeUnstored (
  stored: AsyncIterable<[string, Uint8Array]>,
  unstored: ReadonlyArray<readonly [string, Uint8Array | undefined]>,
  limit: number
): AsyncIterable<[string, Uint8Array]> {
  let given = 0
  let next = 0
  /** The unstored writes of keys up to `key` (all of them without one), puts as entries. */
  function * upTo (key?: string): Iterable<[string, Uint8Array]> {
    for (; next < unstored.length; next++) {
      const [k, value] = unstored[next] as readonly [string, Uint8Array | undefined]
      if (key !== undefined && compareUtf8(k, key) > 0) return
      // (A copy: the journal's bytes are still on their way to LevelDB.)
      if (value !== undefined) yield [k, value.slice()]
    }
  }
  for await (const [key, value] of stored) {
    for (const entry of upTo(key)) {
      if (given++ === limit) return
      yield entry
    }
    if (next > 0 && unstored[next - 1]?.[0] === key) continue // written since: given above, or deleted
    if (given++ === limit) return
    yield [key, value]
  }
  for (const entry of upTo()) {
    if (given++ === limit) return
    yield entry
  }
}
