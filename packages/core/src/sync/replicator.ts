import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { CID } from 'multiformats/cid'
import type { UpdateEvent } from '../store/types.ts'
import { DecryptionError, KadmiumError, PeerThrottledError, SyncError } from '../errors.ts'
import { APPLY_WINDOW_MS, ApplyBudget, ApplyMeter, DEFAULT_APPLY_BUDGET_MS } from './apply-budget.ts'
import { OwedCatchUps } from './owed-catch-ups.ts'
import type { ReplicaSecurity } from '../access/replica-security.ts'
import { signedBytes } from '../access/identity.ts'
import { nextTask } from '../util/next-task.ts'
import { ACCESS_COLLECTION } from '../access/access-list.ts'
import type { Envelope } from './envelope.ts'
import { GossipChannel } from './gossip.ts'
import type { KadmiumLibp2p } from '../peer/peer.ts'
import { SESSION_NONCE_BYTES, SYNC_PROTOCOL } from './sync-messages.ts'
import { SyncRegistry, type Hello } from './sync-registry.ts'
import { messages, readMessage, runSession, writeMessage } from './sync-session.ts'
import { DurableRecords, type DurableSource, type ReplicasOptions } from '../dht/durable-records.ts'
import type { DhtStoreOptions } from '../dht/dht-store.ts'

/** Progress of a catch-up session with one peer. */
export interface SyncEvent {
  /** The peer, as a string peer id. */
  readonly peer: string
  readonly phase: 'start' | 'progress' | 'done' | 'error'
  /** Updates from the peer applied so far. */
  readonly done: number
  /** Updates the peer announced. */
  readonly total: number
  /** Why the session failed, for `phase: 'error'`. */
  readonly error?: Error
}

/** Input from the network that was refused (and changed nothing). */
export interface RejectedEvent {
  /** `ErrorName: message` of why. */
  readonly reason: string
  /**
   * Where it came from: the live topic, a catch-up session, or the DHT — input
   * refused, nothing changed — or `schema`: a peer's change was merged (the
   * CRDT keeps replicas converging) but left the record failing its
   * collection's schema, so reads skip it (see `collection.invalid()`).
   */
  readonly via: 'gossip' | 'sync' | 'dht' | 'schema'
  /** The peer that sent it, when known. */
  readonly peer?: string
  /** The collection concerned, when known. */
  readonly collection?: string
  /** The record concerned, when known. */
  readonly id?: string
}

/** Options of replication (`createDatabase({ peer, replication })`). */
export interface ReplicationOptions {
  /** Catch up with every connected peer of the database this often (ms). @default 30000 */
  readonly syncInterval?: number
  /** Look for peers of the database in the DHT this often (ms). @default 60000 */
  readonly discoveryInterval?: number
  /** Longest wait for a peer's next catch-up message (ms). @default 30000 */
  readonly syncTimeout?: number
  /** Longest wait for the DHT when a read misses locally (ms). @default 5000 */
  readonly dhtReadTimeout?: number
  /** Longest wait on close for queued DHT puts (ms). @default 5000 */
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

/** Envelopes applied at once at most; more are dropped. */
const MAX_APPLYING_ENVELOPES = 1024
/** Envelopes in flight beyond which an owed catch-up waits for the backlog. */
const BACKLOG_ENVELOPES = 64

/**
 * Replicates one database with the peers of a libp2p node: live updates
 * over gossipsub, catch-up sessions with every peer of the database that
 * connects (and periodically), discovery through DHT provider records.
 */
export class Replicator {
  readonly #libp2p: KadmiumLibp2p
  readonly #source: DurableSource
  readonly #events: ReplicatorEvents
  readonly #security: ReplicaSecurity
  readonly #options: Required<Omit<ReplicationOptions, 'dht' | 'applyBudget'>>
  readonly #budget: ApplyBudget
  readonly #owed: OwedCatchUps
  readonly #durable: DurableRecords
  readonly #gossip: GossipChannel
  readonly #registry: SyncRegistry
  readonly #sessions = new Map<string, Promise<void>>()
  /** Peers that answered that they do not hold this database (until they reconnect). */
  readonly #strangers = new Set<string>()
  readonly #timers: Array<ReturnType<typeof setInterval>> = []
  readonly #abort = new AbortController()
  #discovering: Promise<void> | undefined
  #resumeTimer: ReturnType<typeof setTimeout> | undefined
  /** Sessions served (dialed by the peer) now. */
  #serving = 0
  /** Envelopes being applied now, and dropped so far. */
  #applying = 0
  #dropped = 0
  #lastSync: Date | undefined
  #stopped = false
  readonly #onIdentify = (event: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => {
    const { peerId, protocols } = event.detail
    this.#strangers.delete(peerId.toString())
    if (protocols.includes(SYNC_PROTOCOL) && this.#leads(peerId)) this.sync(peerId).catch(() => {})
    // Writes parked while offline go to the DHT once catch-up had its turn.
    this.#resumeSoon()
  }

