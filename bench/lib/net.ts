/**
 * What the network scenarios share: Kadmium peers (`nodePeer` on TCP
 * loopback) and bare libp2p nodes configured like them, all started in a
 * {@link NetSandbox} that stops every one of them; bounded waits; and
 * latency percentiles.
 *
 * Only 127.0.0.1 is ever listened on or dialed.
 * @module
 */
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { kadmiumLibp2pOptions } from '@kadmium/core/profile'
import { nodePeer, type NodePeer, type NodePeerOptions } from '@kadmium/node'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { KadDHT, QueryEvent } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { makeTempDir, removeTempDir } from './tempdir.ts'

/** The one address network scenarios listen on: TCP on loopback, port chosen by the system. */
export const LOOPBACK_TCP: readonly string[] = Object.freeze(['/ip4/127.0.0.1/tcp/0'])

/** Catch-up and discovery only when a scenario asks (on connect and `db.sync()`): no periodic bursts during measurements. */
export const QUIET_REPLICATION = Object.freeze({ syncInterval: 3_600_000, discoveryInterval: 3_600_000 })

/** The services of a bare node: always identify and ping, gossipsub and kad-dht when asked. */
export interface BareServices {
  identify: Identify
  ping: Ping
  pubsub?: GossipSub
  dht?: KadDHT
  [name: string]: unknown
}

/** A libp2p node without Kadmium. */
export type BareNode = Libp2p<BareServices>

/** What a bare node runs besides identify and ping (all of them from Kadmium's profile, network 'local', as `nodePeer` configures them). */
export interface BareNodeOptions {
  /** gossipsub configured like `nodePeer`'s: no signing, mesh degrees 8/6/12/3, loopback exempt from IP-colocation scoring. */
  readonly gossip?: boolean
  /**
   * kad-dht configured like `nodePeer`'s (Kadmium's protocol, validators and
   * selectors, server mode), on libp2p's in-memory datastore, unwrapped: a
   * raw kad-dht server, which replaces heads instead of merging them.
   */
  readonly dht?: boolean
}

/** When a {@link NetSandbox} stops something: `first` (databases), then `nodes`. */
export type Stage = 'first' | 'nodes'

/** Bounds every stop. */
const STOP_MS = 15_000

/**
 * Peers and nodes a scenario starts, and the directory they keep data in.
 * `close()` stops all of them (each stop bounded) and removes the directory.
 */
export class NetSandbox {
  readonly #root: string
  readonly #closers: Array<{ readonly what: string, readonly close: () => Promise<void>, readonly stage: Stage }> = []
  #count = 0

  constructor (label: string) {
    this.#root = makeTempDir(label)
  }

