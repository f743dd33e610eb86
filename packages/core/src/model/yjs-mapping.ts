/**
 * The mapping between plain values and Yjs types: objects are `Y.Map`s,
 * arrays `Y.Array`s, fields named as text `Y.Text`, everything else a plain
 * value. Writes touch only what changed, so concurrent edits to different
 * fields (or different parts of one text) merge.
 * @module
 */
import * as Y from 'yjs'
import { deepEqual, isPlainObject, type StoredObject, type StoredValue } from './values.ts'

/** The name of the root map of every record's `Y.Doc`. */
export const ROOT = 'fields'

/** The record's fields as a plain value. */
export function readFields (doc: Y.Doc): StoredObject {
  const fields: StoredObject = doc.getMap(ROOT).toJSON()
  return fields
}

/**
 * Makes `doc`'s root map equal `next`, knowing that it equals `prev` now,
 * with as few Yjs operations as it takes. Call inside a transaction.
 * @param textPaths dotted paths of fields that are collaborative text
 */
export function applyFields (doc: Y.Doc, prev: StoredObject, next: StoredObject, textPaths: ReadonlySet<string>): void {
  applyMap(doc.getMap(ROOT), prev, next, textPaths, '')
}

function applyMap (map: Y.Map<unknown>, prev: StoredObject, next: StoredObject, textPaths: ReadonlySet<string>, path: string): void {
  for (const key of Object.keys(prev)) {
    if (!Object.hasOwn(next, key)) map.delete(key)
  }
  for (const [key, value] of Object.entries(next)) {
    const old = Object.hasOwn(prev, key) ? prev[key] : undefined
    if (old !== undefined && deepEqual(old, value)) continue
    const childPath = path === '' ? key : `${path}.${key}`
    const current = map.get(key)
    if (current instanceof Y.Map && isPlainObject(value) && isPlainObject(old)) {
      applyMap(current, old, value, textPaths, childPath)
    } else if (current instanceof Y.Array && Array.isArray(value) && Array.isArray(old)) {
      applyArray(current, old as readonly StoredValue[], value as readonly StoredValue[], textPaths, childPath)
    } else if (current instanceof Y.Text && typeof value === 'string' && typeof old === 'string') {
      applyText(current, old, value)
    } else {
      map.set(key, toYjs(value, textPaths, childPath))
    }
  }
}

function applyArray (array: Y.Array<unknown>, prev: readonly StoredValue[], next: readonly StoredValue[], textPaths: ReadonlySet<string>, path: string): void {
  let start = 0
  while (start < prev.length && start < next.length && deepEqual(prev[start], next[start])) start++
  let endPrev = prev.length
  let endNext = next.length
  while (endPrev > start && endNext > start && deepEqual(prev[endPrev - 1], next[endNext - 1])) {
    endPrev--
    endNext--
  }
  // Same-length middles of objects are edited in place, so that concurrent
  // edits to different items of a list both survive.
  if (endPrev - start === endNext - start) {
    let inPlace = true
    for (let i = start; i < endPrev; i++) {
      if (!(array.get(i) instanceof Y.Map && isPlainObject(prev[i]) && isPlainObject(next[i]))) {
        inPlace = false
        break
      }
    }
    if (inPlace) {
      for (let i = start; i < endPrev; i++) {
        applyMap(array.get(i) as Y.Map<unknown>, prev[i] as StoredObject, next[i] as StoredObject, textPaths, `${path}.${i}`)
      }
      return
    }
  }
  if (endPrev > start) array.delete(start, endPrev - start)
  if (endNext > start) {
    array.insert(start, next.slice(start, endNext).map((v, i) => toYjs(v, textPaths, `${path}.${start + i}`)))
  }
}

function applyText (text: Y.Text, prev: string, next: string): void {
  let start = 0
  const max = Math.min(prev.length, next.length)
  while (start < max && prev.charCodeAt(start) === next.charCodeAt(start)) start++
  // Never split a surrogate pair.
  if (start > 0 && isHighSurrogate(prev.charCodeAt(start - 1))) start--
  let endPrev = prev.length
  let endNext = next.length
  while (endPrev > start && endNext > start && prev.charCodeAt(endPrev - 1) === next.charCodeAt(endNext - 1)) {
    endPrev--
    endNext--
  }
  if (endPrev < prev.length && isLowSurrogate(prev.charCodeAt(endPrev))) {
    endPrev++
    endNext++
  }
  if (endPrev > start) text.delete(start, endPrev - start)
  if (endNext > start) text.insert(start, next.slice(start, endNext))
}

function isHighSurrogate (code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

function isLowSurrogate (code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

/** A fresh Yjs value for a plain value (a new `Y.Map`, `Y.Array`, `Y.Text`, or the value itself). */
function toYjs (value: StoredValue, textPaths: ReadonlySet<string>, path: string): unknown {
  if (typeof value === 'string') return textPaths.has(path) ? new Y.Text(value) : value
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value
  if (Array.isArray(value)) {
    const array = new Y.Array<unknown>()
    array.insert(0, value.map((v: StoredValue, i) => toYjs(v, textPaths, `${path}.${i}`)))
    return array
  }
  const map = new Y.Map<unknown>()
  for (const [key, v] of Object.entries(value as StoredObject)) {
    map.set(key, toYjs(v, textPaths, path === '' ? key : `${path}.${key}`))
  }
  return map
}
