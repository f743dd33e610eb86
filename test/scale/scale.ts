/**
 * A scale run: N peers, each in its own process and network namespace
 * (lab.ts), run as apps run them (`nodePeer()`, the public profile, TCP,
 * bootstrap peers); one database every peer has open and small databases
 * of a few peers each. Measured, phase by phase: start-up and routing
 * tables; idle cost with no database, with the wide one, with the small
 * ones too; gossip delivery to every subscriber; durable writes; what the
 * DHT servers hold and how many of each key's k closest hold it; lookups
 * hop by hop; newcomers opening the wide database by address; churn.
 * @module
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { seeded } from '../chaos/random.ts'
import { churnRound, durableWrites, type ChurnRound, type DurableStats } from './churn-phase.ts'
import { memory } from './costs.ts'
import { idleStretch, openDatabases, type IdleStretch } from './databases-phase.ts'
import { holdings, lookups, type Holdings, type LookupStats } from './dht-phase.ts'
import { gossipRound, type DatabaseSpec, type GossipOptions, type GossipResult, type PlannedWrite } from './gossip-phase.ts'
import { openLab } from './lab.ts'
import { summarize, type Summary } from './measure.ts'
import type { ScalePeer } from './peers.ts'
import type { ReplicationState } from './scale-node.ts'
import { Swarm } from './swarm.ts'

/** Options of {@link runScale}; every count has a default sized for 100 peers. */
export interface ScaleOptions {
  readonly peers: number
  /** Seeds the choice of writers, readers and churned peers. @default 1 */
  readonly seed?: number
  /** Always-on peers everyone joins through (never churned). @default 3 */
  readonly bootstrap?: number
  /** Peers started (and databases opened) at once. @default 10 */
  readonly wave?: number
  /** Peers of each small database. @default 10 */
  readonly groupSize?: number
  /** Writes to the wide database. @default 20 */
  readonly wideWrites?: number
  /** Writes to each small database. @default 3 */
  readonly groupWrites?: number
  /** Wait between writes (ms). @default 500 */
  readonly gapMs?: number
  /** Writes to the wide database in a burst (a quarter as many to each small one). @default 60 */
  readonly burstWrites?: number
  /** Each peer's rate at rest measured right before a burst, over this long (ms). @default 20000 */
  readonly burstBaselineMs?: number
  /** Durable writes (3 replicas) to the wide database. @default 5 */
  readonly durableWrites?: number
  /** Peers that make lookups. @default 10 */
  readonly lookupPeers?: number
  /** Lookups of each kind per lookup peer. @default 10 */
  readonly lookups?: number
  /** Newcomers that open the wide database by address. @default 3 */
  readonly newcomers?: number
  /** Rounds of churn. @default 2 */
  readonly churnRounds?: number
  /** Share of the peers killed in a round. @default 0.2 */
  readonly churnFraction?: number
  /** Writes made while the churned peers are down. @default 10 */
  readonly churnWrites?: number
  /** Length of each idle measurement (ms): a multiple of the periodic work's periods (catch-up 30 s, discovery 60 s). @default 60000 */
  readonly idleMs?: number
  /** Wait before each idle measurement, for the work a start or an open sets off to end (ms). @default 15000 */
  readonly settleMs?: number
  /** A stretch of rest (ms) of a database every peer opens and no one writes to, at the end of the run (0: none). @default 10000 */
  readonly emptyMs?: number
  /**
   * Memory the machine must keep available while the run goes on (bytes,
   * `MemAvailable`): below it, every peer is killed and the run fails — the
   * machine is shared. @default 1.5 GiB
   */
  readonly minAvailableBytes?: number
  /** Node.js options of the peers' processes (beside `--conditions=development`), e.g. `--max-semi-space-size=2`. @default none */
  readonly peerNodeOptions?: readonly string[]
  /** Run on loopback even if namespaces can be made. @default false */
  readonly loopback?: boolean
  readonly log?: (line: string) => void
}

/** A database's open and mesh, measured. */
export interface DatabaseReport {
  readonly count: number
  readonly subscribers: number
  /** Per peer: ms for `createDatabase` to resolve. */
  readonly openMs: Summary
  /** ms from the first record's write until every subscriber held it (undefined: not within the bound). */
  readonly seedMs: number | undefined
  /** ms until every subscriber had its first peers of the database (undefined: not within the bound). */
  readonly meshMs: number | undefined
  /** Per subscriber, at the end of the run: connected peers of the database. */
  readonly peers: Summary
}

