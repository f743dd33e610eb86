/**
 * The adversary test harness: honest Kadmium peers with a database each,
 * and an {@link Adversary} — a raw libp2p peer with no database that
 * speaks Kadmium's protocols by hand (gossip envelopes, catch-up
 * sessions, DHT records) and says whatever it likes.
 *
 * Every test file makes one {@link Arena} and closes it in `after()`:
 * everything the arena started is stopped there.
 */
import assert from 'node:assert/strict'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import { RPC } from '@libp2p/gossipsub/message'
import { lpStream } from '@libp2p/utils'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import {
  createDatabase, type Collection, type CollectionInput, type CollectionType, type Database,
  type RejectedEvent, type ReplicationOptions, type SyncEvent
} from '@kadmium/core'
import { BLOCK_NS, HEAD_NS } from '../../src/dht/dht-keys.ts'
import { putValue } from '../../src/dht/kad-calls.ts'
import type { EnvelopeEntry } from '../../src/sync/envelope.ts'
import { topicOf } from '../../src/sync/gossip.ts'
import { SYNC_PROTOCOL, type SyncMessage } from '../../src/sync/sync-messages.ts'
import { signerOf, type Signer } from '../../src/access/identity.ts'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, createTestPeer, type TestPeer } from '../sync/helpers.ts'
import { nonce16, rewrap, signEnvelope, type EnvelopeOptions } from './forge.ts'
import { SyncHandle } from './sync-handle.ts'

export { SyncHandle } from './sync-handle.ts'

/** The collection every adversary test writes to. */
export type Todos = Collection<CollectionType<typeof Todo>, CollectionInput<typeof Todo>>

/** Replication options of honest peers: no timers firing during a test; catch-up only when a test asks. */
export const QUIET: ReplicationOptions = { discoveryInterval: 3_600_000, syncInterval: 3_600_000, dhtReadTimeout: 5000 }

/** Rejected events kept by a {@link RejectedLog} at most (a flood sends far more); counts go on. */
const KEPT_EVENTS = 2000

/** What an honest database reported as refused, and its failed catch-up sessions. */
export class RejectedLog {
  /** The first {@link KEPT_EVENTS} rejected events. */
  readonly events: RejectedEvent[] = []
  /** Catch-up sessions that ended in an error. */
  readonly syncErrors: SyncEvent[] = []
  /** Rejected events by error name (the reason's prefix before ':'). */
  readonly byName = new Map<string, number>()
  /** Rejected events in all. */
  total = 0

  /** Records one rejected event. */
  add (event: RejectedEvent): void {
    this.total++
    const name = event.reason.split(':')[0] ?? ''
    this.byName.set(name, (this.byName.get(name) ?? 0) + 1)
    if (this.events.length < KEPT_EVENTS) this.events.push(event)
  }

  /** Whether an event came by `via` whose reason starts with `name` (and matches `pattern`, if given). */
  has (name: string, via?: RejectedEvent['via'], pattern?: RegExp): boolean {
    return this.events.some((e) => e.reason.startsWith(`${name}:`) && (via === undefined || e.via === via) && (pattern === undefined || pattern.test(e.reason)))
  }

  /** Waits (bounded) for an event as {@link has} describes. */
  async waitFor (name: string, via?: RejectedEvent['via'], pattern?: RegExp, timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.has(name, via, pattern), `a rejected event ${name}${via === undefined ? '' : ` via ${via}`}${pattern === undefined ? '' : ` ${String(pattern)}`} (got: ${this.describe()})`, timeoutMs)
  }

  /** Waits (bounded) for a failed catch-up session whose error has this name. */
  async waitForSyncError (name: string, timeoutMs = 5000): Promise<SyncEvent> {
    await waitFor(() => this.syncErrors.some((e) => e.error?.name === name), `a catch-up session to fail with ${name} (got: ${this.syncErrors.map((e) => e.error?.name).join(', ')})`, timeoutMs)
    return this.syncErrors.find((e) => e.error?.name === name) as SyncEvent
  }

  /** Forgets everything seen so far. */
  clear (): void {
    this.events.length = 0
    this.syncErrors.length = 0
    this.byName.clear()
    this.total = 0
  }

  /** A short summary for failure messages. */
  describe (): string {
    return this.events.slice(0, 8).map((e) => `${e.via}: ${e.reason.slice(0, 120)}`).join(' | ') || 'nothing'
  }
}

