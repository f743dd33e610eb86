/**
 * Several tabs of one origin, one database. Every tab opens the database
 * on the same IndexedDB database (core's `sharedStorage`: compactions take
 * turns under a Web Lock and fold in what the other tabs stored), stores
 * its own writes itself, and posts each update it stored on a
 * `BroadcastChannel`; the other tabs apply it as they apply a peer's, so
 * their queries and live queries show it at once, network or not. One tab
 * leads: it holds a Web Lock for as long as it keeps the database open,
 * and it alone runs the network (its peer replicates what every tab
 * writes, and what it receives reaches the others through the channel).
 * When it closes, the browser grants the lock to the next tab, which
 * starts a peer of its own. No write waits on another tab, so none is
 * lost when one closes.
 * @module
 */
import {
  createDatabase,
  InvalidArgumentError,
  TypedEmitter,
  type Database,
  type DatabaseOptions,
  type Peer,
  type RemoteUpdate,
  type StorageAdapter,
  type Unsubscribe
} from '@kadmium/core'
import { indexedDbStorage } from './indexeddb-storage.ts'
import { TabChannel } from './tabs-channel.ts'
import { LeaderPeerError, TabMessageError, TabsUnsupportedError } from './tabs-errors.ts'
import { Leadership, webLockExclusive } from './tabs-lock.ts'

/** Options of {@link shareAcrossTabs}: those of core's `createDatabase`, but for the peer, storage and address. */
export interface TabsOptions extends Omit<DatabaseOptions, 'name' | 'address' | 'openTimeout' | 'peer' | 'storage' | 'sharedStorage'> {
  /** The database's name: the tabs of an origin that open this name share one database. */
  readonly name: string
  /**
   * Makes the peer the database replicates through (`() => browserPeer(...)`),
   * called in the tab that leads, once it starts leading; that tab closes
   * the peer when it closes. @default none: the database stays on this device
   */
  readonly peer?: () => Promise<Peer>
  /**
   * Opens this tab's handle on the database's storage, the same in every tab.
   * @default `indexedDbStorage(name)`
   */
  readonly storage?: (name: string) => StorageAdapter
}

/** Whether a tab runs the network for the others (`leader`) or leaves it to another (`follower`). */
export type TabRole = 'leader' | 'follower'

/** The events of a {@link SharedDatabase}. */
export interface TabsEvents {
  /**
   * This tab took over from a tab that closed: it leads now, and runs the
   * network (`peer`, also `db.peer`; `undefined` without the `peer` option,
   * or if it failed to start: an `error` event comes first).
   */
  leader: {
    /** The peer this tab runs now, if any. */
    readonly peer: Peer | undefined
  }
  /**
   * Work in the background failed: `LeaderPeerError` (taking over, the
   * peer did not start) or `TabMessageError` (an update from another tab
   * was not applied).
   */
  error: Error
}

/** A database this tab shares with the other tabs of its origin: see {@link shareAcrossTabs}. */
export interface SharedDatabase {
  /**
   * The database, open in this tab; use it as any other, but close it with
   * {@link SharedDatabase.close}: closed alone, it leaves this tab holding
   * the lead until the next update from another tab arrives.
   */
  readonly db: Database
  /** Whether this tab leads (holds the lock, runs the network) or follows another tab. */
  readonly role: TabRole
  /** Listens to the sharing's events. */
  on<K extends keyof TabsEvents> (type: K, listener: (detail: TabsEvents[K]) => void): Unsubscribe
  /**
   * Closes the database (writes under way finish, and reach the other
   * tabs), then this tab's peer if it leads, then lets the lock go: another
   * tab takes over.
   */
  close (): Promise<void>
}

/** The names, per database name, of the channel and Web Locks the tabs share a database through. */
export interface TabNames {
  /** The `BroadcastChannel`. */
  readonly channel: string
  /** The Web Lock the leading tab holds. */
  readonly leader: string
  /** The Web Lock of exclusive work on the storage (compactions). */
  readonly compaction: string
}

/** The channel and Web Lock names of database `name` (`kadmium/<name>`, `kadmium/<name>/leader`, `kadmium/<name>/compaction`). */
export function tabNames (name: string): TabNames {
  const base = `kadmium/${name}`
  return { channel: base, leader: `${base}/leader`, compaction: `${base}/compaction` }
}

/**
 * Opens a database that the tabs of this origin share: every tab that
 * opens the same name works on one store (IndexedDB), sees the others'
 * writes at once (live queries update), also with the network down; one
 * tab at a time leads and runs the network for all (`options.peer`). The
 * first tab to open leads; when it closes, another takes over (a `leader`
 * event there) without a write lost: every tab stores its own.
 *
 * Through the `BroadcastChannel` and Web Locks of {@link tabNames}. Tabs
 * that follow have no peer of their own: their `db.status` shows no
 * network, and writes with `durability: { replicas }` are refused there.
 *
 * @example
 * ```ts
 * import { shareAcrossTabs, browserPeer } from '@kadmium/browser'
 *
 * const shared = await shareAcrossTabs({ name: 'acme-todos', peer: async () => browserPeer({ bootstrap }) })
 * const todos = shared.db.collection('todos', { schema: Todo })
 * shared.on('leader', () => { console.log('this tab syncs for all now') })
 * ```
 * @throws {TabsUnsupportedError} the page has no `BroadcastChannel` or Web Locks
 * @throws {InvalidArgumentError} bad options (and what `createDatabase` throws)
 * @throws {LeaderPeerError} this tab leads, and its peer did not start (nothing stays open)
 */
