/**
 * One peer of a chaos run: a real libp2p node made from Kadmium's profile
 * (memory transport in one process, TCP on 127.0.0.1 across processes), a
 * real database on real storage, and the faults the run injects below
 * Kadmium: partitions (a connection gater that refuses and closes
 * connections), and dropped, delayed, duplicated and reordered gossip
 * messages (gossipsub's received RPCs, before gossipsub sees them).
 * @module
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { memory } from '@libp2p/memory'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import * as Y from 'yjs'
import { z } from 'zod'
import { createDatabase, RECORD_ROOT, type Collection, type CollectionInput, type CollectionType, type Database, type KadmiumLibp2p, type StorageAdapter } from '@kadmium/core'
import { kadmiumLibp2pOptions } from '@kadmium/core/profile'
import type { Random } from './random.ts'

/** The records of a chaos run: a title edited as collaborative text, a flag, a number. */
export const Item = z.object({ title: z.string(), done: z.boolean(), n: z.number().int() })
type Items = Collection<CollectionType<typeof Item>, CollectionInput<typeof Item>>

/** An operation the run asks of a peer (plain data: it crosses process boundaries). */
export type Op =
  | { readonly kind: 'insert', readonly id: string, readonly title: string, readonly n: number, readonly replicas?: number }
  | { readonly kind: 'update', readonly id: string, readonly done: boolean, readonly n: number }
  | { readonly kind: 'text', readonly id: string, readonly at: number, readonly insert: string, readonly remove: number }
  | { readonly kind: 'delete', readonly id: string }
  | { readonly kind: 'grant' | 'revoke', readonly writer: string }

/**
 * What an operation came to: acknowledged (its promise resolved), with the
 * writer's own Yjs clock after it (every replica must reach it), or an
 * error name.
 */
export type OpResult =
  | { readonly ok: true, readonly mark?: { readonly client: number, readonly clock: number } }
  | { readonly ok: false, readonly error: string, readonly message: string }

/** What a peer holds: records as JSON and their Yjs state vectors, by id; the writers it knows. */
export interface Snapshot {
  readonly records: Readonly<Record<string, string>>
  readonly vectors: Readonly<Record<string, Readonly<Record<string, number>>>>
  readonly writers: readonly string[]
}

/** Rates of the gossip faults, each per message received. */
export interface MessageFaults {
  readonly drop: number
  readonly delay: number
  readonly duplicate: number
  /** Longest delay (ms); delayed messages overtake others: reordering. */
  readonly maxDelayMs: number
}

/** How to make a {@link ChaosNode}. */
export interface ChaosNodeOptions {
  /** The peer's key, protobuf-encoded (kept across restarts). */
  readonly key: Uint8Array
  readonly transport: 'memory' | 'tcp'
  /** The database's storage (the same data across restarts). */
  readonly storage: () => StorageAdapter
  /** The owner of the (restricted) database; none: an open database. */
  readonly owner?: string
  readonly faults: MessageFaults
  readonly random: Random
  /** Peers refused from the start (a partition in force when the peer restarts). */
  readonly cut?: readonly string[]
}

/** Longest wait of a durable write for its DHT peers (ms). */
const DURABLE_TIMEOUT_MS = 5000
/** The database every chaos peer opens. */
const DATABASE = 'chaos'
let memoryCounter = 0

/** A fresh protobuf-encoded Ed25519 key. */
export async function newKey (): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair('Ed25519'))
}

/** A chaos peer, running. */
export class ChaosNode {
  readonly id: string
  readonly libp2p: KadmiumLibp2p
  readonly db: Database
  readonly items: Items
  readonly #cut: Set<string>
  #stopped = false

  private constructor (libp2p: KadmiumLibp2p, db: Database, cut: Set<string>) {
    this.libp2p = libp2p
    this.db = db
    this.items = db.collection('items', { schema: Item, text: ['title'] })
    this.id = libp2p.peerId.toString()
    this.#cut = cut
  }

