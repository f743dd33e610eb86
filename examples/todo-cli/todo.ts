/**
 * A todo list on the command line, kept in LevelDB with Kadmium.
 *
 *   node --conditions=development examples/todo-cli/todo.ts add "buy milk"
 *   node --conditions=development examples/todo-cli/todo.ts list
 *   node --conditions=development examples/todo-cli/todo.ts done <id>
 *   node --conditions=development examples/todo-cli/todo.ts remove <id>
 *
 * Data lives in `$TODO_DIR` (default `./todo-data`). Uses only the public API.
 */
import { createDatabase, NotFoundError } from '@kadmium/core'
import { levelStorage } from '@kadmium/node/level'
import { z } from 'zod'

const Todo = z.object({ title: z.string().min(1), done: z.boolean() })

const [command = 'list', ...args] = process.argv.slice(2)
const db = await createDatabase({ name: 'todo-cli', storage: levelStorage(process.env.TODO_DIR ?? './todo-data') })
const todos = db.collection('todos', { schema: Todo })

try {
  switch (command) {
    case 'add':
      console.log(await todos.insert({ title: args.join(' '), done: false }))
      break
    case 'done':
      await todos.update(args[0] ?? '', (t) => { t.done = true })
      break
    case 'remove':
      await todos.delete(args[0] ?? '')
      break
    case 'list':
      for (const t of await todos.find({ orderBy: ['done', 'id'] })) console.log(`${t.done ? '[x]' : '[ ]'} ${t.id} ${t.title}`)
      break
    default:
      console.error(`unknown command "${command}": add, list, done, remove`)
      process.exitCode = 2
  }
} catch (error) {
  if (!(error instanceof Error)) throw error
  console.error(error instanceof NotFoundError ? `no todo ${args[0] ?? ''}` : `${error.name}: ${error.message}`)
  process.exitCode = 1
} finally {
  await db.close()
}
