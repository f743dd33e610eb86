/**
 * Catch-up sessions of one database with the peers of a libp2p node: the
 * dialer's hello (and, in an encrypted database, each side's proof that it
 * holds the key), then the symmetric session of `sync-session.ts`. One
 * session runs per peer at a time; peers that answer that they do not hold
 * the database are left alone until they reconnect.
 * @module
 */
import type { PeerId, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { DecryptionError, KadmiumError, SyncError } from '../errors.ts'
import type { ReplicaSecurity } from '../access/replica-security.ts'
import { signedBytes } from '../access/identity.ts'
import type { KadmiumLibp2p } from '../peer/peer.ts'
import type { RejectedEvent, Replica, SyncEvent } from '../replica/replica.ts'
import { bytesEqual } from '../util/hash.ts'
import { retry } from '../util/retry.ts'
import type { ManifestAnswer } from './manifest-request.ts'
import { SESSION_NONCE_BYTES, SYNC_PROTOCOL } from './sync-messages.ts'
import { SyncRegistry, type Hello } from './sync-registry.ts'
import { replicaSummary } from './replica-summary.ts'
import { messages, readMessage, runSession, writeMessage } from './sync-session.ts'

/**
 * The answer to a hello while the two peers' sessions cross: each side
 * dialed the other. The side whose id sorts first keeps the session it
 * dialed and answers the other's hello with this; the other side then
 * waits for the session it serves.
 */
const CROSSED = 'a session is under way the other way'

/** What catch-up reports. */
export interface CatchUpEvents {
  readonly onSync: (event: SyncEvent) => void
  readonly onRejected: (event: RejectedEvent) => void
}

/** Runs and serves one database's catch-up sessions. */
export class CatchUp {
  readonly #libp2p: KadmiumLibp2p
  readonly #replica: Replica
  readonly #security: ReplicaSecurity
  readonly #events: CatchUpEvents
  /** Longest wait for a peer's next message (ms). */
  readonly #timeout: number
  readonly #registry: SyncRegistry
  readonly #sessions = new Map<string, Promise<void>>()
  /** Peers that answered that they do not hold this database (until they reconnect). */
  readonly #strangers = new Set<string>()
  readonly #abort = new AbortController()
  /** Peers whose hello this side answered "crossed" while its own hello to them was under way. */
  readonly #crossed = new Set<string>()
  /** Sessions served (dialed by the peer) now, by peer. */
  readonly #served = new Map<string, Promise<void>>()
  #lastSync: Date | undefined
  /** Peers a session with ended well, either way. */
  readonly #synced = new Set<string>()
  #stopped = false

  constructor (libp2p: KadmiumLibp2p, replica: Replica, security: ReplicaSecurity, events: CatchUpEvents, timeout: number) {
    this.#libp2p = libp2p
    this.#replica = replica
    this.#security = security
    this.#events = events
    this.#timeout = timeout
    this.#registry = SyncRegistry.of(libp2p)
  }

  /** When the last session ended well. */
  get lastSync (): Date | undefined {
    return this.#lastSync
  }

  /** Whether a session with `peer` ended well (dialed or served) since this database opened. */
  hasSynced (peer: PeerId): boolean {
    return this.#synced.has(peer.toString())
  }

  /** Whether a session runs now, dialed or served. */
  get busy (): boolean {
    return this.#sessions.size > 0 || this.#served.size > 0
  }

  /** Serves the database's sessions. */
  async start (): Promise<void> {
    await this.#registry.register(this.#replica.address, { manifest: this.#replica.manifest, serve: async (lp, peer, hello) => this.#serve(lp, peer, hello) })
  }

  /** A peer (re)connected: if it said it does not hold the database, it may now. */
  met (peer: PeerId): void {
    this.#strangers.delete(peer.toString())
  }

  /** Waits for the session with `peer` under way, if any (never rejects). */
  async running (peer: string): Promise<void> {
    await this.#sessions.get(peer)?.catch(() => {})
  }

  /** Waits for every session with `peer` under way, dialed or served, if any (never rejects). */
  async idle (peer: string): Promise<void> {
    await Promise.allSettled([this.#sessions.get(peer), this.#served.get(peer)])
  }

  /**
   * Runs a session with a peer (one at a time per peer, either way: none
   * while the peer runs one with this side): both sides end up with
   * everything either had.
   */
  async sync (peer: PeerId): Promise<void> {
    const key = peer.toString()
    const running = this.#sessions.get(key)
    if (running !== undefined) return running
    if (this.#stopped || this.#strangers.has(key) || this.#served.has(key)) return
    // The peer was sent the manifest and opens the database: its session comes on that stream.
    const ride = this.#registry.rideFrom(this.#replica.address, key)
    if (ride !== undefined) {
      await ride
      return this.sync(peer)
    }
    const session = this.#dial(peer).finally(() => this.#sessions.delete(key))
    this.#sessions.set(key, session)
    return session
  }

  /**
   * Runs the session with the peer that sent this database's manifest on
   * the stream it came on (the database was opened by address): as
   * {@link sync}, without a second stream to negotiate.
   */
  async ride (answer: ManifestAnswer): Promise<void> {
    const key = answer.peer.toString()
    if (this.#stopped || this.#sessions.has(key) || this.#served.has(key)) {
      answer.stream.close().catch(() => {})
      return
    }
    const session = this.#dialOnce(answer.peer, answer).then(() => {}).finally(() => this.#sessions.delete(key))
    this.#sessions.set(key, session)
    return session
  }

  /** Stops serving and dialing (sessions under way run to their end: see {@link settled}). */
  async stop (): Promise<void> {
    this.#stopped = true
    this.#abort.abort()
    await this.#registry.unregister(this.#replica.address)
  }

  /** Waits for the sessions under way. */
  async settled (): Promise<void> {
    await Promise.allSettled([...this.#sessions.values()])
  }

  async #dial (peer: PeerId): Promise<void> {
    // A hello refused because the peer had not opened the database yet, while the peer's own
    // hello (so it has it open now) was answered "crossed": dial again, once.
    const key = peer.toString()
    try {
      if (await this.#dialOnce(peer) === 'refused' && this.#crossed.has(key)) {
        this.#strangers.delete(key)
        await this.#dialOnce(peer)
      }
    } finally {
      this.#crossed.delete(key)
    }
  }

  /** Runs a session with `peer` on a new stream, or on the stream of its manifest answer (`ridden`). */
  async #dialOnce (peer: PeerId, ridden?: ManifestAnswer): Promise<'done' | 'refused'> {
    const key = peer.toString()
    let stream: Stream | undefined = ridden?.stream
    try {
      if (stream === undefined) {
        const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#timeout)])
        stream = await retry(async () => this.#libp2p.dialProtocol(peer, SYNC_PROTOCOL, { signal }), signal)
      }
      const lp = ridden?.lp ?? messages(stream)
      const mine = nonce()
      const empty = await this.#replica.holdsNothing()
      const summary = empty ? undefined : await replicaSummary(this.#replica)
      await writeMessage(lp, { t: 'h', v: 2, db: this.#replica.address, n: mine, ...await this.#proof(this.#libp2p.peerId, peer), ...(summary === undefined ? { e: true } : { s: summary }) })
      const answer = await readMessage(lp, this.#timeout)
      if (answer.t === 'e') {
        await stream.close()
        if (answer.reason !== CROSSED) {
          this.#strangers.add(key)
          return 'refused'
        }
        // The peer runs its own session with this side: it is this side's catch-up too.
        await this.#served.get(key)?.catch(() => {})
        return 'done'
      }
      if (answer.t !== 'o') throw new SyncError(`unexpected answer "${answer.t}" to hello`)
      await this.#checkProof(answer.p, peer, this.#libp2p.peerId)
      await this.#session(lp, peer, mine, answer.n, { same: sameSummary(summary, answer.s) })
      await stream.close()
      return 'done'
    } catch (error) {
      stream?.abort(error instanceof Error ? error : new Error(String(error)))
      this.#failed(key, error)
      throw error
    }
  }

  async #serve (lp: LengthPrefixedStream<Stream>, peer: PeerId, hello: Hello): Promise<void> {
    const key = peer.toString()
    // Sessions crossed (each side dialed): the one dialed by the peer whose id sorts first goes
    // on. (Should this side's hello be refused after all, the peer not having opened the
    // database when it arrived, this side dials again: the peer has it open now.)
    if (this.#sessions.has(key) && this.#libp2p.peerId.toString() < key) {
      this.#crossed.add(key)
      await writeMessage(lp, { t: 'e', reason: CROSSED })
      return
    }
    const serving = this.#answer(lp, peer, hello)
    this.#served.set(key, serving)
    try {
      await serving
    } finally {
      if (this.#served.get(key) === serving) this.#served.delete(key)
    }
  }

  async #answer (lp: LengthPrefixedStream<Stream>, peer: PeerId, hello: Hello): Promise<void> {
    try {
      try {
        await this.#checkProof(hello.p, peer, this.#libp2p.peerId)
      } catch (error) {
        await writeMessage(lp, { t: 'e', reason: 'the key proof does not open' })
        throw error
      }
      const mine = nonce()
      const summary = await replicaSummary(this.#replica)
      await writeMessage(lp, { t: 'o', n: mine, ...await this.#proof(this.#libp2p.peerId, peer), s: summary })
      await this.#session(lp, peer, mine, hello.n, { peerHoldsNothing: hello.e === true, same: sameSummary(hello.s, summary) })
    } catch (error) {
      this.#failed(peer.toString(), error)
      throw error
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
    return signedBytes('kadmium/sync-proof', encoder.encode(this.#replica.address), encoder.encode(from.toString()), encoder.encode(to.toString()))
  }

  /**
   * Runs the session proper, after hello and ok; with `same` (both sides'
   * summaries are the same: they hold the same), there is nothing to send
   * and it ends at once, on both sides.
   */
  async #session (lp: LengthPrefixedStream<Stream>, peer: PeerId, mine: Uint8Array, theirs: Uint8Array, { peerHoldsNothing = false, same = false } = {}): Promise<void> {
    const key = peer.toString()
    if (peer.publicKey?.type !== 'Ed25519') throw new SyncError('catch-up peers have Ed25519 keys')
    this.#events.onSync({ peer: key, phase: 'start', done: 0, total: 0 })
    let last = { done: 0, total: 0 }
    const security = {
      address: this.#replica.address,
      signer: this.#security.signer,
      peerKey: peer.publicKey.raw,
      mine,
      theirs,
      access: this.#security.access
    }
    const result = same ? { sent: 0, received: 0 } : await runSession(lp, this.#replica, security, {
      idleTimeout: this.#timeout,
      peerHoldsNothing,
      onProgress: (done, total) => {
        last = { done, total }
        this.#events.onSync({ peer: key, phase: 'progress', done, total })
      },
      onRejected: (reason) => { this.#events.onRejected({ reason, via: 'sync', peer: key }) }
    })
    this.#lastSync = new Date()
    this.#synced.add(key)
    this.#events.onSync({ peer: key, phase: 'done', done: result.received, total: last.total })
  }
}

function nonce (): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SESSION_NONCE_BYTES))
}

/** Whether both sides sent a summary, and the same. */
function sameSummary (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && bytesEqual(a, b)
}
