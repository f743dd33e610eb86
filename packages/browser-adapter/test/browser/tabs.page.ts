/**
 * The test page of `shareAcrossTabs`: each page is a tab that opens shared
 * databases by name, writes to them, and watches them through a live
 * query; the Node side opens several such tabs in one browser context.
 * Waits in the page end on a condition (a live query's rows, the tab's
 * role), each within a bound.
 * @module
 */
import { z } from 'zod'
import type { Collection, CollectionInput, CollectionType } from '@kadmium/core'
import { browserPeer, shareAcrossTabs, type SharedDatabase, type TabRole } from '@kadmium/browser'
import { exposePage } from '../fixtures/browser/expose.ts'

const Todo = z.object({ title: z.string(), done: z.boolean(), priority: z.number().optional() })
type Todos = Collection<CollectionType<typeof Todo>, CollectionInput<typeof Todo>>

/** A wait in the page ran past its bound. */
class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError'
}

/** A shared database open in this tab, with its live query's latest rows and the events it heard. */
interface Opened {
  readonly shared: SharedDatabase
  readonly todos: Todos
  rows: string[]
  readonly events: string[]
}

const opened = new Map<string, Opened>()
/** Conditions waited for, checked again whenever something they look at changes. */
const waiters = new Set<() => void>()

function notify (): void {
  for (const check of [...waiters]) check()
}

/** Resolves once `check` holds (checked now and on every change), or rejects after `boundMs`. */
async function until (check: () => boolean, what: string, boundMs: number): Promise<void> {
  if (check()) return
  await new Promise<void>((resolve, reject) => {
    const waiter = (): void => {
      if (!check()) return
      waiters.delete(waiter)
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      waiters.delete(waiter)
      reject(new WaitTimeoutError(`${what}: not within ${boundMs} ms`))
    }, boundMs)
    waiters.add(waiter)
  })
}

function the (name: string): Opened {
  const found = opened.get(name)
  if (found === undefined) throw new Error(`database "${name}" is not open in this tab`)
  return found
}

/** A row as the tests compare it. */
function show (row: { title: string, done: boolean, priority?: number | undefined }): string {
  return `${row.title}:${String(row.done)}${row.priority === undefined ? '' : `:${row.priority}`}`
}

/** What the Node side may ask of this page. */
export const actions = {
  /**
   * Opens database `name` shared with the other tabs, and a live query of
   * all its todos; resolves this tab's role. No network: without a peer,
   * or (`brokenPeer`) with a peer that fails to start.
   */
  open: async (name: string, options: { compactEvery?: number, brokenPeer?: boolean, bootstrap?: string[] } = {}): Promise<TabRole> => {
    const { bootstrap } = options
    const shared = await shareAcrossTabs({
      name,
      ...(options.compactEvery !== undefined ? { compactEvery: options.compactEvery } : {}),
      ...(options.brokenPeer === true ? { peer: async () => { throw new Error('no network in this test') } } : {}),
      // A browser peer that joins the network through `bootstrap` (WebSockets on 127.0.0.1).
      ...(bootstrap !== undefined ? { peer: async () => browserPeer({ network: 'local', bootstrap, relayed: false }) } : {})
    })
    const todos = shared.db.collection('todos', { schema: Todo })
    const entry: Opened = { shared, todos, rows: [], events: [] }
    opened.set(name, entry)
    shared.on('leader', ({ peer }) => { entry.events.push(peer === undefined ? 'leader' : 'leader+peer'); notify() })
    shared.on('error', (error) => { entry.events.push(`error:${error.name}`); notify() })
    todos.subscribe({ orderBy: 'title' }, (rows) => { entry.rows = rows.map(show); notify() })
    return shared.role
  },
  /** This tab's role for database `name`. */
  role: async (name: string): Promise<TabRole> => the(name).shared.role,
  /** Resolves once this tab has role `role` for database `name`. */
  waitForRole: async (name: string, role: TabRole, boundMs: number): Promise<void> => {
    const { shared } = the(name)
    await until(() => shared.role === role, `the tab's role becoming ${role}`, boundMs)
  },
  /** Inserts a todo; resolves its id once the write is durable here. */
  insert: async (name: string, title: string, done = false): Promise<string> => the(name).todos.insert({ title, done }),
  /** Changes fields of a todo. */
  update: async (name: string, id: string, patch: { title?: string, done?: boolean, priority?: number }): Promise<void> => {
    await the(name).todos.update(id, (todo) => { Object.assign(todo, patch) })
  },
  /** The peer id of the peer this tab runs for database `name`, or null (a follower, or no network). */
  peerId: async (name: string): Promise<string | null> => the(name).shared.db.peer?.libp2p.peerId.toString() ?? null,
  /** The todo `id` as this tab reads it, or null. */
  get: async (name: string, id: string): Promise<string | null> => {
    const row = await the(name).todos.get(id)
    return row === undefined ? null : show(row)
  },
  /** The live query's latest rows (`title:done[:priority]`, by title). */
  rows: async (name: string): Promise<string[]> => the(name).rows,
  /** Resolves once the live query shows exactly `expected`. */
  waitForRows: async (name: string, expected: string[], boundMs: number): Promise<void> => {
    const entry = the(name)
    await until(() => entry.rows.join('\n') === expected.join('\n'), `the live query showing ${JSON.stringify(expected)} (it shows ${JSON.stringify(entry.rows)})`, boundMs)
  },
  /** The sharing's events heard so far (`leader`, `error:<name>`). */
  events: async (name: string): Promise<string[]> => [...the(name).events],
  /** The Web Locks of the origin, held and waited for, by name (every tab's). */
  locks: async (): Promise<{ held: string[], pending: string[] }> => {
    const state = await navigator.locks.query()
    return { held: (state.held ?? []).map((l) => l.name ?? ''), pending: (state.pending ?? []).map((l) => l.name ?? '') }
  },
  /**
   * What `shareAcrossTabs` refuses, by the name of the error it throws: a
   * page without Web Locks, one without `BroadcastChannel`, a peer that is
   * not a function, an empty name.
   */
  refusals: async (name: string): Promise<string[]> => {
    const refusal = async (open: () => Promise<unknown>): Promise<string> => open().then(() => 'opened', (error: Error) => error.name)
    const withoutLocks = await refusal(async () => {
      Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true })
      try {
        return await shareAcrossTabs({ name })
      } finally {
        delete (navigator as { locks?: unknown }).locks
      }
    })
    const withoutChannels = await refusal(async () => {
      const saved = globalThis.BroadcastChannel
      Object.defineProperty(globalThis, 'BroadcastChannel', { value: undefined, configurable: true, writable: true })
      try {
        return await shareAcrossTabs({ name })
      } finally {
        Object.defineProperty(globalThis, 'BroadcastChannel', { value: saved, configurable: true, writable: true })
      }
    })
    return [
      withoutLocks,
      withoutChannels,
      await refusal(async () => shareAcrossTabs({ name, peer: {} as never })),
      await refusal(async () => shareAcrossTabs({ name: '' }))
    ]
  },
  /** Closes database `name` in this tab. */
  close: async (name: string): Promise<void> => {
    await the(name).shared.close()
    opened.delete(name)
  }
}

exposePage({ actions })
