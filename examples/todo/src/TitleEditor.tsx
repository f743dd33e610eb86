/**
 * A todo's title as a text input bound to its `Y.Text`: typing edits the
 * shared text (only the characters that changed), and edits from other
 * windows come in without moving the caret off the text it was in.
 * @module
 */
import { useEffect, useRef, useState, type JSX, type KeyboardEvent } from 'react'
import { RECORD_ROOT } from '@kadmium/core'
import type * as Y from 'yjs'
import type { Todos } from './schema.ts'
import { moveCaret, setText } from './text-diff.ts'

/** The origin of this editor's own transactions: they are not written back into it. */
const EDITOR = Symbol('title editor')

/** Props of {@link TitleEditor}. */
export interface TitleEditorProps {
  readonly todos: Todos
  readonly id: string
  /** The title as the list read it, shown until the shared text is loaded. */
  readonly title: string
}

/** The title of the todo `id`, editable by everyone at once. */
export function TitleEditor ({ todos, id, title }: TitleEditorProps): JSX.Element {
  const input = useRef<HTMLInputElement>(null)
  const [text, setShared] = useState<Y.Text | undefined>(undefined)

  useEffect(() => {
    let live = true
    todos.doc(id).then((doc) => {
      const field = doc.getMap(RECORD_ROOT).get('title') as Y.Text | undefined
      if (live && field !== undefined) setShared(field)
    }, () => { /* deleted meanwhile: the row goes away too */ })
    return () => { live = false }
  }, [todos, id])

  useEffect(() => {
    const element = input.current
    if (text === undefined || element === null) return
    element.value = text.toJSON()
    const onChange = (event: Y.YTextEvent, transaction: Y.Transaction): void => {
      if (transaction.origin === EDITOR) return
      const focused = document.activeElement === element
      const start = element.selectionStart ?? 0
      const end = element.selectionEnd ?? 0
      element.value = text.toJSON()
      if (focused) element.setSelectionRange(moveCaret(event.delta, start), moveCaret(event.delta, end))
    }
    text.observe(onChange)
    return () => { text.unobserve(onChange) }
  }, [text])

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key === 'Enter' || event.key === 'Escape') event.currentTarget.blur()
  }

  return (
    <input
      ref={input}
      className='title'
      aria-label='Title'
      defaultValue={title}
      readOnly={text === undefined}
      spellCheck={false}
      onKeyDown={onKeyDown}
      onInput={(event) => { if (text !== undefined) setText(text, event.currentTarget.value, EDITOR) }}
    />
  )
}