  /** A fresh path inside the sandbox's directory. */
  path (name: string): string {
    return join(this.#root, `${name}-${this.#count++}`)
  }

  /** Starts a Kadmium peer: TCP on 127.0.0.1, LevelDB, local network mode, no mDNS. */
  async peer (name: string, options: Partial<NodePeerOptions> = {}): Promise<NodePeer> {
    const peer = await nodePeer({ dataDir: this.path(name), listen: [...LOOPBACK_TCP], mdns: false, network: 'local', ...options })
    this.track(`peer ${name}`, async () => peer.close(), 'nodes')
    return peer
  }

  /** Starts a bare libp2p node on 127.0.0.1 (TCP, and noise, yamux and the local connection settings of Kadmium's profile, like `nodePeer`). */
  async bare (options: BareNodeOptions = {}): Promise<BareNode> {
    // No datastore: libp2p's own in-memory one, not wrapped with the head-merging one.
    const kadmium = kadmiumLibp2pOptions({ network: 'local', dhtMode: 'server' })
    const { identify, ping, pubsub, dht } = kadmium.services
    const services = {
      identify,
      ping,
      ...(options.gossip === true ? { pubsub } : {}),
      ...(options.dht === true ? { dht } : {})
    }
    const init: Libp2pOptions<BareServices> = {
      ...kadmium,
      addresses: { listen: [...LOOPBACK_TCP] },
      transports: [tcp()],
      services
    }
    const node = await createLibp2p<BareServices>(init)
    this.track('bare node', async () => node.stop(), 'nodes')
    return node
  }

  /**
   * Registers something to stop at `close()`: first everything of stage
   * `'first'` (databases, subscriptions), then of `'nodes'` (peers, nodes,
   * their storage), each stage all at once.
   */
  track (what: string, close: () => Promise<void>, stage: Stage = 'first'): void {
    this.#closers.push({ what, close, stage })
  }

  /** Stops everything started here (each stop bounded), then removes the directory. Never throws: resolves the problems met. */
  async close (): Promise<string[]> {
    const closers = this.#closers.splice(0)
    const problems: string[] = []
    for (const stage of ['first', 'nodes'] satisfies Stage[]) {
      await Promise.all(closers.filter((c) => c.stage === stage).map(async ({ what, close }) => {
        try {
          await bounded(close(), STOP_MS, `stopping ${what}`)
        } catch (error) {
          problems.push(`${what}: ${(error as Error).message}`)
        }
      }))
    }
    await removeTempDir(this.#root).catch(() => {})
    return problems
  }
}

/** Runs `fn` with a sandbox that is always closed afterwards. */
export async function withSandbox<T> (label: string, log: (line: string) => void, fn: (sandbox: NetSandbox) => Promise<T>): Promise<T> {
  const sandbox = new NetSandbox(label)
  try {
    return await fn(sandbox)
  } finally {
    const problems = await sandbox.close()
    for (const p of problems) log(`cleanup: ${p}`)
  }
}

/** Rejects if `promise` does not settle within `ms` (the promise itself goes on). */
export async function bounded<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`timed out after ${ms} ms: ${what}`)) }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves once `check` holds; rejects naming `what` after `timeoutMs`. */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, everyMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!await check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/**
 * Waits until this process's event loop is mostly idle (below `busy`
 * utilisation over a `windowMs` window), `maxMs` at most: many peers in one
 * process start with seconds of DHT routing-table refreshes and dials, and
 * what is measured then measures those. Resolves how long it waited and
 * whether the loop went quiet.
 */
export async function waitForQuiet (maxMs = 60_000, busy = 0.5, windowMs = 1_000): Promise<{ waitedMs: number, quiet: boolean }> {
  const start = performance.now()
  for (;;) {
    const before = performance.eventLoopUtilization()
    await sleep(windowMs)
    const waitedMs = performance.now() - start
    if (performance.eventLoopUtilization(before).utilization < busy) return { waitedMs, quiet: true }
    if (waitedMs >= maxMs) return { waitedMs, quiet: false }
  }
}

/**
 * Exits the process if a scenario overruns `ms` by far (a hung socket or
 * stop): the harness then reports the scenario as failed instead of
 * waiting forever. Returns the function that disarms it.
 */
export function watchdog (ms: number, what: string): () => void {
  const timer = setTimeout(() => {
    process.stderr.write(`${what}: still running after ${Math.round(ms / 1000)} s; exiting\n`)
    process.exit(3)
  }, ms)
  timer.unref()
  return () => { clearTimeout(timer) }
}

/** Anything that can dial: a bare node or a Kadmium peer's libp2p. */
interface Dialer {
  dial (target: Multiaddr | Multiaddr[] | PeerId, options?: { signal?: AbortSignal }): Promise<unknown>
  getMultiaddrs (): Multiaddr[]
}

/** Connects `from` to `to` (its loopback addresses), retrying the occasional failed simultaneous dial. */
export async function connect (from: Dialer, to: Dialer, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await from.dial(to.getMultiaddrs(), { signal: AbortSignal.timeout(5_000) })
      return
    } catch (error) {
      if (attempt >= attempts) throw error
      await sleep(20 * attempt + Math.random() * 30)
    }
  }
}

