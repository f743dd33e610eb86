/**
 * One todo of the list: done or not, its title (shared text), delete.
 * @module
 */
import type { JSX } from 'react'
import type { Row } from '@kadmium/core'
import type { Todo, Todos } from './schema.ts'
import { TitleEditor } from './TitleEditor.tsx'
import { report } from './report.ts'

/** Props of {@link TodoItem}. */
export interface TodoItemProps {
  readonly todos: Todos
  readonly todo: Row<Todo>
}

/** A row of the list. */
export function TodoItem ({ todos, todo }: TodoItemProps): JSX.Element {
  const toggle = (): void => {
    todos.update(todo.id, (t) => { t.done = !t.done }).catch(report('toggling a todo'))
  }
  const remove = (): void => {
    todos.delete(todo.id).catch(report('deleting a todo'))
  }
  return (
    <li className={todo.done ? 'todo done' : 'todo'}>
      <input type='checkbox' className='toggle' checked={todo.done} onChange={toggle} aria-label='Done' />
      <TitleEditor todos={todos} id={todo.id} title={todo.title} />
      <button type='button' className='delete' onClick={remove} aria-label='Delete' title='Delete'>×</button>
    </li>
  )
}
