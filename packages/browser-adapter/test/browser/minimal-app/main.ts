/**
 * A minimal Kadmium app, as an app would write it: a browser peer with no
 * bootstrap peer (no network needed), a database in IndexedDB, a typed
 * collection, a few writes and a query. It shows what it found in
 * `#result` (`data-state`: `running`, then `done` or `failed`).
 *
 * `bundling.test.ts` bundles it from the built packages, as an app
 * resolves them, with esbuild and with Vite, and runs the Vite build in
 * Chromium; `../../fixtures/minimal-app.ts` measures its size.
 * @module
 */
import { createDatabase } from '@kadmium/core'
import { browserPeer, indexedDbStorage } from '@kadmium/browser'
import * as v from 'valibot'

const Todo = v.object({ title: v.string(), done: v.boolean(), priority: v.optional(v.number()) })

/** What the app shows once it ran: plain data, read back by the test. */
export interface MinimalAppResult {
  readonly peerId: string
  readonly open: readonly string[]
  readonly total: number
}

async function run (): Promise<MinimalAppResult> {
  const peer = await browserPeer({ storage: (name) => indexedDbStorage(name, { durability: 'strict' }) })
  try {
    const db = await createDatabase({ name: 'minimal-app', peer })
    try {
      const todos = db.collection('todos', { schema: Todo })
      await todos.insert({ title: 'milk', done: false, priority: 2 })
      await todos.insert({ title: 'bread', done: true })
      await todos.insert({ title: 'eggs', done: false, priority: 1 })
      const open = await todos.find({ where: { done: false }, orderBy: [{ field: 'priority', direction: 'desc' }] })
      return { peerId: peer.peerId.toString(), open: open.map((todo) => todo.title), total: await todos.count() }
    } finally {
      await db.close()
    }
  } finally {
    await peer.close()
  }
}

const output = document.querySelector<HTMLElement>('#result')
if (output === null) throw new Error('the page has no #result')
run().then((result) => {
  output.textContent = JSON.stringify(result)
  output.dataset.state = 'done'
}, (error: unknown) => {
  output.textContent = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  output.dataset.state = 'failed'
})