  /** Starts a peer and opens the database. */
  static async start (options: ChaosNodeOptions): Promise<ChaosNode> {
    const privateKey: PrivateKey = privateKeyFromProtobuf(options.key)
    const cut = new Set(options.cut ?? [])
    const profile = kadmiumLibp2pOptions({ network: 'local' })
    const refused = (peer: PeerId): boolean => cut.has(peer.toString())
    const libp2p: KadmiumLibp2p = await createLibp2p({
      ...profile,
      privateKey,
      addresses: { listen: [options.transport === 'memory' ? `/memory/chaos-${process.pid}-${memoryCounter++}` : '/ip4/127.0.0.1/tcp/0'] },
      transports: [options.transport === 'memory' ? memory() : tcp()],
      connectionGater: {
        ...profile.connectionGater,
        denyDialPeer: refused,
        denyInboundEncryptedConnection: refused,
        denyOutboundEncryptedConnection: refused
      }
    })
    const node = { stopped: false }
    injectMessageFaults(libp2p, options.faults, options.random, () => node.stopped)
    const db = await createDatabase({
      name: DATABASE,
      peer: { libp2p, privateKey, storage: options.storage, close: async () => { await libp2p.stop() } },
      // A short period: the run's quiet phase leans on explicit sync() calls anyway.
      replication: { syncInterval: 2000, discoveryInterval: 3_600_000 },
      ...(options.owner !== undefined ? { access: { owners: [options.owner] } } : {})
    })
    const chaos = new ChaosNode(libp2p, db, cut)
    chaos.#onStop = () => { node.stopped = true }
    return chaos
  }

  #onStop: () => void = () => {}

  /** Its listening addresses. */
  addresses (): string[] {
    return this.libp2p.getMultiaddrs().map(String)
  }