/** An honest peer with the test database open, and what it refused. */
export interface Honest {
  readonly peer: TestPeer
  readonly db: Database
  readonly todos: Todos
  readonly log: RejectedLog
  /** The peer id string. */
  readonly id: string
}

/** Options of {@link Arena.honest}. */
export interface HonestOptions {
  /** The database name. @default 'adversary-test' */
  readonly name?: string
  /** Owners (peer id strings): the database is restricted. The first honest peer is the owner with `restricted: true`. */
  readonly owners?: string[]
  /** Make the first peer the owner of a restricted database. */
  readonly restricted?: boolean
  /** Replication options. @default {@link QUIET} */
  readonly replication?: ReplicationOptions
  /** Listen on TCP (127.0.0.1) as well as the memory transport, for an adversary in another thread. */
  readonly tcp?: boolean
}

/**
 * Starts and tracks honest peers and adversaries; {@link close} stops them
 * all (databases first).
 */
export class Arena {
  readonly #peers: Array<{ close: () => Promise<void> }> = []
  readonly #dbs: Database[] = []

  /**
   * `count` honest peers with the same database open, connected to each
   * other, each subscribed and seen on the topic by the others.
   */
  async honest (count: number, options: HonestOptions = {}): Promise<Honest[]> {
    const peers = await Promise.all(Array.from({ length: count }, async () => createTestPeer({ tcp: options.tcp === true })))
    this.#peers.push(...peers)
    const owners = options.owners ?? (options.restricted === true ? [(peers[0] as TestPeer).libp2p.peerId.toString()] : undefined)
    const honest: Honest[] = []
    for (const peer of peers) {
      const db = await createDatabase({
        name: options.name ?? 'adversary-test',
        peer,
        replication: options.replication ?? QUIET,
        ...(owners !== undefined ? { access: { owners } } : {})
      })
      this.#dbs.push(db)
      const log = new RejectedLog()
      db.on('rejected', (e) => { log.add(e) })
      db.on('sync', (e) => { if (e.phase === 'error') log.syncErrors.push(e) })
      honest.push({ peer, db, todos: db.collection('todos', { schema: Todo }), log, id: peer.libp2p.peerId.toString() })
    }
    for (let i = 0; i < honest.length; i++) {
      for (let j = i + 1; j < honest.length; j++) await connect((honest[i] as Honest).peer, (honest[j] as Honest).peer)
    }
    await waitFor(() => honest.every((h) => h.db.status.peers === count - 1), 'honest peers on the topic', 10_000)
    return honest
  }

  /** Starts an adversary (not yet connected to anyone). */
  async adversary (): Promise<Adversary> {
    const adversary = await Adversary.create()
    this.#peers.push(adversary)
    return adversary
  }

