/**
 * Replication of one database, attached to its {@link Replica} as a Yjs
 * provider attaches to a document: local updates go out over gossipsub
 * and into the DHT's put queue; remote ones come in from the live topic,
 * catch-up sessions and DHT reads. Discovery finds the database's peers.
 * @module
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { ReplicaSecurity } from '../access/replica-security.ts'
import { ACCESS_COLLECTION } from '../access/access-list.ts'
import { DurableRecords, type ReplicasOptions } from '../dht/durable-records.ts'
import type { DhtStoreOptions } from '../dht/dht-store.ts'
import type { KadmiumLibp2p } from '../peer/peer.ts'
import type { RejectedEvent, Replica, SyncEvent } from '../replica/replica.ts'
import type { UpdateEvent } from '../store/types.ts'
import { DEFAULT_APPLY_BUDGET_MS } from '../sync/apply-budget.ts'
import { CatchUp } from '../sync/catch-up.ts'
import { GossipChannel } from '../sync/gossip.ts'
import { LiveIntake } from '../sync/live-intake.ts'
import { OwedCatchUps } from '../sync/owed-catch-ups.ts'
import type { ManifestAnswer } from '../sync/manifest-request.ts'
import { SYNC_PROTOCOL } from '../sync/sync-messages.ts'
import { nextTask } from '../util/next-task.ts'
import { Discovery } from './discovery.ts'
import { periodicSessions } from './periodic-sessions.ts'

/** What `db.status.dht` ({@link DatabaseStatus.dht}) reports of a database's DHT records. */
export interface DhtStatus {
  /** Puts queued, running or waiting for a retry. */
  readonly waiting: number
  /** Puts parked: written while offline, or given up after their attempts (they run again once a peer connects). */
  readonly parked: number
  /** Records (and indexes) kept for republishing. */
  readonly republishing: number
  /** When the next republish is due. */
  readonly nextRepublish?: Date
}

/** Options of replication (`createDatabase({ peer, replication })`). */
export interface ReplicationOptions {
  /**
   * Catch up this often (ms) with a few connected peers of the database
   * (4 at most, at random among those this peer leads) and with every
   * connected peer not caught up with yet. @default 30000
   */
  readonly syncInterval?: number
  /** Look for peers of the database in the DHT this often (ms). @default 60000 */
  readonly discoveryInterval?: number
  /** Longest wait for a peer's next catch-up message (ms). @default 30000 */
  readonly syncTimeout?: number
  /** Longest wait for the DHT when a read misses locally (ms). @default 5000 */
  readonly dhtReadTimeout?: number
  /** Longest wait on close for queued DHT puts (ms); none while the routing table is empty (no put could end). @default 800 */
  readonly closeTimeout?: number
  /**
   * Time (ms) one author's live updates may take to apply per 10 s: the
   * time spent checking and applying them and updating the row, digest and
   * queries, not the wait for storage to commit. Beyond it, the author's
   * envelopes are dropped until the window ends (a `rejected` event with
   * `PeerThrottledError` says so; catch-up repairs). @default 3000
   */
  readonly applyBudget?: number
  /** Options of the DHT record store (timeouts, concurrency, republishing). */
  readonly dht?: DhtStoreOptions
}

/** What the replicator reports to its database. */
export interface ReplicatorEvents {
  readonly onSync: (event: SyncEvent) => void
  readonly onRejected: (event: RejectedEvent) => void
}

/** Envelopes in flight beyond which an owed catch-up waits for the backlog. */
const BACKLOG_ENVELOPES = 64
/** Longest wait of the first announce and discovery for the sessions started at open (ms). */
const DISCOVER_AFTER_MS = 3000

/**
 * Replicates one database with the peers of a libp2p node: live updates
 * over gossipsub, catch-up sessions with every peer of the database that
 * connects (and periodically), the DHT's put queue and reads, discovery
 * through DHT provider records.
 */
