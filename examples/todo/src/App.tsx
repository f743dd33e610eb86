/**
 * The list: its status, a field to add a todo, the filters (each a live
 * query), the todos, and links to share the list or start another.
 * @module
 */
import { useState, type FormEvent, type JSX } from 'react'
import type { Database } from '@kadmium/core'
import { useQuery } from '@kadmium/react'
import { queryOf, type Filter, type Todos } from './schema.ts'
import { ShareButton } from './ShareButton.tsx'
import { StatusBar } from './StatusBar.tsx'
import { TodoItem } from './TodoItem.tsx'
import { report } from './report.ts'

/** Props of {@link App}. */
export interface AppProps {
  readonly db: Database
  readonly todos: Todos
}

const FILTERS: ReadonlyArray<{ readonly filter: Filter, readonly label: string }> = [
  { filter: 'all', label: 'All' },
  { filter: 'open', label: 'Open' },
  { filter: 'done', label: 'Done' }
]

/** The todo list `todos` of the database `db`. */
export function App ({ db, todos }: AppProps): JSX.Element {
  const [filter, setFilter] = useState<Filter>('all')
  const all = useQuery(todos, queryOf('all'))
  const shown = useQuery(todos, queryOf(filter))
  const done = all.filter((t) => t.done)
  const counts: Record<Filter, number> = { all: all.length, open: all.length - done.length, done: done.length }

  const add = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    const field = event.currentTarget.elements.namedItem('title') as HTMLInputElement
    const title = field.value.trim()
    if (title === '') return
    field.value = ''
    todos.insert({ title, done: false }).catch(report('adding a todo'))
  }
  const clearDone = (): void => {
    for (const todo of done) todos.delete(todo.id).catch(report('deleting a todo'))
  }

  return (
    <main className='app'>
      <header className='top'>
        <h1>Todo</h1>
        <StatusBar db={db} />
      </header>

      <form className='add' onSubmit={add}>
        <input name='title' aria-label='New todo' placeholder='What needs doing?' autoComplete='off' maxLength={1000} />
        <button type='submit'>Add</button>
      </form>

      <nav className='filters' aria-label='Show'>
        {FILTERS.map(({ filter: f, label }) => (
          <button key={f} type='button' aria-pressed={filter === f} onClick={() => { setFilter(f) }}>
            {label} <span className='count'>{counts[f]}</span>
          </button>
        ))}
      </nav>

      <ul className='todos'>
        {shown.map((todo) => <TodoItem key={todo.id} todos={todos} todo={todo} />)}
      </ul>
      {shown.length === 0 && <p className='empty'>{filter === 'all' ? 'Nothing to do yet.' : filter === 'open' ? 'Nothing left to do.' : 'Nothing done yet.'}</p>}

      <footer className='bottom'>
        <ShareButton />
        <a href='/' className='new-list'>New list</a>
        <button type='button' className='clear' onClick={clearDone} disabled={done.length === 0}>Clear done</button>
      </footer>
    </main>
  )
}