  /** Dials a peer (unless cut off from it); a failed dial is not an error (the peer may be down). */
  async dial (addresses: readonly string[]): Promise<void> {
    if (addresses.length === 0) return
    const peer = multiaddr(addresses[0] as string).getComponents().find((c) => c.name === 'p2p')?.value
    if (peer !== undefined && this.#cut.has(peer)) return
    await this.libp2p.dial(addresses.map((a) => multiaddr(a)), { signal: AbortSignal.timeout(5000) }).catch(() => {})
  }

  /** Partitions this peer from `peer`: refuses connections with it and closes those open. */
  async cut (peer: string): Promise<void> {
    this.#cut.add(peer)
    for (const connection of this.libp2p.getConnections()) {
      if (connection.remotePeer.toString() === peer) await connection.close().catch(() => {})
    }
  }

  /** Lifts a partition from `peer` (the next dial may connect). */
  heal (peer: string): void {
    this.#cut.delete(peer)
  }

  /** Runs one operation. */
  async apply (op: Op): Promise<OpResult> {
    try {
      switch (op.kind) {
        case 'insert':
          await this.items.insert({ title: op.title, done: false, n: op.n }, {
            id: op.id,
            ...(op.replicas !== undefined ? { durability: { replicas: op.replicas, timeout: DURABLE_TIMEOUT_MS } } : {})
          })
          return { ok: true, mark: await this.#mark(op.id) }
        case 'update':
          await this.items.update(op.id, (item) => { item.done = op.done; item.n = op.n })
          return { ok: true, mark: await this.#mark(op.id) }
        case 'text': {
          const doc = await this.items.doc(op.id)
          const text = doc.getMap(RECORD_ROOT).get('title')
          if (!(text instanceof Y.Text)) return { ok: false, error: 'NotText', message: `the title is not a Y.Text: ${String(text)} ${JSON.stringify(doc.getMap(RECORD_ROOT).toJSON())} get=${JSON.stringify(await this.items.get(op.id, { network: false }).catch((e: Error) => e.name))}` }
          const at = Math.floor(op.at * text.length)
          doc.transact(() => {
            text.delete(at, Math.min(op.remove, text.length - at))
            text.insert(at, op.insert)
          })
          // An edit of the Y.Doc resolves nothing: it is stored and shared in the background.
          return { ok: true }
        }
        case 'delete':
          await this.items.delete(op.id)
          return { ok: true }
        case 'grant':
          await this.db.access.grant(op.writer)
          return { ok: true }
        case 'revoke':
          await this.db.access.revoke(op.writer)
          return { ok: true }
      }
    } catch (error) {
      const e = error as Error
      return { ok: false, error: e.name, message: e.message }
    }
  }

  /** The writer's own clock in the record's Yjs state after a write. */
  async #mark (id: string): Promise<{ client: number, clock: number } | undefined> {
    const doc = await this.items.doc(id).catch(() => undefined)
    if (doc === undefined) return undefined
    return { client: doc.clientID, clock: Y.decodeStateVector(Y.encodeStateVector(doc)).get(doc.clientID) ?? 0 }
  }

  /** Catches up with every connected peer now. */
  async sync (): Promise<void> {
    await this.db.sync()
  }

  /** Which of `ids` this peer can read, from its replica or, missing there, from the DHT. */
  async read (ids: readonly string[]): Promise<string[]> {
    const found: string[] = []
    for (const id of ids) if (await this.items.get(id).catch(() => undefined) !== undefined) found.push(id)
    return found
  }

  /** What this peer holds. */
  async snapshot (): Promise<Snapshot> {
    const records: Record<string, string> = {}
    const vectors: Record<string, Record<string, number>> = {}
    for (const row of await this.items.find()) {
      records[row.id] = stableJson(row)
      const doc = await this.items.doc(row.id)
      vectors[row.id] = Object.fromEntries([...Y.decodeStateVector(Y.encodeStateVector(doc))].map(([client, clock]) => [String(client), clock]))
    }
    return { records, vectors, writers: [...this.db.access.writers()].sort() }
  }

  /** Closes the database, then the node. */
  async close (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#onStop()
    await this.db.close().catch(() => {})
    await this.libp2p.stop()
  }

  /** Loses the network at once (as a crash does), then lets the database go. */
  async crash (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#onStop()
    await this.libp2p.stop()
    await this.db.close().catch(() => {})
  }
}

/** JSON with sorted keys: equal records, equal strings. */
export function stableJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
    : v)
}

interface Rpc { subscriptions?: unknown[], messages?: unknown[], control?: unknown }
type RpcHandler = (from: PeerId, rpc: Rpc) => Promise<void>

/**
 * Makes gossipsub receive messages badly: each message of an incoming RPC
 * is dropped, delayed (so overtaken by later ones) or handled twice, at
 * the given rates, before gossipsub sees it.
 */
function injectMessageFaults (libp2p: KadmiumLibp2p, faults: MessageFaults, random: Random, stopped: () => boolean): void {
  const pubsub = libp2p.services.pubsub as unknown as { handleReceivedRpc: RpcHandler }
  const handle = pubsub.handleReceivedRpc.bind(pubsub)
  const later = (from: PeerId, message: unknown): void => {
    setTimeout(() => {
      if (!stopped()) handle(from, { subscriptions: [], messages: [message] }).catch(() => {})
    }, 1 + random.int(faults.maxDelayMs))
  }
  pubsub.handleReceivedRpc = async (from, rpc) => {
    const messages = rpc.messages ?? []
    if (messages.length === 0) return await handle(from, rpc)
    const kept: unknown[] = []
    for (const message of messages) {
      const roll = random()
      if (roll < faults.drop) continue
      if (roll < faults.drop + faults.delay) {
        later(from, message)
        continue
      }
      if (roll < faults.drop + faults.delay + faults.duplicate) later(from, message)
      kept.push(message)
    }
    await handle(from, { ...rpc, messages: kept })
  }
}
