/**
 * Real kad-dht nodes in one process, over libp2p's memory transport, for
 * the DHT store's tests.
 */
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, type KadDHT, type QueryEvent, type Validators } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { ping } from '@libp2p/ping'
import { createLibp2p, type Libp2p } from 'libp2p'
import { DHT_PROTOCOL } from '../../src/dht/dht-keys.ts'
import { PING_STREAMS } from '../../src/peer/peer.ts'
import { dhtSelectors, dhtValidators } from '../../src/dht/validators.ts'
import { waitFor } from '../helpers/wait.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { OPEN_ACCESS } from '../../src/access/write-access.ts'
import { signerOf } from '../../src/access/identity.ts'
import type { ReplicaSecurity } from '../../src/access/replica-security.ts'
import assert from 'node:assert/strict'
import { Libp2pRecord } from '@libp2p/record'
import { decode, encode } from 'cborg'
import type { Datastore } from 'interface-datastore'
import { bytesEqual } from '../../src/util/hash.ts'
import { encodeHead, headParts, verifyHead, verifyHeadValue } from '../../src/dht/head.ts'
import { mergingDatastore } from '../../src/dht/merging-datastore.ts'
import { MemoryDatastore } from 'datastore-core'

/** A fresh identity for DHT stores in tests: a new Ed25519 key (a new author), an open database. */
export async function newSecurity (): Promise<ReplicaSecurity> {
  return { signer: signerOf(await generateKeyPair('Ed25519')), access: OPEN_ACCESS }
}

/** An identity for DHT stores in tests: a fresh Ed25519 key, an open database. */
export const testSecurity: ReplicaSecurity = await newSecurity()

/** Checks and decodes a head as the store does (signature for `key`, then parts). */
export async function readHead (key: Uint8Array, value: Uint8Array): Promise<{ parts: ReadonlyArray<readonly Uint8Array[]>, inline?: Uint8Array | undefined }> {
  return headParts(key, await verifyHead(key, value))
}

/** One head of a DHT value (a head or a head set), checked and decoded. */
export interface ReadHead {
  readonly author: Uint8Array
  readonly t: number
  readonly parts: ReadonlyArray<readonly Uint8Array[]>
  readonly inline?: Uint8Array | undefined
  /** A tombstone: the author deleted the record. */
  readonly deleted?: boolean | undefined
}

/** Checks a DHT value as the validator does and decodes each of its heads. */
export async function readHeads (key: Uint8Array, value: Uint8Array): Promise<ReadHead[]> {
  const heads = await verifyHeadValue(key, value)
  return await Promise.all(heads.map(async (h) => ({ author: h.author, t: h.t, ...await headParts(key, h) })))
}

// A type alias, not an interface: libp2p's ServiceMap needs an index signature.
export type DhtServices = { dht: KadDHT, ping: unknown, identify: unknown }
export type DhtNode = Libp2p<DhtServices>

let counter = 0

/** Options of {@link createDhtNode}. */
export interface DhtNodeOptions {
  /** Validators instead of Kadmium's (a misbehaving peer's). */
  readonly validators?: Validators
  /** Run a plain kad-dht server, which replaces the value under a key on each put, instead of Kadmium's merging one. @default false */
  readonly plain?: boolean
}

/** The datastore of each node made here (to read what its DHT server stores). */
const datastores = new WeakMap<DhtNode, Datastore>()

/** One started libp2p node with Kadmium's kad-dht, listening on a fresh memory address. */
export async function createDhtNode (options: DhtNodeOptions = {}): Promise<DhtNode> {
  const name = `/memory/kadmium-dht-${process.pid}-${counter++}`
  const datastore = options.plain === true ? new MemoryDatastore() : mergingDatastore(new MemoryDatastore())
  const node: DhtNode = await createLibp2p({
    datastore,
    addresses: { listen: [name] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: Infinity, maxConnections: 1000 },
    services: {
      identify: identify(),
      ping: ping({ maxOutboundStreams: PING_STREAMS, maxInboundStreams: PING_STREAMS }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        validators: options.validators ?? dhtValidators,
        selectors: dhtSelectors,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        allowQueryWithZeroPeers: true
      })
    }
  })
  datastores.set(node, datastore)
  return node
}

/** The value a node's DHT server stores under `key` (its own copy, not a lookup). */
export async function readValue (node: DhtNode, key: Uint8Array): Promise<Uint8Array> {
  const datastore = datastores.get(node)
  assert.ok(datastore !== undefined, 'not a node made by createDhtNode')
  for await (const { value } of datastore.query({ prefix: '/dht/record/' })) {
    const record = Libp2pRecord.deserialize(value)
    if (bytesEqual(record.key, key)) return record.value
  }
  assert.fail('the node stores no value under this key')
}

/** Anything with a kad-dht service (a node, or a {@link counting} view of one). */
export interface KadDHTHolder {
  readonly services: { readonly dht: KadDHT }
}

