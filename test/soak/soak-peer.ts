/**
 * A soak peer, in an OS process of its own: `nodePeer` (TCP on 127.0.0.1,
 * LevelDB, its key and DHT records in its data directory) with the soak
 * database open, writing at the rate the run asks, and reporting its
 * memory, backlog and what it sent and received every sample period.
 * The heap reported is the heap used right after the last full (major)
 * GC, i.e. what was live then; V8 runs one every few seconds under load,
 * and if none ran for {@link STALE_HEAP_MS} the sample forces one (run with
 * `--expose-gc`). Forcing one every sample would pause every peer each
 * period and show in the propagation times.
 * @module
 */
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import * as Y from 'yjs'
import { createDatabase, NotFoundError } from '@kadmium/core'
import { nodePeer } from '@kadmium/node'
import { Item, stableJson, type Snapshot } from '../chaos/chaos-node.ts'
import { seeded } from '../chaos/random.ts'
import { Meter } from './meter.ts'
import type { PeerConfig, PeerMessage, PeerSample, Request, Retained } from './protocol.ts'
import { Writer, type Items } from './writer.ts'

const config = JSON.parse(process.argv[2] ?? '{}') as PeerConfig
const started = Date.now()
const send = (message: PeerMessage): void => { process.send?.(message) }
const peer = await nodePeer({ dataDir: config.dir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: config.bootstrap, mdns: false, network: 'local' })
const db = await createDatabase({ name: 'soak', peer })
const items: Items = db.collection('items', { schema: Item, text: ['title'] })
let rejected = 0
db.on('rejected', () => { rejected++ })
const writer = new Writer(items, config.index, seeded(config.seed))
await writer.prepare()
const meter = new Meter(items, config.peers.filter((p) => p !== config.index), started)

/** The longest a heap reading may be old before a sample forces a full GC (ms). */
const STALE_HEAP_MS = 30_000
const gc = (globalThis as { gc?: () => void }).gc
let liveHeap = { heap: process.memoryUsage().heapUsed, at: 0 }
new PerformanceObserver((list) => {
  if (list.getEntries().some((e) => (e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
    liveHeap = { heap: process.memoryUsage().heapUsed, at: Date.now() }
  }
}).observe({ entryTypes: ['gc'] })
const loop = monitorEventLoopDelay({ resolution: 10 })
loop.enable()
let cpu = process.cpuUsage()
const sampler = setInterval(() => {
  if (Date.now() - liveHeap.at > STALE_HEAP_MS && gc !== undefined) {
    gc()
    liveHeap = { heap: process.memoryUsage().heapUsed, at: Date.now() }
  }
  const memory = process.memoryUsage()
  const status = db.status
  const used = process.cpuUsage(cpu)
  cpu = process.cpuUsage()
  const w = writer.take()
  const m = meter.take()
  const sample: PeerSample = {
    t: Date.now(),
    rss: memory.rss,
    heap: liveHeap.heap,
    external: memory.external + memory.arrayBuffers,
    pendingWrites: status.pendingWrites,
    dhtWaiting: status.dht?.waiting ?? 0,
    dhtParked: status.dht?.parked ?? 0,
    republishing: status.dht?.republishing ?? 0,
    dropped: status.droppedEnvelopes,
    peers: status.peers,
    writes: w.writes,
    failed: w.failed,
    skipped: w.skipped,
    inFlight: writer.inFlight,
    changes: m.changes,
    propagation: m.propagation,
    rejected,
    cpuMs: (used.user + used.system) / 1000,
    loopP99: loop.percentile(99) / 1e6
  }
  rejected = 0
  loop.reset()
  send({ sample })
}, config.sampleMs)

/** What this peer holds: records as JSON and their Yjs state vectors. */
async function snapshot (): Promise<Snapshot> {
  const records: Record<string, string> = {}
  const vectors: Record<string, Record<string, number>> = {}
  for (const row of await items.find()) {
    records[row.id] = stableJson(row)
    // A record its index lists whose content has not arrived yet: no state (the replicas do not agree yet).
    const doc = await items.doc(row.id).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined
      throw error
    })
    vectors[row.id] = doc === undefined ? {} : Object.fromEntries([...Y.decodeStateVector(Y.encodeStateVector(doc))].map(([client, clock]) => [String(client), clock]))
  }
  return { records, vectors, writers: [] }
}

async function close (): Promise<void> {
  clearInterval(sampler)
  await writer.stop()
  meter.stop()
  await db.close().catch(() => {})
  await peer.close()
}

const methods: Record<Request['method'], (arg: unknown) => Promise<unknown>> = {
  load: async (perSecond) => { writer.start(perSecond as number) },
  'stop-load': async () => { await writer.stop() },
  sync: async () => { await db.sync() },
  snapshot,
  memory: async (): Promise<Retained> => {
    // Twice: what the first one finalizes, the second frees.
    gc?.()
    gc?.()
    const memory = process.memoryUsage()
    return { rss: memory.rss, heap: memory.heapUsed }
  },
  close: async () => {
    await close()
    setImmediate(() => process.exit(0))
  }
}

process.on('message', (message: Request) => {
  methods[message.method](message.arg).then(
    (result) => { send({ id: message.id, result }) },
    (error: unknown) => { send({ id: message.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }) }
  )
})
// The run gone: nothing to serve.
process.on('disconnect', () => { void close().finally(() => process.exit(0)) })
send({ ready: { id: peer.peerId.toString(), addresses: peer.multiaddrs.map(String), address: db.address } })