/** The `p`-th percentile (0–100) of the values, by linear interpolation between closest ranks. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p / 100) * (sorted.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  const a = sorted[lo] as number
  const b = sorted[hi] as number
  return a + (b - a) * (rank - lo)
}

/** A small deterministic PRNG (mulberry32), so that a random topology is the same on every run. */
export function seededRandom (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Edges of a connected random graph on `n` nodes: node `i` dials `degree`
 * distinct random nodes among `0..i-1` (all of them while `i <= degree`).
 */
export function randomTopology (n: number, degree: number, seed = 1): Array<[number, number]> {
  const random = seededRandom(seed)
  const edges: Array<[number, number]> = []
  for (let i = 1; i < n; i++) {
    const earlier = Array.from({ length: i }, (_, j) => j)
    for (let k = 0; k < Math.min(degree, i); k++) {
      const pick = Math.floor(random() * earlier.length)
      edges.push([i, earlier.splice(pick, 1)[0] as number])
    }
  }
  return edges
}

/** How many mesh peers a gossipsub node has on `topic` (the method is on gossipsub's class, not its interface). */
export function meshPeers (pubsub: GossipSub, topic: string): number {
  return (pubsub as unknown as { getMeshPeers: (topic: string) => readonly string[] }).getMeshPeers(topic).length
}

/** Random bytes of `size`, with `tag` in the first 4 bytes (big-endian), so that a receiver can tell samples apart. */
export function taggedPayload (size: number, tag: number): Uint8Array {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.max(size, 8)))
  new DataView(bytes.buffer).setUint32(0, tag)
  return bytes
}

/** The tag {@link taggedPayload} put in `bytes`. */
export function payloadTag (bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0)
}

/** kad-dht query events counted during an operation. */
export interface DhtTally {
  /** kad-dht calls (get, put, provide, ...) started. */
  calls: number
  /** Of which `get`s. */
  gets: number
  /** Of which `put`s. */
  puts: number
  /** Requests sent to peers (`SEND_QUERY`). */
  sent: number
  /** Responses received from peers (`PEER_RESPONSE`): the hops the lookups took, summed over calls. */
  responses: number
  /** New streams dialed for queries (`DIAL_PEER`). */
  dials: number
  /** Failed requests (`QUERY_ERROR`). */
  errors: number
}

const WRAPPED = ['get', 'put', 'provide', 'findProviders', 'getClosestPeers', 'findPeer'] as const

/**
 * Counts what a node's kad-dht does: how many of its own queries are in
 * flight (to wait for quiet), and their events (hop counts). It wraps the
 * service's query methods on that one instance; Kadmium and the raw
 * baseline both call them through `libp2p.services.dht`, so both are seen.
 */
export class DhtProbe {
  #active = 0
  #tally: DhtTally = emptyTally()

  constructor (dht: KadDHT) {
    const target = dht as unknown as Record<string, (...args: unknown[]) => AsyncIterable<QueryEvent>>
    const enter = (method: string): void => {
      this.#active++
      this.#tally.calls++
      if (method === 'get') this.#tally.gets++
      else if (method === 'put') this.#tally.puts++
    }
    const leave = (): void => { this.#active-- }
    const count = (event: QueryEvent): void => { this.#count(event) }
    for (const method of WRAPPED) {
      const original = target[method]
      if (typeof original !== 'function') continue
      const bound = original.bind(dht)
      target[method] = async function * (...args: unknown[]): AsyncGenerator<QueryEvent> {
        enter(method)
        try {
          for await (const event of bound(...args)) {
            count(event)
            yield event
          }
        } finally {
          leave()
        }
      }
    }
  }

  /** Queries of this node in flight. */
  get active (): number {
    return this.#active
  }

  /** Starts a new tally; returns the one that ends. */
  reset (): DhtTally {
    const tally = this.#tally
    this.#tally = emptyTally()
    return tally
  }

  #count (event: QueryEvent): void {
    if (event.name === 'SEND_QUERY') this.#tally.sent++
    else if (event.name === 'PEER_RESPONSE') this.#tally.responses++
    else if (event.name === 'DIAL_PEER') this.#tally.dials++
    else if (event.name === 'QUERY_ERROR') this.#tally.errors++
  }
}

function emptyTally (): DhtTally {
  return { calls: 0, gets: 0, puts: 0, sent: 0, responses: 0, dials: 0, errors: 0 }
}

/** Waits until none of the probes' nodes has a query in flight, for `quietMs` in a row. */
export async function dhtQuiet (probes: readonly DhtProbe[], quietMs = 100, timeoutMs = 20_000): Promise<void> {
  let since = performance.now()
  await waitFor('the DHT to go quiet', () => {
    if (probes.some((p) => p.active > 0)) since = performance.now()
    return performance.now() - since >= quietMs
  }, timeoutMs, 10)
}
