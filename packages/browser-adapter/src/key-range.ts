/**
 * Key ranges of prefix scans. IndexedDB orders string keys by their UTF-16
 * code units (as JavaScript's `<` does), so `prefix + PREFIX_END` (U+10FFFF,
 * the code units D8FF DFFF) would be no bound: a key whose next character
 * is U+E000..U+FFFF sorts above it. The bound here is exact instead.
 * @module
 */

/**
 * The range of every key that starts with `prefix`: from `prefix` itself up
 * to, not including, the least string above all of them (the prefix with
 * its last code unit below U+FFFF raised by one, and what followed it
 * dropped). `undefined` (every key) for the empty prefix.
 */
export function prefixRange (prefix: string): IDBKeyRange | undefined {
  let end = prefix.length
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xffff) end--
  // Only code units FFFF, or none: every key from the prefix on starts with it.
  if (end === 0) return prefix === '' ? undefined : IDBKeyRange.lowerBound(prefix)
  const upper = prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1)
  return IDBKeyRange.bound(prefix, upper, false, true)
}

/** The part of `range` (a {@link prefixRange}) above `key`. */
export function rangeAfter (range: IDBKeyRange | undefined, key: string): IDBKeyRange {
  if (range?.upper === undefined) return IDBKeyRange.lowerBound(key, true)
  return IDBKeyRange.bound(key, range.upper, true, range.upperOpen)
}