/** Everything a run measured. */
export interface ScaleReport {
  readonly peers: number
  readonly options: Required<Omit<ScaleOptions, 'log' | 'loopback' | 'minAvailableBytes'>>
  /** Where the peers ran. */
  readonly network: { readonly kind: 'namespaces' | 'loopback', readonly fallback: string, readonly profile: 'public' | 'local' }
  readonly machine: { readonly cpus: number, readonly memoryBytes: number, readonly loadAtStart: readonly number[] }
  readonly startedAt: string
  readonly seconds: number
  readonly start: { readonly loadMs: Summary, readonly nodeMs: Summary, readonly routingReadyMs: number | undefined, readonly routingTable: Summary }
  /** Stretches of rest: no database, the wide one open (and before its first record), the small ones too. */
  readonly idle: { readonly bare: IdleStretch, readonly emptyWide: IdleStretch | undefined, readonly wide: IdleStretch, readonly groups: IdleStretch }
  readonly databases: { readonly wide: DatabaseReport, readonly groups: DatabaseReport }
  /** Paced writes (latency, delivery), and bursts (what a write costs). */
  readonly gossip: { readonly wide: GossipResult, readonly groups: GossipResult, readonly wideBurst: GossipResult, readonly groupsBurst: GossipResult }
  readonly durable: DurableStats
  readonly dht: { readonly settleMs: number | undefined, readonly holdings: Omit<Holdings, 'held'>, readonly closest: LookupStats, readonly get: LookupStats }
  readonly newcomers: { readonly count: number, readonly nodeMs: Summary, readonly openMs: Summary, readonly allMs: Summary, readonly complete: number }
  readonly churn: readonly ChurnRound[]
  readonly end: { readonly memory: ReturnType<typeof memory>, readonly connections: Summary, readonly routingTable: Summary, readonly load: readonly number[] }
  /** What did not go as it should (bounds passed, peers failing). */
  readonly problems: readonly string[]
}

/** Wait between the writes of a burst (ms). */
const BURST_GAP_MS = 20

const fmtMs = (ms: number | undefined): string => ms === undefined ? 'never (bound passed)' : `${Math.round(ms)} ms`
const fmtNum = (x: number | undefined): string => x === undefined ? '–' : x.toFixed(1)

