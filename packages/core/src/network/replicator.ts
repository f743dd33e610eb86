import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { CID } from 'multiformats/cid'
import type { UpdateEvent } from '../store-types.ts'
import { SyncError } from '../errors.ts'
import type { Envelope } from './envelope.ts'
import { GossipChannel } from './gossip.ts'
import type { KadmiumLibp2p } from './peer.ts'
import { SYNC_PROTOCOL } from './sync-messages.ts'
import { SyncRegistry } from './sync-registry.ts'
import { messages, readMessage, runSession, writeMessage } from './sync-session.ts'
import { DurableRecords, type DurableSource, type ReplicasOptions } from './durable.ts'
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
  readonly reason: string
  /** Where it came from: the live topic, a catch-up session, or the DHT. */
  readonly via: 'gossip' | 'sync' | 'dht'
  /** The peer that sent it, when known. */
  readonly peer?: string
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
  /** Options of the DHT record store (timeouts, concurrency, republishing). */
  readonly dht?: DhtStoreOptions
}

/** What the replicator reports to its database. */
export interface ReplicatorEvents {
  readonly onSync: (event: SyncEvent) => void
  readonly onRejected: (event: RejectedEvent) => void
}

/**
 * Replicates one database with the peers of a libp2p node: live updates
 * over gossipsub, catch-up sessions with every peer of the database that
 * connects (and periodically), discovery through DHT provider records.
 */
export class Replicator {
  readonly #libp2p: KadmiumLibp2p
  readonly #source: DurableSource
  readonly #events: ReplicatorEvents
  readonly #options: Required<Omit<ReplicationOptions, 'dht'>>
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
  #lastSync: Date | undefined
  #stopped = false
  readonly #onIdentify = (event: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => {
    const { peerId, protocols } = event.detail
    this.#strangers.delete(peerId.toString())
    if (protocols.includes(SYNC_PROTOCOL) && this.#leads(peerId)) this.sync(peerId).catch(() => {})
    // Writes parked while offline go to the DHT once catch-up had its turn.
    this.#resumeSoon()
  }

  constructor (libp2p: KadmiumLibp2p, source: DurableSource, events: ReplicatorEvents, options: ReplicationOptions = {}) {
    this.#libp2p = libp2p
    this.#source = source
    this.#events = events
    this.#options = {
      syncInterval: options.syncInterval ?? 30_000,
      discoveryInterval: options.discoveryInterval ?? 60_000,
      syncTimeout: options.syncTimeout ?? 30_000,
      dhtReadTimeout: options.dhtReadTimeout ?? 5_000,
      closeTimeout: options.closeTimeout ?? 5_000
    }
    this.#durable = new DurableRecords(libp2p.services.dht, source, () => libp2p.getConnections().length > 0, events.onRejected, options.dht)
    this.#registry = SyncRegistry.of(libp2p)
    this.#gossip = new GossipChannel(libp2p.services.pubsub, source.address, libp2p.peerId, {
      onEnvelope: (envelope) => { this.#receive(envelope) },
      onRejected: (reason, from) => { events.onRejected({ reason, via: 'gossip', peer: from.toString() }) },
      // Until a new peer's subscription reached us, our gossip could not reach
      // it: catch up once more now, so that nothing written meanwhile waits
      // for the periodic session.
      onJoin: (peer) => {
        if (this.#leads(peer)) this.sync(peer).catch(() => {})
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
    await this.#registry.register(this.#source.address, { serve: async (lp, peer) => this.#serve(lp, peer) })
    this.#libp2p.addEventListener('peer:identify', this.#onIdentify)
    for (const connection of this.#libp2p.getConnections()) {
      if (this.#leads(connection.remotePeer)) this.sync(connection.remotePeer).catch(() => {})
    }
    this.#durable.announce()
    this.#timers.push(setInterval(() => { this.#syncAll() }, this.#options.syncInterval))
    this.#timers.push(setInterval(() => { void this.discover() }, this.#options.discoveryInterval))
    void this.discover()
  }

  /** Sends a committed local update to the database's peers. */
  publish (update: UpdateEvent): void {
    if (this.#stopped) return
    this.#gossip.send({ collection: update.collection, target: update.target, ...(update.id !== undefined ? { id: update.id } : {}), update: update.update })
    this.#durable.schedule(update.collection, update.id ?? null)
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

  #receive (envelope: Envelope): void {
    void (async () => {
      let hinted = false
      for (const entry of envelope.entries) {
        if (entry.update === undefined) {
          hinted = true
          continue
        }
        try {
          await this.#source.apply({ collection: entry.collection, target: entry.target, ...(entry.id !== undefined ? { id: entry.id } : {}), update: entry.update })
        } catch (error) {
          this.#events.onRejected({ reason: `${(error as Error).name}: ${(error as Error).message}`, via: 'gossip', peer: envelope.from })
        }
      }
      // An update too large for gossip: fetch it from its sender.
      if (hinted && !this.#stopped) {
        try {
          await this.sync(peerIdFromString(envelope.from))
        } catch {}
      }
    })()
  }

  async #dialSession (peer: PeerId): Promise<void> {
    const key = peer.toString()
    let stream: Stream | undefined
    try {
      const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#options.syncTimeout)])
      stream = await retry(async () => this.#libp2p.dialProtocol(peer, SYNC_PROTOCOL, { signal }), signal)
      const lp = messages(stream)
      await writeMessage(lp, { t: 'h', v: 1, db: this.#source.address })
      const answer = await readMessage(lp, this.#options.syncTimeout)
      if (answer.t === 'e') {
        this.#strangers.add(key)
        await stream.close()
        return
      }
      if (answer.t !== 'o') throw new SyncError(`unexpected answer "${answer.t}" to hello`)
      await this.#session(lp, key)
      await stream.close()
    } catch (error) {
      stream?.abort(error instanceof Error ? error : new Error(String(error)))
      if (!this.#stopped) this.#events.onSync({ peer: key, phase: 'error', done: 0, total: 0, error: error as Error })
      throw error
    }
  }

  async #serve (lp: LengthPrefixedStream<Stream>, peer: PeerId): Promise<void> {
    this.#serving++
    try {
      await this.#session(lp, peer.toString())
    } catch (error) {
      if (!this.#stopped) this.#events.onSync({ peer: peer.toString(), phase: 'error', done: 0, total: 0, error: error as Error })
      throw error
    } finally {
      this.#serving--
    }
  }

  async #session (lp: LengthPrefixedStream<Stream>, peer: string): Promise<void> {
    this.#events.onSync({ peer, phase: 'start', done: 0, total: 0 })
    let last = { done: 0, total: 0 }
    const result = await runSession(lp, this.#source, {
      idleTimeout: this.#options.syncTimeout,
      onProgress: (done, total) => {
        last = { done, total }
        this.#events.onSync({ peer, phase: 'progress', done, total })
      },
      onRejected: (reason) => { this.#events.onRejected({ reason, via: 'sync', peer }) }
    })
    this.#lastSync = new Date()
    this.#events.onSync({ peer, phase: 'done', done: result.received, total: last.total })
  }
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
