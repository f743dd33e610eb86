/**
 * Real Kadmium peers in one process for core's replication tests: libp2p
 * over the memory transport with gossipsub and kad-dht, and in-memory
 * storage. (`@kadmium/node`'s tests run the same over TCP and LevelDB.)
 */
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, type Validators } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { tcp } from '@libp2p/tcp'
import { ping } from '@libp2p/ping'
import { createLibp2p } from 'libp2p'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { keepOpen } from '@kadmium/core/testing'
import type { ConnectionGater, PeerId, PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import { DHT_PROTOCOL, dhtSelectors, dhtValidators, memoryStorage, PING_STREAMS, type KadmiumLibp2p, type Peer, type StorageAdapter } from '@kadmium/core'
import { mergingDatastore } from '@kadmium/core/dht-server'
import { MemoryDatastore } from 'datastore-core'
import { after } from 'node:test'
import type { Database } from '@kadmium/core'

let counter = 0

/** Peers each test peer refuses for now (see {@link disconnect}), by its libp2p node. */
const cuts = new WeakMap<object, Set<string>>()

/** A peer whose storage survives `close()`, so that it can be reopened as the "same device". */
export interface TestPeer extends Peer {
  /** The storages handed out, by database name. */
  readonly storages: Map<string, StorageAdapter>
}

/** Options of {@link createTestPeer}. */
export interface TestPeerOptions {
  /** Storages of an earlier run of the "same device". */
  readonly storages?: Map<string, StorageAdapter>
  /** The identity. @default a fresh Ed25519 key */
  readonly privateKey?: PrivateKey
  /** libp2p's datastore (to read what the DHT stores); wrapped with `mergingDatastore`. */
  readonly datastore?: Datastore
  /** Listen on 127.0.0.1 TCP too (for peers in worker threads). */
  readonly tcp?: boolean
  /** kad-dht validators instead of Kadmium's (a misbehaving peer's). */
  readonly validators?: Validators
  /** Peers this one never connects to, either way (to build a topology). */
  readonly never?: readonly PeerId[]
}

/** Starts a Kadmium peer on a fresh memory address (the storages of an earlier run may be given). */
export async function createTestPeer (options: TestPeerOptions | Map<string, StorageAdapter> = {}): Promise<TestPeer> {
  const o: TestPeerOptions = options instanceof Map ? { storages: options } : options
  const storages = o.storages ?? new Map<string, StorageAdapter>()
  const privateKey = o.privateKey ?? await generateKeyPair('Ed25519')
  const cut = new Set<string>()
  const memoryAddress = `/memory/kadmium-net-${process.pid}-${counter++}`
  const libp2p = await createLibp2p({
    privateKey,
    // Kadmium's DHT servers merge heads (a given datastore is wrapped too).
    datastore: mergingDatastore(o.datastore ?? new MemoryDatastore()),
    addresses: { listen: o.tcp === true ? ['/ip4/127.0.0.1/tcp/0', memoryAddress] : [memoryAddress] },
    transports: o.tcp === true ? [tcp(), memory()] : [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: Infinity, maxConnections: 1000 },
    connectionGater: gater(o.never ?? [], cut),
    services: {
      identify: identify(),
      ping: ping({ maxOutboundStreams: PING_STREAMS, maxInboundStreams: PING_STREAMS }),
      pubsub: gossipsub({ globalSignaturePolicy: 'StrictNoSign', allowPublishToZeroTopicPeers: true, emitSelf: false }),
      dht: kadDHT({ protocol: DHT_PROTOCOL, validators: o.validators ?? dhtValidators, selectors: dhtSelectors, clientMode: false, peerInfoMapper: passthroughMapper, allowQueryWithZeroPeers: true })
    }
  }) as unknown as KadmiumLibp2p
  cuts.set(libp2p, cut)
  return {
    libp2p,
    privateKey,
    storages,
    storage (name) {
      let storage = storages.get(name)
      if (storage === undefined) storages.set(name, storage = memoryStorage())
      // The database closes what it is given: hand it a view whose close keeps the data.
      return keepOpen(storage)
    },
    async close () {
      await libp2p.stop()
    }
  }
}

/** A gater that refuses connections with `never`, and with the peers in `cut` for now, dialled or accepted. */
function gater (never: readonly PeerId[], cut: ReadonlySet<string>): ConnectionGater {
  const refused = (peer: PeerId): boolean => cut.has(peer.toString()) || never.some((p) => p.equals(peer))
  return { denyDialPeer: refused, denyInboundEncryptedConnection: refused, denyOutboundEncryptedConnection: refused }
}

/** Dials `b` from `a` (healing a {@link disconnect}), retrying the occasional failed simultaneous dial. */
export async function connect (a: Peer, b: Peer): Promise<void> {
  cuts.get(a.libp2p)?.delete(b.libp2p.peerId.toString())
  cuts.get(b.libp2p)?.delete(a.libp2p.peerId.toString())
  for (let attempt = 0; ; attempt++) {
    try {
      await a.libp2p.dial(b.libp2p.getMultiaddrs(), { signal: AbortSignal.timeout(5000) })
      return
    } catch (error) {
      if (attempt >= 4) throw error
    }
  }
}

/**
 * Partitions two peers until {@link connect} joins them again: closes every
 * connection between them and refuses new ones either way. (Closing alone
 * would not last: a DHT query of either may dial the other a moment later.)
 */
export async function disconnect (a: Peer, b: Peer): Promise<void> {
  cuts.get(a.libp2p)?.add(b.libp2p.peerId.toString())
  cuts.get(b.libp2p)?.add(a.libp2p.peerId.toString())
  await a.libp2p.hangUp(b.libp2p.peerId)
}

/** Peers in a node's kad-dht routing table (a DHT query reaches no one until it is above 0). */
export function routingTableSize (peer: Peer): number {
  return (peer.libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
}

/** Replication without timers: catch-up and discovery run only when a test causes them (a connection, a subscription). */
export const NO_TIMERS = Object.freeze({ discoveryInterval: 3_600_000, syncInterval: 3_600_000 })

/**
 * Lists for the peers and databases a test file opens: once the file's
 * tests are done, the databases are closed, then the peers.
 */
export function closedAfterFile (): { readonly peers: TestPeer[], readonly dbs: Database[] } {
  const opened = { peers: [] as TestPeer[], dbs: [] as Database[] }
  after(async () => {
    for (const db of opened.dbs) await db.close().catch(() => {})
    for (const p of opened.peers) await p.close().catch(() => {})
  })
  return opened
}