/** Runs a scale run and reports what it measured; every process, namespace and directory it made is gone when it settles. */
export async function runScale (options: ScaleOptions): Promise<ScaleReport> {
  const n = options.peers
  const o = {
    peers: n,
    seed: options.seed ?? 1,
    bootstrap: Math.min(options.bootstrap ?? 3, n),
    wave: options.wave ?? 10,
    groupSize: Math.min(options.groupSize ?? 10, n),
    wideWrites: options.wideWrites ?? 20,
    groupWrites: options.groupWrites ?? 3,
    gapMs: options.gapMs ?? 500,
    burstWrites: options.burstWrites ?? 60,
    burstBaselineMs: options.burstBaselineMs ?? 20_000,
    durableWrites: options.durableWrites ?? 5,
    lookupPeers: Math.min(options.lookupPeers ?? 10, n),
    lookups: options.lookups ?? 10,
    newcomers: options.newcomers ?? 3,
    churnRounds: options.churnRounds ?? 2,
    churnFraction: options.churnFraction ?? 0.2,
    churnWrites: options.churnWrites ?? 10,
    idleMs: options.idleMs ?? 60_000,
    settleMs: options.settleMs ?? 15_000,
    emptyMs: options.emptyMs ?? 10_000,
    peerNodeOptions: [...options.peerNodeOptions ?? []]
  }
  const log = options.log ?? (() => {})
  const random = seeded(o.seed)
  const problems: string[] = []
  const started = performance.now()
  const loadAtStart = loadavg()
  const lab = await openLab({ loopback: options.loopback === true })
  log(lab.kind === 'namespaces' ? `network: a namespace per peer, on a bridge (${n} peers)` : `network: LOOPBACK (${lab.fallback})`)
  const root = await mkdtemp(join(tmpdir(), 'kadmium-scale-'))
  const swarm = new Swarm(lab, root, o.wave, o.peerNodeOptions)
  const floor = options.minAvailableBytes ?? 1.5 * 2 ** 30
  const watchdog = setInterval(() => {
    const available = availableMemory()
    if (available === undefined || available >= floor || swarm.stopped !== undefined) return
    const why = `the machine's available memory fell to ${Math.round(available / 2 ** 20)} MiB (floor ${Math.round(floor / 2 ** 20)} MiB)`
    log(`STOPPING: ${why}`)
    void swarm.stop(why)
  }, 2000)
  const gossip: GossipOptions = { gapMs: o.gapMs, windowMs: 10_000, eventuallyMs: 60_000 }
  try {
    // Start: the bootstrap peers one by one, then everyone else in waves.
    const bootstrap = (): string[] => swarm.peers.slice(0, o.bootstrap).flatMap((p) => p.addresses)
    const starts = [...await swarm.add(0, 1, () => []), ...await swarm.add(1, o.bootstrap, bootstrap), ...await swarm.add(o.bootstrap, n, bootstrap)]
    log(`started ${n} peers`)
    const enough = Math.min(n - 1, 8)
    const routingReadyMs = await swarm.until(async () => [...(await swarm.usage()).values()].every((u) => u.routingTable >= enough), 180_000)
    if (routingReadyMs === undefined) problems.push(`routing tables: not every peer had ${enough} peers within 180 s`)
    const routing = [...(await swarm.usage()).values()].map((u) => u.routingTable)
    log(`routing tables ready: ${routingReadyMs === undefined ? 'no' : `${Math.round(routingReadyMs)} ms`}`)
    const idleBare = await idleStretch(swarm, () => [], o.settleMs, o.idleMs)

    // The wide database (every peer), then the small ones; each gets a first record (see databases-phase.ts).
    const wide: DatabaseSpec = { label: 'wide', name: 'scale-wide', members: [...swarm.peers] }
    const groups: DatabaseSpec[] = []
    for (let g = 0; g * o.groupSize < n; g++) groups.push({ label: 'group', name: `scale-group-${g}`, members: swarm.peers.slice(g * o.groupSize, (g + 1) * o.groupSize) })
    const databasesOf = (peer: ScalePeer): DatabaseSpec[] => [wide, ...groups.filter((g) => g.members.includes(peer))]
    const wideMesh = Math.min(n - 1, 4)
    const wideOpen = await openDatabases(swarm, [wide], () => wideMesh, 180_000)
    if (wideOpen.seedMs === undefined) problems.push('wide database: its first record did not reach every peer within 180 s')
    if (wideOpen.meshMs === undefined) problems.push(`wide database: not every peer had ${wideMesh} of its peers within 180 s (${JSON.stringify(wideOpen.fewest)})`)
    log(`wide database open; first record everywhere in ${fmtMs(wideOpen.seedMs)}, mesh in ${fmtMs(wideOpen.meshMs)}`)
    const idleWide = await idleStretch(swarm, (p) => [wide].filter((db) => db.members.includes(p)), o.settleMs, o.idleMs)
    const groupOpen = await openDatabases(swarm, groups, (db) => Math.min(db.members.length - 1, 3), 180_000)
    if (groupOpen.seedMs === undefined || groupOpen.meshMs === undefined) problems.push(`small databases: a first record or the peers missing after 180 s (${JSON.stringify(groupOpen.fewest)})`)
    log(`${groups.length} small databases open; first records everywhere in ${fmtMs(groupOpen.seedMs)}`)
    const idleGroups = await idleStretch(swarm, databasesOf, o.settleMs, o.idleMs)

    // Gossip: writes to the wide database by the peers in turn, then to every small one at once; each paced (for
    // latency), then in a burst (for what a write costs: its bytes and CPU stand out of the peers' traffic at rest).
    const writers = swarm.peers.slice(o.bootstrap).length > 0 ? swarm.peers.slice(o.bootstrap) : swarm.peers
    const wideSteps = (count: number, prefix: string): PlannedWrite[][] => Array.from({ length: count }, (_, i) => [{ db: wide, writer: writers[i % writers.length] as ScalePeer, id: `${prefix}-${i}` }])
    const groupSteps = (count: number, prefix: string): PlannedWrite[][] => Array.from({ length: count }, (_, i) => groups.map((db, g) => ({ db, writer: db.members[i % db.members.length] as ScalePeer, id: `${prefix}${g}-${i}` })))
    const paced = wideSteps(o.wideWrites, 'wide')
    const gossipWide = await gossipRound(swarm, paced, gossip)
    log(`wide gossip: ${gossipWide.delivery.delivered}/${gossipWide.delivery.expected} within 10 s, to all p50 ${Math.round(gossipWide.delivery.toAll.p50)} ms`)
    // A burst has one writer (per database): the others' spend, beyond their own rate at rest just before, is what
    // receiving a write costs.
    const rest = o.burstBaselineMs
    const burst: PlannedWrite[][] = Array.from({ length: o.burstWrites }, (_, i) => [{ db: wide, writer: writers[0] as ScalePeer, id: `burst-${i}` }])
    const burstWide = await gossipRound(swarm, burst, { ...gossip, gapMs: BURST_GAP_MS, baselineMs: rest })
    log(`wide burst: ${burstWide.delivery.delivered}/${burstWide.delivery.expected} within 10 s`)
    const gossipGroups = await gossipRound(swarm, groupSteps(o.groupWrites, 'group'), gossip)
    log(`small gossip: ${gossipGroups.delivery.delivered}/${gossipGroups.delivery.expected} within 10 s`)
    const groupBurst = Array.from({ length: Math.max(1, Math.round(o.burstWrites / 4)) }, (_, i) => groups.map((db, g) => ({ db, writer: db.members[0] as ScalePeer, id: `gburst${g}-${i}` })))
    const burstGroups = await gossipRound(swarm, groupBurst, { ...gossip, gapMs: BURST_GAP_MS, baselineMs: rest })
    const durable = await durableWrites(wide, o.durableWrites, 3, random, 'durable')
    log(`durable writes: ${o.durableWrites - Object.values(durable.failed).reduce((a, b) => a + b, 0)}/${o.durableWrites}, p50 ${Math.round(durable.ms.p50)} ms`)

    // The DHT, once every queued put is done.
    const settleMs = await swarm.until(async () => {
      const states = await Promise.all(swarm.peers.flatMap((p) => databasesOf(p).map(async (db) => await p.request('replication', db.label) as ReplicationState)))
      return states.every((s) => s.pendingWrites === 0 && (s.dht?.waiting ?? 0) === 0)
    }, 180_000)
    if (settleMs === undefined) problems.push('DHT puts still queued after 180 s')
    const held = await holdings(swarm)
    log(`DHT: ${held.held.size} keys, ${held.coverage.ofClosest.mean.toFixed(1)} of their ${Math.min(20, n)} closest hold each (mean)`)
    const lookupFrom = Array.from({ length: o.lookupPeers }, (_, i) => swarm.peers[Math.floor(i * n / o.lookupPeers)] as ScalePeer)
    const closest = await lookups(swarm, lookupFrom, 'closest', o.lookups, held.held, (k) => random.int(k))
    const get = await lookups(swarm, lookupFrom, 'get', o.lookups, held.held, (k) => random.int(k))
    log(`lookups: closest ${closest.depth.mean.toFixed(2)} hops, get p50 ${Math.round(get.ms.p50)} ms (log2 n = ${closest.log2n.toFixed(2)})`)

    // Newcomers: a fresh peer opens the wide database by its address and waits for every write so far.
    const wideIds = [`seed-${wide.name}`, ...[...paced, ...burst].map(([w]) => (w as PlannedWrite).id), ...durable.ids]
    const newcomer = { nodeMs: [] as number[], openMs: [] as number[], allMs: [] as number[], complete: 0 }
    for (let j = 0; j < o.newcomers; j++) {
      const [times] = await swarm.add(n + j, n + j + 1, bootstrap)
      const peer = swarm.peers[swarm.peers.length - 1] as ScalePeer
      newcomer.nodeMs.push((times?.loadMs ?? 0) + (times?.nodeMs ?? 0))
      try {
        const opened = await peer.request('open', { label: wide.label, target: { address: wideOpen.address }, openTimeout: 60_000 }) as { ms: number }
        const openedAt = Date.now()
        newcomer.openMs.push(opened.ms)
        const { at } = await peer.request('waitFor', { label: wide.label, ids: wideIds, timeoutMs: 60_000 }, 90_000) as { at: number | undefined }
        if (at !== undefined) {
          newcomer.complete++
          newcomer.allMs.push(at - openedAt)
        }
      } catch (error) {
        problems.push(`newcomer ${j}: ${String(error)}`)
      }
      await peer.close()
    }
    log(`newcomers: open p50 ${Math.round(summarize(newcomer.openMs).p50)} ms, all records ${newcomer.complete}/${o.newcomers}`)

    // Churn.
    const churn: ChurnRound[] = []
    for (let r = 0; r < o.churnRounds; r++) {
      const round = await churnRound({ swarm, wide, databasesOf, candidates: swarm.peers.slice(o.bootstrap, n), bootstrap, random }, r, o.churnFraction, o.churnWrites, gossip, held.held)
      churn.push(round)
      log(`churn ${r}: ${round.killed} killed; gossip ${round.gossip.delivery.delivered}/${round.gossip.delivery.expected}, gets failed ${round.get.failed}/${round.get.count}, caught up ${round.caughtUp}/${round.killed}`)
    }

    const end = await swarm.usage()
    const widePeers = await Promise.all(swarm.live.map(async (p) => (await p.request('replication', wide.label) as ReplicationState).peers))
    const groupPeers = await Promise.all(swarm.live.map(async (p) => (await p.request('replication', 'group') as ReplicationState).peers))
    // Last (it loads the peers): a database that holds no record yet, every peer opening it (see databases-phase.ts).
    let emptyWide: IdleStretch | undefined
    if (o.emptyMs > 0) {
      const empty: DatabaseSpec = { label: 'empty', name: 'scale-empty', members: swarm.live }
      emptyWide = (await openDatabases(swarm, [empty], () => 0, 180_000, o.emptyMs, false)).empty
      log(`a database with no record: ${fmtNum(emptyWide?.sessionsPerPeerMinute)} catch-up sessions per peer a minute`)
    }
    const { held: _held, ...holdingsReport } = held
    return {
      peers: n,
      options: o,
      network: { kind: lab.kind, fallback: lab.fallback, profile: lab.kind === 'namespaces' ? 'public' : 'local' },
      machine: { cpus: cpus().length, memoryBytes: totalmem(), loadAtStart },
      startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
      seconds: (performance.now() - started) / 1000,
      start: { loadMs: summarize(starts.map((s) => s.loadMs)), nodeMs: summarize(starts.map((s) => s.nodeMs)), routingReadyMs, routingTable: summarize(routing) },
      idle: { bare: idleBare, emptyWide, wide: idleWide, groups: idleGroups },
      databases: {
        wide: { count: 1, subscribers: n, openMs: wideOpen.openMs, seedMs: wideOpen.seedMs, meshMs: wideOpen.meshMs, peers: summarize(widePeers) },
        groups: { count: groups.length, subscribers: o.groupSize, openMs: groupOpen.openMs, seedMs: groupOpen.seedMs, meshMs: groupOpen.meshMs, peers: summarize(groupPeers) }
      },
      gossip: { wide: gossipWide, groups: gossipGroups, wideBurst: burstWide, groupsBurst: burstGroups },
      durable: { count: durable.count, replicas: durable.replicas, failed: durable.failed, ms: durable.ms },
      dht: { settleMs, holdings: holdingsReport, closest, get },
      newcomers: { count: o.newcomers, nodeMs: summarize(newcomer.nodeMs), openMs: summarize(newcomer.openMs), allMs: summarize(newcomer.allMs), complete: newcomer.complete },
      churn,
      end: { memory: memory(end.values()), connections: summarize([...end.values()].map((u) => u.connections)), routingTable: summarize([...end.values()].map((u) => u.routingTable)), load: loadavg() },
      problems
    }
  } catch (error) {
    if (swarm.stopped !== undefined) throw new Error(`the run was stopped: ${swarm.stopped}`, { cause: error })
    throw error
  } finally {
    clearInterval(watchdog)
    await swarm.close()
    await lab.close()
    await rm(root, { recursive: true, force: true })
  }
}

/** The machine's available memory (bytes, /proc/meminfo's MemAvailable); undefined where it cannot be read. */
export function availableMemory (): number | undefined {
  try {
    const match = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}