  constructor (libp2p: KadmiumLibp2p, source: DurableSource, security: ReplicaSecurity, events: ReplicatorEvents, options: ReplicationOptions = {}) {
    this.#libp2p = libp2p
    this.#source = source
    this.#security = security
    this.#events = events
    this.#options = {
      syncInterval: options.syncInterval ?? 30_000,
      discoveryInterval: options.discoveryInterval ?? 60_000,
      syncTimeout: options.syncTimeout ?? 30_000,
      dhtReadTimeout: options.dhtReadTimeout ?? 5_000,
      closeTimeout: options.closeTimeout ?? 5_000
    }
    this.#budget = new ApplyBudget(options.applyBudget ?? DEFAULT_APPLY_BUDGET_MS)
    this.#owed = new OwedCatchUps({
      // With a peer still connected (one that reconnects catches up anyway), after a session
      // already under way (it may have compared digests before the gap).
      sync: async (peer) => {
        const id = peerIdFromString(peer)
        const connected = (): boolean => this.#libp2p.getConnections(id).length > 0
        if (!connected()) return false
        await this.#sessions.get(peer)?.catch(() => {})
        if (!connected()) return false
        return await this.sync(id).then(() => true, () => false)
      },
      busy: () => this.#applying > BACKLOG_ENVELOPES,
      waiting: (collection, id) => source.waiting(collection, id)
    })
    this.#durable = new DurableRecords(libp2p.services.dht, source, security, () => libp2p.getConnections().length > 0, events.onRejected, options.dht)
    this.#registry = SyncRegistry.of(libp2p)
    this.#gossip = new GossipChannel(libp2p.services.pubsub, source.address, security, {
      onEnvelope: (envelope, via) => { this.#receive(envelope, via.toString()) },
      onRejected: (reason, from) => { events.onRejected({ reason, via: 'gossip', peer: from.toString() }) },
      // Until a new peer's subscription reached us, our gossip could not reach
      // it: catch up once more now, so that nothing written meanwhile waits
      // for the periodic session.
      onJoin: (peer) => {
        if (this.#leads(peer)) this.sync(peer).catch(() => {})
      },
      onDropped: (peer) => {
        this.#dropped++
        this.#owed.dropped(peer.toString())
      }
    })
  }

  /** When the last catch-up session ended well. */
  get lastSync (): Date | undefined {
    return this.#lastSync
  }

  /** Connected peers subscribed to the database's topic. */
  get peers (): number {
    return this.#gossip.peers().length
  }

  /** DHT puts not yet done. */
  get pending (): number {
    return this.#durable.pending
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

  /** Joins the database's topic, serves and starts catch-up, announces and looks for peers. */
  async start (): Promise<void> {
    this.#gossip.start()
    await this.#registry.register(this.#source.address, { serve: async (lp, peer, hello) => this.#serve(lp, peer, hello) })
    this.#libp2p.addEventListener('peer:identify', this.#onIdentify)
    for (const connection of this.#libp2p.getConnections()) {
      if (this.#leads(connection.remotePeer)) this.sync(connection.remotePeer).catch(() => {})
    }
    this.#durable.announce()
    this.#timers.push(setInterval(() => { this.#syncAll() }, this.#options.syncInterval))
    this.#timers.push(setInterval(() => { void this.discover() }, this.#options.discoveryInterval))
    void this.discover()
  }

  /** Sends a committed local update to the database's peers; returns whether a peer listens. */
  publish (update: UpdateEvent): boolean {
    if (this.#stopped) return false
    const heard = this.#gossip.send({ collection: update.collection, target: update.target, ...(update.id !== undefined ? { id: update.id } : {}), update: update.update })
    // The access list travels by gossip and catch-up only (its operations are not Yjs states).
    if (update.collection !== ACCESS_COLLECTION) {
      const schedule = (): void => { this.#durable.schedule(update.collection, update.id ?? null, update.update) }
      // The put waits 100 ms anyway: a peer listens, the send goes first (the writer's own wait for the send comes after this);
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
    const key = peer.toString()
    const running = this.#sessions.get(key)
    if (running !== undefined) return running
    if (this.#stopped || this.#strangers.has(key)) return
    const session = this.#dialSession(peer).finally(() => this.#sessions.delete(key))
    this.#sessions.set(key, session)
    return session
  }

  /** Announces this node as a holder of the database in the DHT, and dials the other holders it finds. */
  async discover (): Promise<void> {
    this.#discovering ??= (async () => {
      const dht = this.#libp2p.services.dht
      const cid = CID.parse(this.#source.address)
      const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(30_000)])
      try {
        for await (const _ of dht.provide(cid, { signal })) { /* drain */ }
      } catch {}
      try {
        for await (const event of dht.findProviders(cid, { signal })) {
          if (event.name !== 'PROVIDER') continue
          for (const provider of event.providers) {
            if (provider.id.equals(this.#libp2p.peerId) || this.#libp2p.getConnections(provider.id).length > 0) continue
            try {
              if (provider.multiaddrs.length > 0) await this.#libp2p.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
              await retry(async () => this.#libp2p.dial(provider.id, { signal }), signal)
            } catch {}
          }
        }
      } catch {}
    })().finally(() => { this.#discovering = undefined })
    return this.#discovering
  }

  /** Stops replicating: leaves the topic, stops serving, waits for running sessions. */
  async stop (): Promise<void> {
    if (this.#stopped) return
    await this.#gossip.flush()
    this.#stopped = true
    for (const timer of this.#timers) clearInterval(timer)
    this.#owed.stop()
    clearTimeout(this.#resumeTimer)
    this.#abort.abort()
    this.#libp2p.removeEventListener('peer:identify', this.#onIdentify)
    await this.#registry.unregister(this.#source.address)
    await this.#gossip.stop()
    await this.#durable.stop(this.#options.closeTimeout)
    await Promise.allSettled([...this.#sessions.values()])
    await this.#discovering?.catch(() => {})
  }

  /** Resumes parked DHT puts in a moment, when no catch-up session runs (they would compete for the CPU). */
  #resumeSoon (): void {
    if (this.#resumeTimer !== undefined || this.#stopped) return
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = undefined
      if (this.#sessions.size > 0 || this.#serving > 0) this.#resumeSoon()
      else this.#durable.resume()
    }, 1000)
  }

  /** On connect, the peer with the lower id dials, so that one session runs per pair. */
  #leads (peer: PeerId): boolean {
    return this.#libp2p.peerId.toString() < peer.toString()
  }

  #syncAll (): void {
    for (const connection of this.#libp2p.getConnections()) {
      if (this.#leads(connection.remotePeer)) this.sync(connection.remotePeer).catch(() => {})
    }
  }

  /** Applies an envelope from neighbour `via` (its author, or a peer that forwarded it: what it lacks, `via` had). */
  #receive (envelope: Envelope, via: string): void {
    // A flood: envelopes beyond the bound are dropped, so memory stays bounded; a catch-up with `via` follows.
    if (this.#applying >= MAX_APPLYING_ENVELOPES) {
      this.#dropped++
      this.#owed.dropped(via)
      return
    }
    // An author whose updates took too much of this peer's time lately: dropped for now.
    if (this.#budget.exhausted(envelope.from)) {
      this.#dropped++
      if (this.#budget.shouldReport(envelope.from)) {
        const error = new PeerThrottledError(`updates from "${envelope.from}" took over their share of apply time; dropped for a while`)
        this.#events.onRejected({ reason: `${error.name}: ${error.message}`, via: 'gossip', peer: envelope.from })
        // Once the window is over, catch up with the neighbour for what was dropped.
        const timer = setTimeout(() => {
          this.#timers.splice(this.#timers.indexOf(timer), 1)
          this.#owed.dropped(via)
        }, APPLY_WINDOW_MS)
        this.#timers.push(timer)
      }
      return
    }
    this.#applying++
    void (async () => {
      let hinted = false
      // What applying the envelope computes counts against its author; waiting for storage does not.
      const meter = new ApplyMeter()
      for (const entry of envelope.entries) {
        if (entry.update === undefined) {
          hinted = true
          continue
        }
        try {
          await this.#source.apply({ collection: entry.collection, target: entry.target, ...(entry.id !== undefined ? { id: entry.id } : {}), update: entry.update }, meter)
        } catch (error) {
          meter.stop()
          this.#events.onRejected({ reason: `${(error as Error).name}: ${(error as Error).message}`, via: 'gossip', peer: envelope.from })
        }
      }
      this.#budget.charge(envelope.from, meter.ms)
      if (!this.#stopped) this.#owed.gaps(via, meter.gaps)
      // An update too large for gossip: fetch it from its sender.
      if (hinted && !this.#stopped) {
        try {
          await this.sync(peerIdFromString(envelope.from))
        } catch {}
      }
    })().finally(() => { this.#applying-- })
  }

  /** Envelopes dropped unapplied (too many at once, or their author over its budget); catch-up repairs what they carried. */
  get dropped (): number {
    return this.#dropped
  }

  async #dialSession (peer: PeerId): Promise<void> {
    const key = peer.toString()
    let stream: Stream | undefined
    try {
      const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#options.syncTimeout)])
      stream = await retry(async () => this.#libp2p.dialProtocol(peer, SYNC_PROTOCOL, { signal }), signal)
      const lp = messages(stream)
      const mine = nonce()
      await writeMessage(lp, { t: 'h', v: 2, db: this.#source.address, n: mine, ...await this.#proof(this.#libp2p.peerId, peer) })
      const answer = await readMessage(lp, this.#options.syncTimeout)
      if (answer.t === 'e') {
        this.#strangers.add(key)
        await stream.close()
        return
      }
      if (answer.t !== 'o') throw new SyncError(`unexpected answer "${answer.t}" to hello`)
      await this.#checkProof(answer.p, peer, this.#libp2p.peerId)
      await this.#session(lp, peer, mine, answer.n)
      await stream.close()
    } catch (error) {
      stream?.abort(error instanceof Error ? error : new Error(String(error)))
      this.#failed(key, error)
      throw error
    }
  }

  async #serve (lp: LengthPrefixedStream<Stream>, peer: PeerId, hello: Hello): Promise<void> {
    this.#serving++
    try {
      try {
        await this.#checkProof(hello.p, peer, this.#libp2p.peerId)
      } catch (error) {
        await writeMessage(lp, { t: 'e', reason: 'the key proof does not open' })
        throw error
      }
      const mine = nonce()
      await writeMessage(lp, { t: 'o', n: mine, ...await this.#proof(this.#libp2p.peerId, peer) })
      await this.#session(lp, peer, mine, hello.n)
    } catch (error) {
      this.#failed(peer.toString(), error)
      throw error
    } finally {
      this.#serving--
    }
  }

  /**
   * A session broke off: a `sync` error event, and — when the peer sent
   * something refused (malformed, badly signed, too much, or nothing in
   * time) — a `rejected` event naming why.
   */
  #failed (peer: string, error: unknown): void {
    if (this.#stopped) return
    const e = error instanceof Error ? error : new Error(String(error))
    this.#events.onSync({ peer, phase: 'error', done: 0, total: 0, error: e })
    if (e instanceof KadmiumError) this.#events.onRejected({ reason: `${e.name}: ${e.message}`, via: 'sync', peer })
  }

  /**
   * In an encrypted database each side of a session proves it holds the
   * key: it seals nothing, bound to the database and both peer ids (which
   * the connection authenticates), and the other side opens it.
   */
  async #proof (from: PeerId, to: PeerId): Promise<{ p?: Uint8Array }> {
    const sealer = this.#security.sealer
    if (sealer === undefined) return {}
    return { p: await sealer.seal(new Uint8Array(0), this.#proofContext(from, to)) }
  }

  /** @throws {DecryptionError} the peer did not prove it holds the key */
  async #checkProof (proof: Uint8Array | undefined, from: PeerId, to: PeerId): Promise<void> {
    const sealer = this.#security.sealer
    if (sealer === undefined) return
    if (proof === undefined) throw new DecryptionError('the peer sent no key proof for an encrypted database')
    try {
      await sealer.open(proof, this.#proofContext(from, to))
    } catch (cause) {
      throw new DecryptionError('a catch-up peer does not hold the database key', { cause })
    }
  }

  #proofContext (from: PeerId, to: PeerId): Uint8Array {
    const encoder = new TextEncoder()
    return signedBytes('kadmium/sync-proof', encoder.encode(this.#source.address), encoder.encode(from.toString()), encoder.encode(to.toString()))
  }

  async #session (lp: LengthPrefixedStream<Stream>, peer: PeerId, mine: Uint8Array, theirs: Uint8Array): Promise<void> {
    const key = peer.toString()
    if (peer.publicKey?.type !== 'Ed25519') throw new SyncError('catch-up peers have Ed25519 keys')
    this.#events.onSync({ peer: key, phase: 'start', done: 0, total: 0 })
    let last = { done: 0, total: 0 }
    const security = {
      address: this.#source.address,
      signer: this.#security.signer,
      peerKey: peer.publicKey.raw,
      mine,
      theirs,
      access: this.#security.access
    }
    const result = await runSession(lp, this.#source, security, {
      idleTimeout: this.#options.syncTimeout,
      onProgress: (done, total) => {
        last = { done, total }
        this.#events.onSync({ peer: key, phase: 'progress', done, total })
      },
      onRejected: (reason) => { this.#events.onRejected({ reason, via: 'sync', peer: key }) }
    })
    this.#lastSync = new Date()
    this.#events.onSync({ peer: key, phase: 'done', done: result.received, total: last.total })
  }
}

function nonce (): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SESSION_NONCE_BYTES))
}

/**
 * Runs a dial up to 3 times with a short backoff: simultaneous dials
 * between two peers sometimes fail (EncryptionFailedError) and succeed
 * when tried again.
 */
async function retry<T> (dial: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dial()
    } catch (error) {
      if (attempt >= 3 || signal.aborted) throw error
      await new Promise<void>((resolve) => setTimeout(() => { resolve() }, 50 * attempt + Math.random() * 50))
    }
  }
}
