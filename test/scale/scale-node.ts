/**
 * One peer of a scale run, in its own process: `nodePeer()` as an app
 * runs it (the public profile in a network namespace, TCP on the
 * namespace's address, no mDNS, bootstrap peers), its databases, when each
 * peer's record arrived, and what the process costs.
 * @module
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createDatabase, type Collection, type CollectionInput, type CollectionType, type Database, type DhtStatus } from '@kadmium/core'
import { nodePeer, type NodePeer } from '@kadmium/node'
import { z } from 'zod'
import type { PeerPlace } from './lab.ts'

/** A scale run's records: a short text and a number. */
export const Note = z.object({ text: z.string(), n: z.number().int() })
type Notes = Collection<CollectionType<typeof Note>, CollectionInput<typeof Note>>

/** How the run starts a peer (plain data: it crosses the IPC channel). */
export interface StartConfig {
  readonly dataDir: string
  readonly place: PeerPlace
  /** Multiaddrs (with `/p2p/<id>`) of the bootstrap peers. */
  readonly bootstrap: readonly string[]
}

/** What a peer's process costs, cumulative since it started (CPU, traffic) or now (memory). */
export interface Usage {
  readonly rss: number
  /** Memory this process alone holds (bytes: private pages, `/proc/self/smaps_rollup`); RSS also counts the Node binary's pages every peer shares. */
  readonly privateBytes: number
  readonly heapUsed: number
  /** CPU time (µs), user + system, since the process started. */
  readonly cpuMicros: number
  /** Bytes and packets on its own interface since it was made; undefined on loopback (shared by every peer). */
  readonly net: { readonly rxBytes: number, readonly txBytes: number, readonly rxPackets: number, readonly txPackets: number } | undefined
  readonly connections: number
  /** Connections opened and closed since the node started (their churn). */
  readonly opened: number
  readonly closed: number
  /** Peers in its kad-dht routing table. */
  readonly routingTable: number
  /** Event-loop delay since the last report: p99 (ms). */
  readonly loopDelayP99: number
  /** When this was read (ms since 1970). */
  readonly at: number
}

/** A database a peer has open, and the records of peers it has seen arrive. */
interface OpenDatabase {
  readonly db: Database
  readonly notes: Notes
  /** Record id → when it arrived (ms since 1970): a peer's insert, live or caught up. */
  readonly arrivals: Map<string, number>
  /** Called on every arrival (waits for records). */
  readonly waiters: Set<() => void>
  /** Catch-up sessions started and failed, and input refused, since it opened. */
  readonly counts: { sessions: number, sessionErrors: number, sessionUpdates: number, rejected: number }
}

/** What a database says of its replication. */
export interface ReplicationState {
  readonly peers: number
  readonly pendingWrites: number
  readonly dht: DhtStatus | undefined
  /** Catch-up sessions started (either side) and failed since the database opened. */
  readonly sessions: number
  readonly sessionErrors: number
  /** Updates those sessions brought. */
  readonly sessionUpdates: number
  /** Input from peers refused since the database opened. */
  readonly rejected: number
}

/** A scale peer, running. */
export class ScaleNode {
  readonly peer: NodePeer
  readonly #iface: string | undefined
  readonly #databases = new Map<string, OpenDatabase>()
  readonly #loop = monitorEventLoopDelay({ resolution: 10 })
  readonly #connections = { opened: 0, closed: 0 }

