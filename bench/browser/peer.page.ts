/**
 * The `browser` scenario's page of peers: a page opening a database by
 * address through a `kadmium serve` (catch-up), and for the propagation
 * over WebRTC two libp2p nodes per page — a Kadmium `browserPeer`, and a
 * bare libp2p node with gossipsub alone (the baseline): the same
 * transports (WebSockets, WebRTC-Direct, WebRTC with the circuit relay
 * transport for its signalling), noise, yamux, identify, and gossipsub
 * configured as Kadmium's profile configures it, on the local network.
 * Times crossing pages are epoch ms (`performance.timeOrigin +
 * performance.now()`); the Node side pairs the two directions so that a
 * difference of the pages' clocks cancels out.
 * @module
 */
import { createDatabase, type Database, type Unsubscribe } from '@kadmium/core'
import { kadmiumLibp2pOptions } from '@kadmium/core/profile'
import { browserPeer, deleteIndexedDbStorage, indexedDbStorage, type BrowserPeer } from '@kadmium/browser'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import { webRTC, webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { exposePage } from '../../packages/browser-adapter/test/fixtures/browser/expose.ts'
import { QUIET_BROWSER_REPLICATION, type CatchUp, type CatchUpOptions, type PagePeers, type PeerActions, type StartOptions, type Which } from '../lib/browser-protocol.ts'
import { COLLECTION, todo, todoSchema, waitUntil, type Todos } from './records.ts'

/** The bare node's topic. */
const RAW_TOPIC = '/kadmium-bench/browser-propagation'
/** No STUN server: nothing to reach but the other page. */
const RTC = { rtcConfiguration: { iceServers: [] } }
const POLL_MS = 5

type BareNode = Libp2p<{ identify: Identify, pubsub: GossipSub }>

let peer: BrowserPeer | undefined
let bare: BareNode | undefined
let db: Database | undefined
let collection: Todos | undefined
let stopWatching: Unsubscribe | undefined
/** The todo the Kadmium samples update. */
let watched: string | undefined
/** Sample `seq` of each kind → when it arrived here (epoch ms). */
const arrivals: Record<Which, Map<number, number>> = { kadmium: new Map(), bare: new Map() }
/** The sizes of the Kadmium envelopes delivered here on the database's topic. */
const envelopes: number[] = []

const now = (): number => performance.timeOrigin + performance.now()

function need<T> (value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} first`)
  return value
}

/** A bare libp2p node: Kadmium's transports, connection settings, noise, yamux, identify and gossipsub; no DHT, no Kadmium. */
async function bareNode (): Promise<BareNode> {
  const profile = kadmiumLibp2pOptions({ network: 'local', dhtMode: 'client' })
  return await createLibp2p({
    connectionEncrypters: profile.connectionEncrypters,
    streamMuxers: profile.streamMuxers,
    ...(profile.connectionManager === undefined ? {} : { connectionManager: profile.connectionManager }),
    ...(profile.connectionGater === undefined ? {} : { connectionGater: profile.connectionGater }),
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [webSockets(), webRTCDirect(RTC), webRTC(RTC), circuitRelayTransport()],
    services: { identify: profile.services.identify, pubsub: profile.services.pubsub }
  })
}

/** The first relayed WebRTC address of a node, if it has one yet. */
function webrtcAddress (addresses: ReadonlyArray<{ toString: () => string }>): string | undefined {
  return addresses.map(String).find((a) => a.includes('/p2p-circuit/webrtc/'))
}

/** Whether `node` has a direct WebRTC connection (not relayed) to `id`. */
function direct (node: Libp2p, id: string): boolean {
  return node.getConnections().some((c) => c.remotePeer.toString() === id && c.limits === undefined && c.remoteAddr.toString().includes('/webrtc/'))
}

function pubsubOf (which: Which): GossipSub {
  return which === 'bare' ? need(bare, 'start').services.pubsub : need(peer, 'start').libp2p.services.pubsub
}

/** Peers in `which`'s gossipsub mesh of `topic` (a method gossipsub has but does not type, as bench/lib/net.ts reads it). */
function meshPeers (which: Which, topic: string): number {
  return (pubsubOf(which) as unknown as { getMeshPeers: (topic: string) => readonly string[] }).getMeshPeers(topic).length
}

/** A payload of `bytes` random bytes whose first 4 carry `seq`. */
function tagged (bytes: number, seq: number): Uint8Array {
  const data = new Uint8Array(Math.max(bytes, 4))
  crypto.getRandomValues(data)
  new DataView(data.buffer).setUint32(0, seq)
  return data
}

export const actions: PeerActions = {
  catchUp: async ({ bootstrap, address, records, round }: CatchUpOptions): Promise<CatchUp> => {
    const suffix = `-bench-${round}`
    const names: string[] = []
    const t0 = performance.now()
    const started = await browserPeer({
      network: 'local',
      bootstrap,
      relayed: false,
      rtcConfiguration: RTC.rtcConfiguration,
      peerStore: `kadmium-peer${suffix}`,
      storage: (name) => {
        names.push(name + suffix)
        return indexedDbStorage(name + suffix)
      }
    })
    let opened: Database | undefined
    try {
      await waitUntil('a connection to the server', () => started.libp2p.getConnections().length > 0, 15_000, 1)
      const connected = performance.now()
      opened = await createDatabase({ address, peer: started, replication: QUIET_BROWSER_REPLICATION, openTimeout: 15_000 })
      const manifest = performance.now()
      const rows = opened.collection(COLLECTION, { schema: todoSchema })
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { stop(); reject(new Error(`not every record of ${records} readable within 30 s`)) }, 30_000)
        const stop = rows.subscribe({}, (all) => {
          if (all.length < records) return
          clearTimeout(timer)
          // Called back during subscribe for a database already complete: stop once subscribe returned.
          queueMicrotask(() => { stop() })
          resolve()
        })
      })
      const done = performance.now()
      return { fromStartMs: done - t0, fromOpenMs: done - connected, connectMs: connected - t0, manifestMs: manifest - connected }
    } finally {
      await opened?.close()
      await started.close()
      for (const name of [...names, `kadmium-peer${suffix}`]) await deleteIndexedDbStorage(name)
    }
  },

  start: async ({ bootstrap, label }: StartOptions, boundMs: number): Promise<PagePeers> => {
    peer = await browserPeer({
      network: 'local',
      bootstrap,
      rtcConfiguration: RTC.rtcConfiguration,
      peerStore: `kadmium-peer-${label}`,
      storage: (name) => indexedDbStorage(`${name}-${label}`)
    })
    bare = await bareNode()
    for (const address of bootstrap) await bare.dial(multiaddr(address))
    const kadmiumPeer = peer
    const bareNodeStarted = bare
    let k: string | undefined
    let b: string | undefined
    await waitUntil('relayed WebRTC addresses', () => {
      k = webrtcAddress(kadmiumPeer.multiaddrs)
      b = webrtcAddress(bareNodeStarted.getMultiaddrs())
      return k !== undefined && b !== undefined
    }, boundMs, 25)
    return { kadmium: { id: kadmiumPeer.peerId.toString(), webrtc: k as string }, bare: { id: bareNodeStarted.peerId.toString(), webrtc: b as string } }
  },

  connect: async (other: PagePeers, boundMs: number): Promise<void> => {
    const k = need(peer, 'start')
    const b = need(bare, 'start')
    await k.dial(other.kadmium.webrtc, { attempts: 5 })
    await b.dial(multiaddr(other.bare.webrtc), { signal: AbortSignal.timeout(boundMs) })
    await waitUntil('direct WebRTC connections', () => direct(k.libp2p, other.kadmium.id) && direct(b, other.bare.id), boundMs, 25)
  },

  ready: async (other: PagePeers, boundMs: number): Promise<boolean> => {
    const k = need(peer, 'start')
    const b = need(bare, 'start')
    const opened = need(db, 'open a database')
    const topic = `/kadmium/db/${opened.address}`
    await waitUntil('direct connections, subscriptions', () =>
      direct(k.libp2p, other.kadmium.id) && direct(b, other.bare.id) &&
      opened.status.peers >= 1 && b.services.pubsub.getSubscribers(RAW_TOPIC).some((p) => p.toString() === other.bare.id), boundMs, 25)
    // The mesh forms at gossipsub's heartbeat (1 s); floodPublish reaches a subscribed neighbour before that anyway.
    return await waitUntil('gossipsub meshes', () => meshPeers('kadmium', topic) >= 1 && meshPeers('bare', RAW_TOPIC) >= 1, boundMs, 25)
      .then(() => true, () => false)
  },

  create: async (name: string): Promise<{ address: string, id: string }> => {
    db = await createDatabase({ name, peer: need(peer, 'start'), replication: QUIET_BROWSER_REPLICATION })
    collection = db.collection(COLLECTION, { schema: todoSchema })
    const id = await collection.insert(todo(1))
    return { address: db.address, id }
  },

  open: async (address: string, id: string, boundMs: number): Promise<void> => {
    db = await createDatabase({ address, peer: need(peer, 'start'), replication: QUIET_BROWSER_REPLICATION, openTimeout: boundMs })
    const rows = db.collection(COLLECTION, { schema: todoSchema })
    collection = rows
    await waitUntil(`todo ${id}`, async () => (await rows.get(id, { network: false })) !== undefined, boundMs, 25)
  },

  watch: async (id: string): Promise<void> => {
    const rows = need(collection, 'open a database')
    const topic = `/kadmium/db/${need(db, 'open a database').address}`
    watched = id
    stopWatching = rows.subscribe(id, (row) => {
      const seq = /^p(\d+)$/.exec(row?.title ?? '')?.[1]
      if (seq !== undefined && !arrivals.kadmium.has(Number(seq))) arrivals.kadmium.set(Number(seq), now())
    })
    pubsubOf('kadmium').addEventListener('message', (event) => {
      if (event.detail.topic === topic) envelopes.push(event.detail.data.length)
    })
    const raw = pubsubOf('bare')
    raw.addEventListener('message', (event) => {
      if (event.detail.topic !== RAW_TOPIC) return
      const data = event.detail.data
      const seq = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0)
      if (!arrivals.bare.has(seq)) arrivals.bare.set(seq, now())
    })
    raw.subscribe(RAW_TOPIC)
  },

  send: async (which: Which, seq: number, bytes: number): Promise<number> => {
    if (which === 'bare') {
      const data = tagged(bytes, seq)
      const t0 = now()
      await pubsubOf('bare').publish(RAW_TOPIC, data)
      return t0
    }
    const rows = need(collection, 'open a database')
    const opened = need(db, 'open a database')
    const id = need(watched, 'watch')
    const t0 = now()
    await rows.update(id, (t) => { t.title = `p${seq}` })
    // The write's DHT put, in the background: waited for, so that it does not spill into the next sample.
    await waitUntil('the write\'s DHT put', () => opened.status.pendingWrites === 0, 20_000, POLL_MS)
    return t0
  },

  arrival: async (which: Which, seq: number, boundMs: number): Promise<number> => {
    await waitUntil(`sample ${seq} (${which})`, () => arrivals[which].has(seq), boundMs, 1)
    const at = arrivals[which].get(seq) as number
    arrivals[which].delete(seq)
    return at
  },

  envelopeBytes: async (): Promise<number> => {
    const sorted = [...envelopes].sort((a, b) => a - b)
    return sorted[sorted.length >> 1] ?? 200
  },

  close: async (): Promise<void> => {
    stopWatching?.()
    await db?.close()
    db = undefined
    collection = undefined
    await bare?.stop()
    bare = undefined
    await peer?.close()
    peer = undefined
  }
}

exposePage({ actions })
