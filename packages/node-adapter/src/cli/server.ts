/**
 * `kadmium serve`: an always-on peer. A Node peer (kad-dht in server mode,
 * gossipsub, TCP and WebSockets, a circuit relay server for browsers) that
 * keeps the databases it pins as full replicas on disk — opened by
 * address, live on their topics, caught up on connect, served to catch-up
 * and put in the DHT — and takes `pin`, `unpin` and `status` on its
 * control socket.
 * @module
 */
import type { Server as HttpServer } from 'node:http'
import type { Server as SocketServer } from 'node:net'
import { createDatabase, InvalidArgumentError, isDatabaseAddress, type Database, type ReplicationOptions } from '@kadmium/core'
import { nodePeer, type NodePeer } from '../node-peer.ts'
import type { NetworkMode } from '../node-peer-options.ts'
import { anyRecord } from './any-record.ts'
import { serveControl } from './control.ts'
import { Counters, serveMetrics, type MetricsSource } from './metrics.ts'
import { readPins, writePins } from './pins.ts'
import type { PinStatus, ServerStatus } from './server-status.ts'

export type { PinStatus, ServerStatus }

/** What `serve` was given. */
export interface ServeOptions {
  readonly dataDir: string
  readonly listen: readonly string[]
  readonly announce: readonly string[]
  readonly bootstrap: readonly string[]
  /** Addresses to pin besides those kept in the data directory. */
  readonly pins: readonly string[]
  readonly network: NetworkMode
  readonly mdns: boolean
  /** How long one attempt to open a pinned database by address waits for its manifest (ms). */
  readonly openTimeout: number
  /** Where the server says what it does (a line at a time). */
  readonly log: (line: string) => void
  /** Serve `/metrics` and `/health` on this address. */
  readonly metrics?: { readonly host: string, readonly port: number }
  /** Replication options of every pinned database (intervals, the DHT's republishing and its clock). */
  readonly replication?: ReplicationOptions
}

/** A pinned database: open, or being opened (again, after a failure). */
interface Pin {
  db?: Database
  /** Stops counting its events for the metrics. */
  unwatch?: () => void
  /** Why the last attempt to open it failed. */
  error?: string
  retry?: ReturnType<typeof setTimeout>
  opening?: Promise<void>
}

/** Retry of a pinned database that could not be opened (ms). */
const REOPEN_EVERY = 30_000

/** A running server: see {@link startServer}. */
export class KadmiumServer {
  readonly peer: NodePeer
  readonly #options: ServeOptions
  readonly #pins = new Map<string, Pin>()
  #control: SocketServer | undefined
  #metrics: HttpServer | undefined
  readonly #counters = new Counters()
  #closing: Promise<void> | undefined

  private constructor (peer: NodePeer, options: ServeOptions) {
    this.peer = peer
    this.#options = options
  }