/** A view of `node` whose kad-dht calls `onGet` on each `get` (a DHT read). */
export function counting (node: DhtNode, onGet: () => void): KadDHTHolder {
  const dht = new Proxy(node.services.dht, {
    get (target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (property === 'get') {
        return (...args: Parameters<KadDHT['get']>) => {
          onGet()
          return target.get(...args)
        }
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
  return { services: { dht } }
}

/** A head for `key` holding `state`, signed by a stranger but claiming `author` (its signature does not verify). */
export async function forgeHead (key: Uint8Array, state: Uint8Array, author: Uint8Array): Promise<Uint8Array> {
  const stranger = await newSecurity()
  const real = decode(await encodeHead(key, { parts: [], inline: state }, stranger.signer)) as Record<string, unknown>
  return encode({ ...real, k: author })
}

/** The number of peers in a node's kad-dht routing table. */
export function routingTableSize (node: DhtNode): number {
  return routingTable(node).size
}

/** Dials `b` from `a` (retrying the occasional failed simultaneous dial) and waits until each has the other in its routing table. */
export async function connect (a: DhtNode, b: DhtNode): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await a.dial(b.getMultiaddrs(), { signal: AbortSignal.timeout(5000) })
      break
    } catch (error) {
      if (attempt >= 4) throw error
    }
  }
  await waitFor(async () => await inRoutingTable(a, b) && await inRoutingTable(b, a), 'routing tables to hold each other')
}

/** Connects every pair of `nodes` (in parallel): every routing table holds every other node. */
export async function connectAll (nodes: readonly DhtNode[]): Promise<void> {
  const pairs: Array<Promise<void>> = []
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) pairs.push(connect(nodes[i] as DhtNode, nodes[j] as DhtNode))
  }
  await Promise.all(pairs)
}

/** Starts `n` nodes, each connected to every other. */
export async function createMesh (n: number): Promise<DhtNode[]> {
  const nodes = await Promise.all(Array.from({ length: n }, async () => await createDhtNode()))
  await connectAll(nodes)
  return nodes
}

interface RoutingTableView {
  readonly size: number
  find (peer: DhtNode['peerId']): Promise<DhtNode['peerId'] | undefined>
}

function routingTable (node: DhtNode): RoutingTableView {
  return (node.services.dht as unknown as { routingTable: RoutingTableView }).routingTable
}

async function inRoutingTable (a: DhtNode, b: DhtNode): Promise<boolean> {
  return await routingTable(a).find(b.peerId) !== undefined
}

/** Starts `n` nodes connected in a line (each to the next), routing tables populated. */
export async function createLine (n: number): Promise<DhtNode[]> {
  const nodes = await Promise.all(Array.from({ length: n }, async () => await createDhtNode()))
  for (let i = 0; i + 1 < nodes.length; i++) await connect(nodes[i] as DhtNode, nodes[i + 1] as DhtNode)
  return nodes
}

/** Stops every node. */
export async function stopAll (nodes: readonly DhtNode[]): Promise<void> {
  await Promise.all(nodes.map(async (node) => { await node.stop() }))
}


/** Waits for `gate`, or for `signal` to abort (then it throws, as a query does). */
async function passGate (gate: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return await gate
  signal.throwIfAborted()
  const aborted = Promise.withResolvers<void>()
  const onAbort = (): void => { aborted.reject(signal.reason) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await Promise.race([gate, aborted.promise])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** What {@link gated} holds back until its gate opens. */
export interface GateRules {
  /** `put`: events after the first `PUT_VALUE` acknowledgement wait for the gate (the rest of the put stalls). */
  readonly putAfterFirstAck?: boolean
  /** `get`: events of this peer wait for the gate (it answers "later"); they pass before kad-dht's corrections and the end. */
  readonly getFrom?: DhtNode['peerId']
}

/**
 * A view of `node` whose kad-dht `put` and `get` hold back events (see
 * {@link GateRules}) until `open()` is called; an aborted query stops
 * waiting. Lets a test order what the network otherwise races.
 */
export function gated (node: KadDHTHolder, rules: GateRules): { holder: KadDHTHolder, open: () => void } {
  const gate = Promise.withResolvers<void>()
  // The methods as they are now (a test may then install the gated ones on the node itself).
  const target = node.services.dht
  const original = { put: target.put.bind(target), get: target.get.bind(target) }
  const dht = new Proxy(target, {
    get (target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (property === 'put' && rules.putAfterFirstAck === true) {
        return async function * (...args: Parameters<KadDHT['put']>): AsyncGenerator<QueryEvent> {
          let acked = false
          for await (const event of original.put(...args)) {
            if (acked) await passGate(gate.promise, args[2]?.signal)
            yield event
            if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') acked = true
          }
        }
      }
      if (property === 'get' && rules.getFrom !== undefined) {
        const from = rules.getFrom
        return async function * (...args: Parameters<KadDHT['get']>): AsyncGenerator<QueryEvent> {
          const held: QueryEvent[] = []
          const release = async function * (): AsyncGenerator<QueryEvent> {
            if (held.length === 0) return
            await passGate(gate.promise, args[1]?.signal)
            yield * held.splice(0)
          }
          for await (const event of original.get(...args)) {
            if (event.name !== 'VALUE' && event.path.index === -1) yield * release()
            if (event.name === 'PEER_RESPONSE' && event.from.equals(from)) held.push(event)
            else yield event
          }
          yield * release()
        }
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
  return { holder: { services: { dht } }, open: () => { gate.resolve() } }
}