  /** Closes every database, then stops every peer. */
  async close (): Promise<void> {
    for (const db of this.#dbs) await db.close().catch(() => {})
    for (const peer of this.#peers) await peer.close().catch(() => {})
  }
}

/** The records of an honest replica, sorted by id: compare before and after an attack. */
export async function snapshot (h: Honest): Promise<string> {
  const rows = await h.todos.find()
  return JSON.stringify([...rows].sort((a, b) => a.id < b.id ? -1 : 1))
}

/**
 * Asserts that every record of an earlier {@link snapshot} is still there,
 * unchanged (records written since, and `except`, are left out of the comparison).
 */
export async function assertKept (h: Honest, before: string, except?: string): Promise<void> {
  const earlier = (JSON.parse(before) as Array<{ id: string }>).filter((r) => r.id !== except)
  const now = JSON.parse(await snapshot(h)) as Array<{ id: string }>
  assert.deepEqual(now.filter((r) => earlier.some((e) => e.id === r.id)), earlier, 'the records held before are unchanged')
}

/**
 * Asserts that the honest peers still replicate: a record written on
 * `from` reaches `to` live within `timeoutMs`.
 * @returns the id of the record written
 */
export async function stillReplicates (from: Honest, to: Honest, title = `still alive ${Date.now()}`, timeoutMs = 10_000): Promise<string> {
  const id = await from.todos.insert({ title, done: false })
  await waitFor(async () => (await to.todos.get(id, { network: false }))?.title === title, `an honest write from ${from.id.slice(-6)} to reach ${to.id.slice(-6)}`, timeoutMs)
  return id
}

/** The adversary's libp2p: Kadmium's services, but a DHT that stores whatever it is given. */
export type AdversaryLibp2p = Libp2p<{ pubsub: GossipSub, dht: KadDHT, identify: unknown, ping: unknown }>


/** The gossipsub protocol version honest peers speak. */
const GOSSIP_PROTOCOL = '/meshsub/1.2.0'

/** Kad-dht validators that accept anything: the adversary keeps and serves values honest peers refuse. */
const PERMISSIVE = { [BLOCK_NS]: () => {}, [HEAD_NS]: () => {} }

/** How {@link Adversary.flood} went. */
export interface FloodResult {
  /** Messages handed to gossipsub. */
  readonly sent: number
  /** Publishes that threw. */
  readonly failed: number
  /** How long it ran (ms). */
  readonly ms: number
  /** Messages per second achieved. */
  readonly rate: number
}

/**
 * A raw peer speaking Kadmium's protocols by hand: no database, no
 * validation of its own, its own Ed25519 identity.
 */
export class Adversary {
  readonly libp2p: AdversaryLibp2p
  readonly privateKey: PrivateKey
  /** Signs as the adversary. */
  readonly signer: Signer
  readonly #captured = new Map<string, Uint8Array[]>()

  private constructor (libp2p: AdversaryLibp2p, privateKey: PrivateKey) {
    this.libp2p = libp2p
    this.privateKey = privateKey
    this.signer = signerOf(privateKey)
    libp2p.services.pubsub.addEventListener('message', (event: CustomEvent<Message>) => {
      this.#captured.get(event.detail.topic)?.push(event.detail.data)
    })
  }

  /** Starts an adversary on a fresh memory address. */
  static async create (): Promise<Adversary> {
    const peer = await createTestPeer({ validators: PERMISSIVE })
    return new Adversary(peer.libp2p, peer.privateKey)
  }

  /** The adversary's peer id string. */
  get id (): string {
    return this.libp2p.peerId.toString()
  }

  /**
   * Connects to an honest peer; with `address`, also waits until the
   * honest peer's subscription to that database's topic is known (so that
   * publishes reach it).
   */
  async connect (honest: Honest | TestPeer, address?: string): Promise<void> {
    const peer = 'peer' in honest ? honest.peer : honest
    for (let attempt = 0; ; attempt++) {
      try {
        await this.libp2p.dial(peer.libp2p.getMultiaddrs(), { signal: AbortSignal.timeout(5000) })
        break
      } catch (error) {
        if (attempt >= 4) throw error
      }
    }
    if (address !== undefined) {
      const topic = topicOf(address)
      await waitFor(() => this.libp2p.services.pubsub.getSubscribers(topic).some((p) => p.equals(peer.libp2p.peerId)), 'the honest peer\'s subscription', 10_000)
    }
  }

  /** Waits (bounded) until each peer's kad-dht routing table holds the other. */
  async joinDht (honest: Honest): Promise<void> {
    const table = (node: { services: { dht: unknown } }): { find: (p: PeerId) => Promise<PeerId | undefined> } =>
      (node.services.dht as { routingTable: { find: (p: PeerId) => Promise<PeerId | undefined> } }).routingTable
    await waitFor(async () => await table(this.libp2p).find(honest.peer.libp2p.peerId) !== undefined &&
      await table(honest.peer.libp2p).find(this.libp2p.peerId) !== undefined, 'routing tables to hold each other', 10_000)
  }

  /**
   * Publishes any bytes on a database's topic.
   * @returns how many peers gossipsub sent them to
   */
  async publishRaw (address: string, bytes: Uint8Array): Promise<number> {
    const { recipients } = await this.libp2p.services.pubsub.publish(topicOf(address), bytes)
    return recipients.length
  }

  /**
   * Sends one gossipsub RPC publishing `data` on a database's topic
   * straight to an honest peer, on a gossip stream of its own, written by
   * hand: no size limit of the adversary's gossipsub applies (it will not
   * send a message over 4 MiB), so this is how an oversized one arrives.
   * The stream then replaces the adversary's gossip stream at the honest
   * peer and is left open.
   */
  async publishRpc (honest: Honest, address: string, data: Uint8Array): Promise<void> {
    const stream = await this.libp2p.dialProtocol(honest.peer.libp2p.peerId, GOSSIP_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    const lp = lpStream(stream, { maxDataLength: 64 * 1024 * 1024 })
    const rpc = RPC.encode({ subscriptions: [], messages: [{ topic: topicOf(address), data }] })
    await lp.write(rpc, { signal: AbortSignal.timeout(10_000) })
  }

  /**
   * Signs an envelope for `address` (as the adversary, or as `options.signer`),
   * with the time, counter and signature `options` say, and publishes it.
   * @returns the envelope's bytes
   */
  async publishSigned (address: string, entries: readonly EnvelopeEntry[], options: EnvelopeOptions & { signer?: Signer } = {}): Promise<Uint8Array> {
    const bytes = await signEnvelope(entries, options.signer ?? this.signer, address, options)
    await this.publishRaw(address, bytes)
    return bytes
  }

  /**
   * Publishes an envelope seen before again, in new bytes so that gossipsub
   * does not drop it as a duplicate (see `rewrap`).
   */
  async replay (address: string, envelope: Uint8Array): Promise<void> {
    await this.publishRaw(address, rewrap(envelope))
  }

  /**
   * Subscribes to a database's topic and keeps every message published on
   * it: the returned array fills as they arrive.
   */
  capture (address: string): Uint8Array[] {
    const topic = topicOf(address)
    let kept = this.#captured.get(topic)
    if (kept === undefined) this.#captured.set(topic, kept = [])
    this.libp2p.services.pubsub.subscribe(topic)
    return kept
  }

  /**
   * Opens a catch-up stream to an honest peer. By default sends the hello
   * for `address` and waits for the honest peer's ok (so that signed
   * messages can be signed with its nonce); `hello: false` opens the
   * stream and sends nothing; `hello` as a message sends that instead.
   */
  async openSync (honest: Honest, address: string, options: { hello?: boolean | SyncMessage } = {}): Promise<SyncHandle> {
    const stream = await this.libp2p.dialProtocol(honest.peer.libp2p.peerId, SYNC_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    const mine = nonce16()
    const handle = new SyncHandle(stream, address, mine, this.signer)
    if (options.hello === false) return handle
    await handle.send(typeof options.hello === 'object' ? options.hello : { t: 'h', v: 2, db: address, n: mine })
    if (typeof options.hello === 'object') return handle
    const ok = await handle.waitFor('o', 5000)
    if (ok.t === 'o') handle.theirs = ok.n
    return handle
  }

  /**
   * Stores any value under any DHT key on the adversary's own node (its
   * validators accept anything) and offers it to the closest peers, which
   * may refuse it.
   * @returns how many peers accepted it
   */
  async putRawDht (key: Uint8Array, value: Uint8Array, timeoutMs = 5000): Promise<number> {
    return putValue(this.libp2p.services.dht, key, value, AbortSignal.timeout(timeoutMs))
  }

  /**
   * Publishes `perSecond` messages a second on a database's topic for
   * `seconds`, paced in 10 ms slices; `message(i)` makes the i-th one
   * (every message must differ, or gossipsub drops it as a duplicate).
   */
  async flood (address: string, perSecond: number, seconds: number, message: (i: number) => Uint8Array | Promise<Uint8Array>): Promise<FloodResult> {
    const topic = topicOf(address)
    const pubsub = this.libp2p.services.pubsub
    const start = Date.now()
    const end = start + seconds * 1000
    let sent = 0
    let failed = 0
    while (Date.now() < end) {
      const due = Math.min(perSecond * seconds, Math.floor((Date.now() - start) * perSecond / 1000))
      const batch: Array<Promise<unknown>> = []
      for (; sent < due; sent++) {
        batch.push(Promise.resolve(message(sent)).then(async (bytes) => pubsub.publish(topic, bytes)).catch(() => { failed++ }))
      }
      await Promise.all(batch)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const ms = Date.now() - start
    return { sent, failed, ms, rate: Math.round(sent / (ms / 1000)) }
  }

  /** Stops the adversary's node. */
  async close (): Promise<void> {
    await this.libp2p.stop()
  }
}