  private constructor (peer: NodePeer, iface: string | undefined) {
    this.peer = peer
    this.#iface = iface
    this.#loop.enable()
    peer.libp2p.addEventListener('connection:open', () => { this.#connections.opened++ })
    peer.libp2p.addEventListener('connection:close', () => { this.#connections.closed++ })
  }

  /** Sets the peer's interface up (in its namespace), then starts its node. */
  static async start (config: StartConfig): Promise<ScaleNode> {
    const { place } = config
    if (place.configure !== undefined) {
      const { iface, cidr } = place.configure
      execFileSync('ip', ['link', 'set', 'lo', 'up'])
      // nodad: the address is usable at once (duplicate address detection would hold it back a second or more).
      execFileSync('ip', ['-6', 'addr', 'add', cidr, 'dev', iface, 'nodad'])
      execFileSync('ip', ['link', 'set', iface, 'up'])
    }
    const peer = await nodePeer({
      dataDir: config.dataDir,
      listen: [`${place.prefix}/tcp/${place.port}`],
      // libp2p 3 announces a public address only once something verified it (AutoNAT, which the profile does not
      // run): a peer on a public IP must announce its address itself, as `kadmium serve --announce` does.
      ...(place.network === 'public' ? { announce: [`${place.prefix}/tcp/${place.port}`] } : {}),
      bootstrap: [...config.bootstrap],
      mdns: false,
      network: place.network
    })
    return new ScaleNode(peer, place.configure?.iface)
  }

  /** Opens a database by name or address under `label`; resolves its address and how long the open took. */
  async open (label: string, target: { readonly name: string } | { readonly address: string }, openTimeout: number): Promise<{ address: string, ms: number }> {
    const started = performance.now()
    const db = await createDatabase({ ...target, peer: this.peer, openTimeout })
    const ms = performance.now() - started
    const notes = db.collection('notes', { schema: Note })
    const open: OpenDatabase = { db, notes, arrivals: new Map(), waiters: new Set(), counts: { sessions: 0, sessionErrors: 0, sessionUpdates: 0, rejected: 0 } }
    db.on('sync', (event) => {
      if (event.phase === 'start') open.counts.sessions++
      else if (event.phase === 'error') open.counts.sessionErrors++
      else if (event.phase === 'done') open.counts.sessionUpdates += event.done
    })
    db.on('rejected', () => { open.counts.rejected++ })
    notes.on('change', (event) => {
      if (event.origin !== 'remote' || event.type !== 'insert' || open.arrivals.has(event.id)) return
      open.arrivals.set(event.id, Date.now())
      for (const waiter of open.waiters) waiter()
    })
    this.#databases.set(label, open)
    return { address: db.address, ms }
  }

  /** Inserts a record; resolves when the insert was called and how long it took (with `replicas`, until that many DHT peers held it). */
  async write (label: string, id: string, text: string, n: number, replicas?: number): Promise<{ at: number, ms: number, error?: string }> {
    const { notes } = this.#database(label)
    const at = Date.now()
    const started = performance.now()
    try {
      await notes.insert({ text, n }, { id, ...(replicas !== undefined ? { durability: { replicas, timeout: 30_000 } } : {}) })
      return { at, ms: performance.now() - started }
    } catch (error) {
      return { at, ms: performance.now() - started, error: error instanceof Error ? error.name : String(error) }
    }
  }

  /** When each record of a peer arrived (record id → ms since 1970). */
  arrivals (label: string): Record<string, number> {
    return Object.fromEntries(this.#database(label).arrivals)
  }

  /**
   * Waits until the database holds every record of `ids` (or `timeoutMs`
   * passed); resolves ms since 1970 when it held the last one, or
   * undefined, and how many it holds.
   */
  async waitFor (label: string, ids: readonly string[], timeoutMs: number): Promise<{ at: number | undefined, have: number }> {
    const open = this.#database(label)
    const missing = new Set<string>()
    for (const id of ids) if (!open.arrivals.has(id) && (await open.notes.get(id, { network: false })) === undefined) missing.add(id)
    if (missing.size === 0) return { at: Date.now(), have: ids.length }
    return await new Promise((resolve) => {
      const check = (): void => {
        for (const id of missing) if (open.arrivals.has(id)) missing.delete(id)
        if (missing.size > 0) return
        finish(Date.now())
      }
      const finish = (at: number | undefined): void => {
        clearTimeout(timer)
        open.waiters.delete(check)
        resolve({ at, have: ids.length - missing.size })
      }
      const timer = setTimeout(() => { finish(undefined) }, timeoutMs)
      open.waiters.add(check)
      check()
    })
  }

  /** The database's replication state. */
  replication (label: string): ReplicationState {
    const { db, counts } = this.#database(label)
    const status = db.status
    return { peers: status.peers, pendingWrites: status.pendingWrites, dht: status.dht, ...counts }
  }

  /** What the process costs now. */
  usage (): Usage {
    const memory = process.memoryUsage()
    const cpu = process.cpuUsage()
    const loopDelayP99 = this.#loop.percentile(99) / 1e6
    this.#loop.reset()
    const dht = this.peer.libp2p.services.dht as unknown as { routingTable?: { size: number } }
    return {
      rss: memory.rss,
      privateBytes: privateMemory(),
      heapUsed: memory.heapUsed,
      cpuMicros: cpu.user + cpu.system,
      net: this.#iface === undefined ? undefined : interfaceCounters(this.#iface),
      connections: this.peer.libp2p.getConnections().length,
      ...this.#connections,
      routingTable: dht.routingTable?.size ?? 0,
      loopDelayP99,
      at: Date.now()
    }
  }

  /** Closes the databases, then the peer. */
  async close (): Promise<void> {
    this.#loop.disable()
    await Promise.allSettled([...this.#databases.values()].map(async ({ db }) => { await db.close() }))
    await this.peer.close()
  }

  #database (label: string): OpenDatabase {
    const open = this.#databases.get(label)
    if (open === undefined) throw new Error(`no database "${label}" is open here`)
    return open
  }
}

/** The counters of `iface` in this process's network namespace (`/proc/net/dev` is per namespace). */
function interfaceCounters (iface: string): Usage['net'] {
  const line = readFileSync('/proc/net/dev', 'utf8').split('\n').find((l) => l.trim().startsWith(`${iface}:`))
  if (line === undefined) return undefined
  const fields = line.slice(line.indexOf(':') + 1).trim().split(/\s+/).map(Number)
  return { rxBytes: fields[0] ?? 0, rxPackets: fields[1] ?? 0, txBytes: fields[8] ?? 0, txPackets: fields[9] ?? 0 }
}

/** The private (not shared) memory of this process, in bytes; 0 where `/proc/self/smaps_rollup` is missing. */
function privateMemory (): number {
  let text: string
  try {
    text = readFileSync('/proc/self/smaps_rollup', 'utf8')
  } catch {
    return 0
  }
  let kB = 0
  for (const match of text.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB$/gm)) kB += Number(match[1])
  return kB * 1024
}
