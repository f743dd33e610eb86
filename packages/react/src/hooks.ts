/**
 * The hooks: live Kadmium reads as React state, on `useSyncExternalStore`.
 * @module
 */
import { useMemo, useSyncExternalStore } from 'react'
import type { Collection, Database, DatabaseStatus, PresencePeer, Query, Row } from '@kadmium/core'
import { deepEqual, sameRows, stableKey } from './equality.ts'
import { LiveSource } from './live-source.ts'

/** The result before a live query's first one: one frozen empty array, so that it is stable too. */
const NO_ROWS: ReadonlyArray<never> = Object.freeze([])

/**
 * The rows a live query selects, in its order, kept current through
 * `collection.subscribe(query, …)`: the component renders again when the
 * result changes (an insert, update or delete, here or by a peer), and
 * only then (a result equal to the last one, row ids and fields alike,
 * keeps the same array and renders nothing).
 *
 * `query` may be a new object literal on every render: it is keyed by its
 * content, and the subscription is made again only when the content (or
 * the collection) changes. Until the first result arrives, and for a
 * closed database, the rows are an empty array.
 *
 * @example
 * ```tsx
 * function OpenTodos ({ todos }: { todos: Collection<Todo> }) {
 *   const open = useQuery(todos, { where: { done: false }, orderBy: 'title' })
 *   return <ul>{open.map((t) => <li key={t.id}>{t.title}</li>)}</ul>
 * }
 * ```
 * @param collection the collection to read
 * @param query what to select (see `Query` in `@kadmium/core`); every record by default
 * @throws {QueryError} (at subscription, to the nearest error boundary) the query is malformed
 */
export function useQuery<T extends object, I> (collection: Collection<T, I>, query: Query<T> = {}): ReadonlyArray<Row<T>> {
  const key = stableKey(query)
  const source = useMemo(
    () => new LiveSource<ReadonlyArray<Row<T>>>(NO_ROWS, (set) => collection.subscribe(query, set), sameRows),
    // The query is keyed by its content: a new literal with the same content keeps the subscription.
    [collection, key]
  )
  return useSyncExternalStore(source.subscribe, source.getSnapshot, source.getSnapshot)
}

/**
 * One record, kept current through `collection.subscribe(id, …)`:
 * `undefined` while it loads, when there is no live record with this id,
 * or while the record fails the schema. The component renders again when
 * the record's fields change, and only then. An `undefined` id reads
 * nothing (for a selection that may be empty).
 *
 * @example
 * ```tsx
 * function TodoTitle ({ todos, id }: { todos: Collection<Todo>, id: string }) {
 *   const todo = useRecord(todos, id)
 *   return <span>{todo?.title ?? '…'}</span>
 * }
 * ```
 * @param collection the collection to read
 * @param id the record's id
 */
export function useRecord<T extends object, I> (collection: Collection<T, I>, id: string | undefined): Row<T> | undefined {
  const source = useMemo(
    () => new LiveSource<Row<T> | undefined>(undefined, (set) => id === undefined ? () => {} : collection.subscribe(id, set), deepEqual),
    [collection, id]
  )
  return useSyncExternalStore(source.subscribe, source.getSnapshot, source.getSnapshot)
}

/** Options of {@link useStatus}. */
export interface UseStatusOptions {
  /**
   * How often the status is read besides on the database's events (ms):
   * what catches the changes no event tells (the database closed, writes
   * done, DHT puts, replicating peers). @default 1000
   */
  readonly interval?: number
}

/**
 * `db.status`, kept current: read again on the database's events (a
 * change, a committed update, a catch-up, an access change, a refusal, an
 * error), on the peer's connections opening and closing, and every
 * `interval` ms. The object keeps its reference while the status is
 * unchanged, so that the component renders again only when it changes.
 *
 * @example
 * ```tsx
 * function Online ({ db }: { db: Database }) {
 *   const { online, peers, pendingWrites } = useStatus(db)
 *   return <span>{online ? `${peers} peers` : 'offline'}, {pendingWrites} to sync</span>
 * }
 * ```
 * @param db the database
 * @param options how often to read the status besides events
 */
export function useStatus (db: Database, options: UseStatusOptions = {}): DatabaseStatus {
  const interval = options.interval ?? 1000
  const source = useMemo(() => statusSource(db, interval), [db, interval])
  return useSyncExternalStore(source.subscribe, source.getSnapshot, source.getSnapshot)
}

/** The events after which `db.status` may read differently. */
const STATUS_EVENTS = ['change', 'update', 'sync', 'access', 'rejected', 'error'] as const

function statusSource (db: Database, interval: number): LiveSource<DatabaseStatus> {
  return new LiveSource<DatabaseStatus>(db.status, (set) => {
    let scheduled = false
    // A burst of events (a catch-up's changes) reads the status once.
    const refresh = (): void => {
      if (scheduled) return
      scheduled = true
      queueMicrotask(() => {
        scheduled = false
        set(db.status)
      })
    }
    const offs = STATUS_EVENTS.map((type) => db.on(type, refresh))
    const libp2p = db.peer?.libp2p
    libp2p?.addEventListener('connection:open', refresh)
    libp2p?.addEventListener('connection:close', refresh)
    const timer = setInterval(refresh, interval)
    // Whatever changed between the first render and this subscription.
    refresh()
    return () => {
      clearInterval(timer)
      libp2p?.removeEventListener('connection:open', refresh)
      libp2p?.removeEventListener('connection:close', refresh)
      for (const off of offs) off()
    }
  }, deepEqual)
}

/**
 * The other peers present in the database and their states
 * (`db.presence.peers()`), kept current through `db.presence.subscribe`:
 * the component renders again when a peer joins, changes its state, or
 * leaves (or expires), and only then (heartbeats that change nothing keep
 * the same array). Set this peer's own state with `db.presence.set(…)`.
 *
 * @example
 * ```tsx
 * function WhoIsHere ({ db }: { db: Database<{ nick: string, typing: boolean }> }) {
 *   const present = usePresence(db)
 *   return <ul>{present.map((p) => <li key={p.peer}>{p.state.nick}{p.state.typing ? ' is typing…' : ''}</li>)}</ul>
 * }
 * ```
 * @param db the database
 */
export function usePresence<P extends object> (db: Database<P>): ReadonlyArray<PresencePeer<P>> {
  const source = useMemo(
    () => new LiveSource<ReadonlyArray<PresencePeer<P>>>(db.presence.peers(), (set) => db.presence.subscribe(set), Object.is),
    [db]
  )
  return useSyncExternalStore(source.subscribe, source.getSnapshot, source.getSnapshot)
}
