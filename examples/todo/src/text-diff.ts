/**
 * Editing a `Y.Text` from a plain text input: the input's new value becomes
 * the smallest change (one delete and one insert where the values differ),
 * so that concurrent edits elsewhere in the text survive; and a caret is
 * carried over a change made elsewhere.
 * @module
 */
import type * as Y from 'yjs'

/** One edit: remove `remove` characters at `index`, then insert `insert` there. */
export interface TextEdit {
  readonly index: number
  readonly remove: number
  readonly insert: string
}

/** The smallest single edit that turns `before` into `after` (common prefix and suffix kept). */
export function diffText (before: string, after: string): TextEdit {
  let start = 0
  const shortest = Math.min(before.length, after.length)
  while (start < shortest && before[start] === after[start]) start++
  let end = 0
  while (end < shortest - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++
  return { index: start, remove: before.length - start - end, insert: after.slice(start, after.length - end) }
}

/** Makes `text` read `value` with the smallest edit, in one transaction of `origin`. */
export function setText (text: Y.Text, value: string, origin: unknown): void {
  const edit = diffText(text.toJSON(), value)
  if (edit.remove === 0 && edit.insert === '') return
  const apply = (): void => {
    if (edit.remove > 0) text.delete(edit.index, edit.remove)
    if (edit.insert !== '') text.insert(edit.index, edit.insert)
  }
  if (text.doc === null) apply()
  else text.doc.transact(apply, origin)
}

/**
 * Where a caret at `position` is after the change `delta` (a `YTextEvent`'s
 * delta): it moves with the text before it; text inserted right at the
 * caret goes after it.
 */
export function moveCaret (delta: ReadonlyArray<{ insert?: unknown, retain?: number, delete?: number }>, position: number): number {
  let index = 0 // in the text before the change
  let shift = 0
  for (const op of delta) {
    if (index >= position) break
    if (op.retain !== undefined) {
      index += op.retain
    } else if (op.insert !== undefined) {
      shift += typeof op.insert === 'string' ? op.insert.length : 1
    } else if (op.delete !== undefined) {
      shift -= Math.min(op.delete, position - index)
      index += op.delete
    }
  }
  return Math.max(0, position + shift)
}