export class Replicator {
  readonly #libp2p: KadmiumLibp2p
  readonly #replica: Replica
  readonly #options: Required<Omit<ReplicationOptions, 'dht' | 'applyBudget'>>
  readonly #owed: OwedCatchUps
  readonly #durable: DurableRecords
  readonly #gossip: GossipChannel
  readonly #intake: LiveIntake
  readonly #catchUp: CatchUp
  readonly #discovery: Discovery
  readonly #timers: Array<ReturnType<typeof setInterval>> = []
  #detach: (() => void) | undefined
  #resumeTimer: ReturnType<typeof setTimeout> | undefined
  /** The first announce and discovery, waiting for the sessions started at open. */
  #discoverTimer: ReturnType<typeof setTimeout> | undefined
  #discovering = false
  #stopped = false
  /** Local writes published so far (a count). */
  #writes = 0
  /** Per peer: {@link #writes} when it connected (was identified). */
  readonly #writesAtConnect = new Map<string, number>()
  readonly #onDisconnect = (event: CustomEvent<PeerId>): void => {
    this.#writesAtConnect.delete(event.detail.toString())
  }
  readonly #onIdentify = (event: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => {
    const { peerId, protocols } = event.detail
    this.#writesAtConnect.set(peerId.toString(), this.#writes)
    this.#catchUp.met(peerId)
    if (protocols.includes(SYNC_PROTOCOL) && this.#leads(peerId)) this.sync(peerId).catch(() => {})
    // Writes parked while offline go to the DHT once catch-up had its turn.
    this.#resumeSoon()
  }

  constructor (libp2p: KadmiumLibp2p, replica: Replica, security: ReplicaSecurity, events: ReplicatorEvents, options: ReplicationOptions = {}) {
    this.#libp2p = libp2p
    this.#replica = replica
    this.#options = {
      syncInterval: options.syncInterval ?? 30_000,
      discoveryInterval: options.discoveryInterval ?? 60_000,
      syncTimeout: options.syncTimeout ?? 30_000,
      dhtReadTimeout: options.dhtReadTimeout ?? 5_000,
      closeTimeout: options.closeTimeout ?? 800
    }
    this.#catchUp = new CatchUp(libp2p, replica, security, {
      ...events,
      onSync: (event) => {
        events.onSync(event)
        // What a catch-up brought is not gossiped on: the database's other peers are caught up with it.
        if (event.phase === 'done' && event.done > 0) this.#passOn(event.peer)
      }
    }, this.#options.syncTimeout)
    this.#owed = new OwedCatchUps({
      // With a peer still connected (one that reconnects catches up anyway), after a session
      // already under way (it may have compared digests before the gap).
      sync: async (peer) => {
        const id = peerIdFromString(peer)
        const connected = (): boolean => this.#libp2p.getConnections(id).length > 0
        if (!connected()) return false
        await this.#catchUp.running(peer)
        if (!connected()) return false
        return await this.sync(id).then(() => true, () => false)
      },
      busy: () => this.#intake.applying > BACKLOG_ENVELOPES,
      waiting: (collection, id) => replica.waiting(collection, id)
    })
    this.#intake = new LiveIntake({
      replica,
      owed: this.#owed,
      sync: async (peer) => this.sync(peerIdFromString(peer)),
      onRejected: events.onRejected,
      budget: options.applyBudget ?? DEFAULT_APPLY_BUDGET_MS
    })
    this.#durable = new DurableRecords(libp2p.services.dht, replica, security, () => libp2p.getConnections().length > 0, events.onRejected, options.dht)
    this.#discovery = new Discovery(libp2p, replica.address)
    this.#gossip = new GossipChannel(libp2p.services.pubsub, replica.address, security, {
      onEnvelope: (envelope, via) => { this.#intake.receive(envelope, via.toString()) },
      onRejected: (reason, from) => { events.onRejected({ reason, via: 'gossip', peer: from.toString() }) },
      // Until a new peer's subscription reached us, our gossip could not reach
      // it: catch up once more now, so that nothing written meanwhile waits
      // for the periodic session. A side that wrote since the peer connected
      // does so itself, whichever side leads, after any session under way
      // with it (which may have compared states before that write).
      onJoin: (peer) => {
        const key = peer.toString()
        const wrote = this.#writes > (this.#writesAtConnect.get(key) ?? 0)
        if (wrote) this.#catchUp.idle(key).then(async () => this.sync(peer)).catch(() => {})
        else if (this.#leads(peer)) this.sync(peer).catch(() => {})
      },
      onDropped: (peer) => { this.#intake.droppedBy(peer.toString()) }
    })
  }

  /** When the last catch-up session ended well. */
  get lastSync (): Date | undefined {
    return this.#catchUp.lastSync
  }

  /** Connected peers subscribed to the database's topic. */
  get peers (): number {
    return this.#gossip.peers().length
  }

  /** DHT puts not yet done. */
  get pending (): number {
    return this.#durable.pending
  }

  /** The DHT's side: puts waiting, parked (offline or given up), records kept for republishing, and the next republish. */
  get dht (): DhtStatus {
    const queue = this.#durable.store.queue
    return { waiting: this.#durable.pending, parked: queue.parked, republishing: queue.republishing, ...(queue.nextRepublish !== undefined ? { nextRepublish: new Date(queue.nextRepublish) } : {}) }
  }

  /** Envelopes dropped unapplied (too many at once, or their author over its budget); catch-up repairs what they carried. */
  get dropped (): number {
    return this.#intake.dropped
  }

  /**
   * Puts a record (and its collection index) in the DHT now and resolves
   * once enough peers hold it.
   * @throws {DurabilityError} fewer peers acknowledged in time
   */
  async ensure (collection: string, id: string, options: ReplicasOptions): Promise<void> {
    await this.#durable.ensure(collection, id, options)
  }

  /** Looks a record up in the DHT (a read that missed locally); resolves whether it was found. */
  async fetch (collection: string, id: string): Promise<boolean> {
    if (this.#stopped || this.#libp2p.getConnections().length === 0) return false
    return this.#durable.fetch(collection, id, this.#options.dhtReadTimeout)
  }

  /** Fetches a collection from the DHT (its index, then the records this replica lacks); resolves how many records were found. */
  async fetchCollection (collection: string): Promise<number> {
    if (this.#stopped || this.#libp2p.getConnections().length === 0) return 0
    return this.#durable.fetchCollection(collection, this.#options.dhtReadTimeout)
  }

  /**
   * Attaches to the replica, joins the database's topic, serves and starts
   * catch-up, announces and looks for peers. `ridden`: the stream a peer
   * sent the manifest on (opening by address): the session with that
   * peer runs on it.
   */
  async start (ridden?: ManifestAnswer): Promise<void> {
    this.#detach = this.#replica.attach({ local: (update) => this.publish(update) })
    await this.#catchUp.start()
    const sessions: Array<Promise<void>> = []
    const started = (session: Promise<void>): void => { sessions.push(session.catch(() => {})) }
    if (ridden !== undefined) started(this.#catchUp.ride(ridden))
    this.#libp2p.addEventListener('peer:identify', this.#onIdentify)
    this.#libp2p.addEventListener('peer:disconnect', this.#onDisconnect)
    // A database just opened catches up with every peer already connected at once, whichever
    // peer leads (a database opened by address: the peer that gave the manifest): waiting
    // for it to see this side's subscription would cost a round trip. Sessions start before the
    // subscription goes out, so that the peer, seeing it, finds a session with this side under way.
    for (const connection of this.#libp2p.getConnections()) started(this.sync(connection.remotePeer))
    this.#gossip.start()
    this.#durable.startRepublishing()
    // A restricted database: who may write, from the DHT too (a writer just granted need not wait for a peer of the database).
    this.#durable.readAccess(this.#options.dhtReadTimeout).catch(() => {})
    this.#timers.push(setInterval(() => { this.#syncAll() }, this.#options.syncInterval))
    this.#timers.push(setInterval(() => { void this.discover() }, this.#options.discoveryInterval))
    // Announcing the database and looking for more of its peers (DHT queries, answered by the
    // peers just connected) go once the first sessions ended, or after DISCOVER_AFTER_MS at most:
    // they would compete with the sessions for the CPU on both sides.
    const discover = (): void => {
      clearTimeout(this.#discoverTimer)
      this.#discoverTimer = undefined
      if (this.#stopped || this.#discovering) return
      this.#discovering = true
      this.#durable.announce()
      void this.discover()
    }
    if (sessions.length === 0) return discover()
    this.#discoverTimer = setTimeout(discover, DISCOVER_AFTER_MS)
    void Promise.all(sessions).then(discover)
  }

  /** Sends a local update to the database's peers and queues its DHT put; returns whether a peer listens. */
  publish (update: UpdateEvent): boolean {
    if (this.#stopped) return false
    this.#writes++
    const heard = this.#gossip.send({ collection: update.collection, target: update.target, ...(update.id !== undefined ? { id: update.id } : {}), update: update.update })
    // (The access list goes to the DHT as one record that holds every operation.)
    if (this.#replica.durable(update.collection) || update.collection === ACCESS_COLLECTION) {
      const schedule = (): void => { this.#durable.schedule(update.collection, update.id ?? null, update.update) }
      // The put waits in the queue a moment anyway (`PUT_DELAY`): a peer listens, the send goes first (the writer's own wait for the send comes after this);
      // else the write goes to storage first.
      if (heard) void nextTask().then(schedule)
      else queueMicrotask(schedule)
    }
    return heard
  }

  /** Resolves once queued updates are published. */
  async flush (): Promise<void> {
    await this.#gossip.flush()
  }

  /**
   * Runs a catch-up session with a peer (one at a time per peer): both
   * sides end up with everything either had.
   */
  async sync (peer: PeerId): Promise<void> {
    if (this.#stopped) return
    return this.#catchUp.sync(peer)
  }

  /** Announces this node as a holder of the database in the DHT, and dials the other holders it finds. */
  async discover (): Promise<void> {
    return this.#discovery.discover()
  }

  /** Stops replicating: detaches, leaves the topic, stops serving, waits for running sessions. */
  async stop (): Promise<void> {
    if (this.#stopped) return
    await this.#gossip.flush()
    this.#stopped = true
    this.#detach?.()
    for (const timer of this.#timers) clearInterval(timer)
    this.#owed.stop()
    this.#intake.stop()
    clearTimeout(this.#resumeTimer)
    clearTimeout(this.#discoverTimer)
    this.#libp2p.removeEventListener('peer:identify', this.#onIdentify)
    this.#libp2p.removeEventListener('peer:disconnect', this.#onDisconnect)
    this.#writesAtConnect.clear()
    const discovery = this.#discovery.stop()
    await this.#catchUp.stop()
    await this.#gossip.stop()
    await this.#durable.stop(this.#options.closeTimeout)
    await this.#catchUp.settled()
    await discovery
  }

  /** Resumes parked DHT puts in a moment, when no catch-up session runs (they would compete for the CPU). */
  #resumeSoon (): void {
    if (this.#resumeTimer !== undefined || this.#stopped) return
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = undefined
      if (this.#catchUp.busy) this.#resumeSoon()
      else this.#durable.resume()
    }, 1000)
  }

  /** Owes a catch-up to every peer of the database but `from`, which a catch-up just brought updates. */
  #passOn (from: string): void {
    for (const peer of this.#gossip.peers()) {
      const key = peer.toString()
      if (key !== from) this.#owed.learned(key)
    }
  }

    /** On connect, the peer with the lower id dials, so that one session runs per pair. */
  #leads (peer: PeerId): boolean {
    return this.#libp2p.peerId.toString() < peer.toString()
  }

  /**
   * The periodic catch-up: with every connected peer it never caught up
   * with yet (its own session, or the leader's, may have failed, and the
   * leader may run none: a peer whose subscription was missed never
   * triggers one), and with a few of the others this side leads, at
   * random (see `periodic-sessions.ts`). A peer that does not hold the database says so
   * once, and is not asked again until it reconnects.
   */
  #syncAll (): void {
    const peers = this.#libp2p.getConnections().map(({ remotePeer: peer }) => ({ peer, key: peer.toString(), synced: this.#catchUp.hasSynced(peer), leads: this.#leads(peer) }))
    for (const peer of periodicSessions(peers)) this.sync(peer).catch(() => {})
  }
}