export async function shareAcrossTabs (options: TabsOptions): Promise<SharedDatabase> {
  if (typeof BroadcastChannel !== 'function' || typeof navigator === 'undefined' || navigator.locks === undefined) {
    throw new TabsUnsupportedError('sharing a database across tabs needs BroadcastChannel and Web Locks (navigator.locks: secure contexts only)')
  }
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('shareAcrossTabs takes { name }')
  const { name, peer, storage, ...rest } = options
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('"name" must be a non-empty string')
  if (peer !== undefined && typeof peer !== 'function') throw new InvalidArgumentError('"peer" must be a function that makes the peer (() => browserPeer())')
  if (storage !== undefined && typeof storage !== 'function') throw new InvalidArgumentError('"storage" must be a function of the database name that opens its storage')
  if ('address' in rest || 'sharedStorage' in rest) throw new InvalidArgumentError('tabs share a database opened by name ("address" and "sharedStorage" are not options here)')
  const names = tabNames(name)
  // Listening before the database reads storage: whatever another tab stores later, this one hears of.
  const channel = new TabChannel(names.channel)
  let db: Database
  try {
    db = await createDatabase({ ...rest, name, storage: (storage ?? indexedDbStorage)(name), sharedStorage: webLockExclusive(names.compaction) })
  } catch (error) {
    channel.close()
    throw error
  }
  const shared = new TabShare(db, channel, new Leadership(names.leader), peer)
  try {
    await shared.start()
  } catch (error) {
    await shared.close().catch(() => {})
    throw error
  }
  return shared
}

class TabShare implements SharedDatabase {
  readonly db: Database
  readonly #channel: TabChannel
  readonly #leadership: Leadership
  readonly #makePeer: (() => Promise<Peer>) | undefined
  readonly #events = new TypedEmitter<TabsEvents>()
  /** Updates applied from other tabs: they came from there, and are not sent on. */
  readonly #fromTabs = new WeakSet<Uint8Array>()
  #peer: Peer | undefined
  /** Taking over: the peer starting. */
  #starting: Promise<void> | undefined
  #offUpdate: Unsubscribe | undefined
  #closed: Promise<void> | undefined

  constructor (db: Database, channel: TabChannel, leadership: Leadership, makePeer: (() => Promise<Peer>) | undefined) {
    this.db = db
    this.#channel = channel
    this.#leadership = leadership
    this.#makePeer = makePeer
  }

  get role (): TabRole {
    return this.#leadership.leads ? 'leader' : 'follower'
  }

  on<K extends keyof TabsEvents> (type: K, listener: (detail: TabsEvents[K]) => void): Unsubscribe {
    return this.#events.on(type, listener)
  }

  /** Sends this tab's stored updates, applies the others', and leads if no tab does (its peer started). */
  async start (): Promise<void> {
    const { db } = this
    this.#offUpdate = db.on('update', (stored) => {
      if (!this.#fromTabs.has(stored.update)) this.#channel.post(db.address, stored)
    })
    this.#channel.start({
      address: db.address,
      update: (update) => { this.#apply(update) },
      malformed: (error) => { this.#events.emit('error', error) }
    })
    if (await this.#leadership.claim(() => { this.#takeOver() })) await this.#startPeer()
  }

  close (): Promise<void> {
    this.#closed ??= (async () => {
      this.#channel.stop()
      await this.#starting
      try {
        // (Writes under way finish first: their updates still reach the other tabs.)
        await this.db.close()
        await this.#peer?.close()
      } finally {
        this.#offUpdate?.()
        this.#channel.close()
        this.#leadership.release()
      }
    })()
    return this.#closed
  }

  #apply (update: RemoteUpdate): void {
    if (!this.db.status.open) {
      // The database was closed directly: the sharing ends with it.
      this.close().catch(() => {})
      return
    }
    this.#fromTabs.add(update.update)
    // The leader hands it to its peers too: the tab that wrote it has no network.
    this.db.applyRemoteUpdate(update, { publish: this.#leadership.leads }).catch((cause: unknown) => {
      if (this.#closed !== undefined || !this.db.status.open) return
      this.#events.emit('error', new TabMessageError(`an update from another tab was not applied: ${String(cause)}`, { cause }))
    })
  }

  #takeOver (): void {
    if (this.#closed !== undefined) return
    this.#starting = this.#startPeer().then(() => {
      if (this.#closed === undefined) this.#events.emit('leader', { peer: this.#peer })
    }, (error: unknown) => {
      if (this.#closed !== undefined) return
      this.#events.emit('error', error as Error)
      this.#events.emit('leader', { peer: undefined })
    })
  }

  /** Starts the peer (if the options make one) and replication through it. */
  async #startPeer (): Promise<void> {
    if (this.#makePeer === undefined) return
    let peer: Peer | undefined
    try {
      peer = await this.#makePeer()
      await this.db.replicate(peer)
      this.#peer = peer
    } catch (cause) {
      await peer?.close().catch(() => {})
      throw new LeaderPeerError(`this tab leads, but its peer did not start: ${String(cause)}`, { cause })
    }
  }
}