  /** Starts the peer, its control socket, and opens every pin. */
  static async start (options: ServeOptions): Promise<KadmiumServer> {
    const peer = await nodePeer({
      dataDir: options.dataDir,
      listen: options.listen,
      announce: options.announce,
      bootstrap: options.bootstrap,
      network: options.network,
      mdns: options.mdns,
      relay: true
    })
    const server = new KadmiumServer(peer, options)
    peer.on('damaged', (event) => { options.log(`${event.error.message}; set aside to ${event.setAsideTo}, begun empty, to be refilled by catch-up from peers`) })
    try {
      const bad = options.pins.find((pin) => !isDatabaseAddress(pin))
      if (bad !== undefined) throw new InvalidArgumentError(`--pin "${String(bad)}" is not a database address`)
      const pins = [...new Set([...await readPins(options.dataDir), ...options.pins])]
      await writePins(options.dataDir, pins)
      server.#control = await serveControl(options.dataDir, async (request) => {
        switch (request.op) {
          case 'pin': return server.pin(request.address)
          case 'unpin': return server.unpin(request.address)
          case 'status': return server.status()
        }
      })
      for (const address of pins) server.#open(address)
      if (options.metrics !== undefined) server.#metrics = await serveMetrics(options.metrics, server.#metricsSource(), server.#counters, () => server.#closing === undefined)
    } catch (error) {
      await server.close()
      throw error
    }
    return server
  }

  /** Pins a database: kept in the data directory, opened now. Resolves once it is open, or its first attempt failed (it is retried). */
  async pin (address: string): Promise<PinStatus> {
    if (!isDatabaseAddress(address)) throw new InvalidArgumentError(`"${String(address)}" is not a database address`)
    const pins = await readPins(this.#options.dataDir)
    if (!pins.includes(address)) await writePins(this.#options.dataDir, [...pins, address])
    this.#open(address)
    await this.#pins.get(address)?.opening
    return this.#statusOf(address, this.#pins.get(address) ?? {})
  }

  /** Unpins a database: closed, no longer kept live (its data stays on disk). */
  async unpin (address: string): Promise<{ address: string, unpinned: boolean }> {
    const pins = await readPins(this.#options.dataDir)
    await writePins(this.#options.dataDir, pins.filter((p) => p !== address))
    const pin = this.#pins.get(address)
    if (pin === undefined) return { address, unpinned: pins.includes(address) }
    this.#pins.delete(address)
    clearTimeout(pin.retry)
    pin.unwatch?.()
    await pin.opening
    await pin.db?.close()
    this.#options.log(`unpinned ${address}`)
    return { address, unpinned: true }
  }

  /** The peer, its addresses and connections, and every pin. */
  async status (): Promise<ServerStatus> {
    return {
      peerId: this.peer.peerId.toString(),
      addresses: this.peer.multiaddrs.map(String),
      connections: this.peer.libp2p.getConnections().length,
      memory: { rssMB: Math.round(process.memoryUsage.rss() / 2 ** 20), heapUsedMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20) },
      pins: await Promise.all([...this.#pins].map(async ([address, pin]) => this.#statusOf(address, pin)))
    }
  }

  /** Where `/metrics` is served (`http://host:port/metrics`), if it is. */
  get metricsUrl (): string | undefined {
    const address = this.#metrics?.address()
    if (address === undefined || address === null || typeof address === 'string') return undefined
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `http://${host}:${address.port}/metrics`
  }

  #metricsSource (): MetricsSource {
    const open = (): Map<string, Database> => new Map([...this.#pins].flatMap(([address, pin]) => pin.db === undefined ? [] : [[address, pin.db] as const]))
    return {
      peer: this.peer,
      databases: open,
      opening: () => [...this.#pins.values()].filter((pin) => pin.db === undefined).length,
      records: async () => {
        const samples: Array<readonly [Record<string, string>, number]> = []
        for (const [address, db] of open()) {
          for (const name of await db.collectionNames()) samples.push([{ database: address, collection: name }, await db.collection(name, { schema: anyRecord }).size()])
        }
        return samples
      }
    }
  }

  /** Stops taking requests, closes every database (each stores what it holds), then the peer. Calling it again returns the same promise. */
  close (): Promise<void> {
    this.#closing ??= (async () => {
      const control = this.#control
      if (control !== undefined) await new Promise<void>((resolve) => { control.close(() => { resolve() }) })
      const metrics = this.#metrics
      if (metrics !== undefined) {
        metrics.closeAllConnections()
        await new Promise<void>((resolve) => { metrics.close(() => { resolve() }) })
      }
      const pins = [...this.#pins.values()]
      this.#pins.clear()
      for (const pin of pins) {
        clearTimeout(pin.retry)
        pin.unwatch?.()
      }
      await Promise.allSettled(pins.map(async (pin) => { await pin.opening; await pin.db?.close() }))
      await this.peer.close()
    })()
    return this.#closing
  }

  #open (address: string): void {
    if (this.#closing !== undefined) return
    let pin = this.#pins.get(address)
    if (pin === undefined) this.#pins.set(address, pin = {})
    if (pin.db !== undefined || pin.opening !== undefined) return
    const current = pin
    current.opening = (async () => {
      try {
        const db = await createDatabase({
          address,
          peer: this.peer,
          openTimeout: this.#options.openTimeout,
          ...(this.#options.replication !== undefined ? { replication: this.#options.replication } : {})
        })
        if (this.#pins.get(address) !== current || this.#closing !== undefined) {
          await db.close()
          return
        }
        current.db = db
        current.unwatch = this.#counters.watch(db)
        delete current.error
        this.#options.log(`pinned ${address} (database "${db.name}")`)
      } catch (error) {
        current.error = `${(error as Error).name}: ${(error as Error).message}`
        this.#options.log(`cannot open pinned ${address} yet (${current.error}); trying again in ${REOPEN_EVERY / 1000} s`)
        if (this.#pins.get(address) === current && this.#closing === undefined) {
          current.retry = setTimeout(() => { this.#open(address) }, REOPEN_EVERY)
        }
      } finally {
        delete current.opening
      }
    })()
  }

  async #statusOf (address: string, pin: Pin): Promise<PinStatus> {
    const db = pin.db
    if (db === undefined) return { address, state: 'opening', ...(pin.error !== undefined ? { error: pin.error } : {}) }
    const records: Record<string, number> = {}
    for (const name of await db.collectionNames()) records[name] = await db.collection(name, { schema: anyRecord }).size()
    const status = db.status
    return {
      address,
      name: db.name,
      state: 'open',
      records,
      ...(status.lastSync !== undefined ? { lastSync: status.lastSync.toISOString() } : {}),
      pendingWrites: status.pendingWrites,
      peers: status.peers,
      ...(status.dht !== undefined
        ? { dht: { waiting: status.dht.waiting, parked: status.dht.parked, republishing: status.dht.republishing, ...(status.dht.nextRepublish !== undefined ? { nextRepublish: status.dht.nextRepublish.toISOString() } : {}) } }
        : {})
    }
  }
}
