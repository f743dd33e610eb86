/**
 * A soak run: honest peers, each in an OS process of its own (`nodePeer`:
 * TCP on 127.0.0.1, LevelDB), write a steady mixed load for a set time
 * while peers leave and come back (half closing, half killed with
 * SIGKILL) and a hostile peer floods the database's topic with garbage.
 * Every peer reports its memory, backlog, writes and what it received
 * every sample period. Then the load stops, every replica must converge,
 * and each peer's RSS, heap and backlog must show no growth trend.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { environment, type Environment } from '../../bench/lib/env.ts'
import type { Snapshot } from '../chaos/chaos-node.ts'
import { disagreement } from '../chaos/chaos.ts'
import { seeded } from '../chaos/random.ts'
import { intervals, totals, trends, GROWTH_LIMITS, type Interval, type Totals, type TrendResult } from './analyze.ts'
import { Collected, type ChurnEvent } from './collected.ts'
import { HostileProcess, PeerProcess, type ProcessWatch } from './processes.ts'

/** Options of {@link runSoak}. */
export interface SoakOptions {
  readonly minutes: number
  readonly peers: number
  /** Writes a second asked of all peers together (each peer writes its share). */
  readonly rate: number
  /** Garbage messages a second the hostile peer publishes (0: no hostile peer). */
  readonly flood: number
  readonly seed: number
  /** A peer leaves or crashes this often (s); 0: no churn. */
  readonly churnEverySec: number
  /** How long a churned peer stays away (s). */
  readonly downSec: number
  /** How often peers report (ms). */
  readonly sampleMs: number
  /** Longest wait for the replicas to agree once the load stopped (ms). */
  readonly quietTimeoutMs: number
  readonly log?: (line: string) => void
}

/** What a run measured and found. */
export interface SoakReport {
  readonly options: Omit<SoakOptions, 'log'>
  readonly environment: Environment
  /** How long starting the peers took, until each replicated with every other (ms). */
  readonly startMs: number
  /** How long the load ran (ms). */
  readonly loadMs: number
  readonly intervals: readonly Interval[]
  readonly totals: Totals
  /** Each peer's RSS, heap (MB) and backlog at every sample of the load phase: `[seconds, incarnation, rss, heap, backlog]`. */
  readonly series: Readonly<Record<string, ReadonlyArray<readonly [number, number, number, number, number]>>>
  readonly churn: readonly ChurnEvent[]
  readonly trends: readonly TrendResult[]
  readonly convergence: { readonly converged: boolean, readonly quietMs: number, readonly records: number, readonly difference?: string }
  /**
   * Each peer's memory (MB) once the replicas agreed, after full GCs: what
   * it keeps when nothing is queued any more. Beside a growth trend, it
   * tells work piling up (gone once quiet) from memory kept.
   */
  readonly retained: Readonly<Record<string, { readonly rss: number, readonly heap: number }>>
  /** What went wrong; empty: the run passed. */
  readonly problems: readonly string[]
}

/** The defaults of `npm run soak` beyond `--minutes` and `--peers`. */
export const SOAK_DEFAULTS = { rate: 1000, flood: 100, churnEverySec: 30, downSec: 10, quietTimeoutMs: 300_000 } as const

/** A sample period that gives a run some 60 to 120 samples per peer: 1 s to 5 s. */
export function samplePeriod (minutes: number): number {
  return Math.min(5000, Math.max(1000, Math.round(minutes * 60_000 / 120 / 1000) * 1000))
}

/** Runs one soak run; the report's `problems` are empty when every check held. */
export async function runSoak (options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {})
  const random = seeded(options.seed)
  const root = await mkdtemp(join(tmpdir(), 'kadmium-soak-'))
  const durationMs = options.minutes * 60_000
  const perPeer = options.rate / options.peers
  const env = environment()
  const collected = new Collected()
  const indexes = Array.from({ length: options.peers }, (_, i) => i)
  const problems: string[] = []
  const watch = (name: string): ProcessWatch => ({
    output: (line) => { log(`${name}: ${line}`) },
    unexpectedExit: (how) => {
      problems.push(`${name} ${how}`)
      log(`soak: ${name} ${how}`)
    }
  })
  const peers = indexes.map((i) => new PeerProcess(i, indexes, root, Math.floor(random() * 2 ** 31), options.sampleMs, (peer, incarnation, sample) => { collected.add(peer, incarnation, sample) }, watch(`peer ${i}`)))
  let hostile: HostileProcess | undefined
  let loadMs = 0
  let startMs = 0
  let convergence: SoakReport['convergence'] = { converged: false, quietMs: 0, records: 0 }
  const retained: Record<string, { rss: number, heap: number }> = {}
  const addressesOfUp = (but?: PeerProcess): string[] => peers.filter((p) => p !== but && p.up).flatMap((p) => [...p.ready.addresses])
  const start = async (p: PeerProcess): Promise<void> => {
    await p.start(addressesOfUp(p))
    collected.started(p.index, p.incarnation)
  }
  try {
    log(`soak: ${options.peers} peers, ${options.rate} writes/s in all (${perPeer.toFixed(1)} per peer), ${options.minutes} min, hostile flood ${options.flood}/s, churn every ${options.churnEverySec} s (${options.downSec} s away), seed ${options.seed}`)
    // The first peer, then the others four at a time, each dialing those up.
    await start(peers[0] as PeerProcess)
    for (let i = 1; i < peers.length; i += 4) await Promise.all(peers.slice(i, i + 4).map(start))
    await connected(collected, peers, log)
    startMs = Date.now() - collected.t0
    log(`soak: ${options.peers} peers up and connected in ${Math.round(startMs / 1000)} s`)
    // Everything from here is timed from the load's start.
    collected.begin()
    const t0 = collected.t0
    const address = (peers[0] as PeerProcess).ready.address
    if (options.flood > 0) {
      hostile = await HostileProcess.start(address, addressesOfUp(), options.flood, options.sampleMs, (sample) => { collected.addHostile(sample) }, watch('the hostile peer'))
      log(`soak: the hostile peer floods /kadmium/db/${address}`)
    }
    await Promise.all(peers.map(async (p) => { await p.load(perPeer) }))
    const end = t0 + durationMs
    const churning = churn(peers, options, random, end, async (p) => {
      await start(p)
      await p.load(perPeer)
      hostile?.dial(p.ready.addresses)
    }, collected, log)
    const progress = setInterval(() => { log(progressLine(collected, t0)) }, Math.max(10_000, options.sampleMs * 4))
    collected.addLoad(loadavg()[0] ?? NaN)
    const machine = setInterval(() => { collected.addLoad(loadavg()[0] ?? NaN) }, options.sampleMs)
    await sleep(Math.max(0, end - Date.now()))
    clearInterval(progress)
    clearInterval(machine)
    await churning
    loadMs = Date.now() - t0
    await Promise.all(peers.filter((p) => p.up).map(async (p) => { await p.stopLoad() }))
    await hostile?.stop()
    log(`soak: load stopped after ${Math.round(loadMs / 1000)} s; waiting for the replicas to agree`)
    convergence = await quiet(peers, options.quietTimeoutMs, log)
    if (!convergence.converged) problems.push(`replicas disagree ${Math.round(convergence.quietMs / 1000)} s after the load stopped: ${convergence.difference ?? ''}`)
    for (const p of peers.filter((x) => x.up)) {
      const m = await p.memory()
      retained[String(p.index)] = { rss: Math.round(m.rss / 2 ** 20 * 10) / 10, heap: Math.round(m.heap / 2 ** 20 * 10) / 10 }
    }
  } catch (error) {
    problems.push(`the run failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  } finally {
    await hostile?.stop().catch(() => {})
    await Promise.all(peers.map(async (p) => { await p.close().catch(async () => { await p.kill() }) }))
    await rm(root, { recursive: true, force: true })
  }
  const series = intervals(collected, options.sampleMs, loadMs)
  const judged = trends(collected, loadMs)
  for (const t of judged.filter((x) => x.growing)) {
    const limits = GROWTH_LIMITS[t.metric]
    problems.push(`peer ${t.peer} (incarnation ${t.incarnation}): ${t.metric} grows ${t.per10Min.toFixed(1)} ${limits.unit} per 10 min from ${t.level.toFixed(1)} ${limits.unit} (noise ${t.noise.toFixed(1)})`)
  }
  const { log: _log, ...rest } = options
  const report: SoakReport = {
    options: rest,
    environment: env,
    startMs,
    loadMs,
    intervals: series,
    totals: totals(collected, series, loadMs),
    series: perPeerSeries(collected, loadMs),
    churn: collected.churn,
    trends: judged,
    convergence,
    retained,
    problems
  }
  log(`soak: ${problems.length === 0 ? 'passed' : `${problems.length} problem(s)`}`)
  return report
}

/** Waits (bounded) until every peer replicates with every other, as their samples say. */
async function connected (collected: Collected, peers: readonly PeerProcess[], log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + 60_000
  const want = peers.length - 1
  for (;;) {
    const latest = collected.latest()
    const least = Math.min(...peers.map((p) => latest.get(p.index)?.sample.peers ?? 0))
    if (least >= want) return
    if (Date.now() > deadline) {
      log(`soak: after 60 s, some peer replicates with only ${least} of ${want} peers; starting anyway`)
      return
    }
    await sleep(500)
  }
}

/** Every `churnEverySec`, one peer up leaves (or crashes: every other time) and comes back `downSec` later; none starts too late to be back by `end`. */
async function churn (peers: readonly PeerProcess[], options: SoakOptions, random: ReturnType<typeof seeded>, end: number, rejoin: (p: PeerProcess) => Promise<void>, collected: Collected, log: (line: string) => void): Promise<void> {
  if (options.churnEverySec <= 0) return
  for (let k = 0; ; k++) {
    await sleep(options.churnEverySec * 1000)
    // Back, and settled for a while, before the load ends.
    if (Date.now() + options.downSec * 1000 + Math.min(20_000, options.minutes * 60_000 / 4) > end) return
    const victim = random.pick(peers.filter((p) => p.up))
    const kind = k % 2 === 0 ? 'leave' : 'crash'
    collected.event(victim.index, kind)
    log(`soak: peer ${victim.index} ${kind === 'leave' ? 'leaves' : 'crashes (SIGKILL)'}`)
    if (kind === 'leave') await victim.close()
    else await victim.kill()
    await sleep(options.downSec * 1000)
    await rejoin(victim)
    collected.event(victim.index, 'rejoin')
    log(`soak: peer ${victim.index} is back`)
  }
}

/** Catches every peer up with the others until all replicas agree, or `timeoutMs` passed. */
async function quiet (all: readonly PeerProcess[], timeoutMs: number, log: (line: string) => void): Promise<SoakReport['convergence']> {
  const started = Date.now()
  // A peer that crashed by itself is a problem already reported: the others must still agree.
  const peers = all.filter((p) => p.up)
  const deadline = started + timeoutMs
  for (let round = 1; ; round++) {
    const snapshots = await until(deadline, async () => {
      await Promise.all(peers.map(async (p) => { await p.sync().catch(() => {}) }))
      const snapshots = new Map<{ index: number }, Snapshot>()
      for (const p of peers) snapshots.set(p, await p.snapshot())
      return snapshots
    })
    if (snapshots === undefined) return { converged: false, quietMs: Date.now() - started, records: 0, difference: 'the peers did not catch up and report what they hold in time' }
    const difference = disagreement(snapshots)
    const records = Object.keys((snapshots.get(peers[0] as PeerProcess) as Snapshot).records).length
    const quietMs = Date.now() - started
    if (difference === undefined) {
      log(`soak: ${peers.length} replicas agree on ${records} records after ${Math.round(quietMs / 1000)} s (${round} round(s))`)
      return { converged: true, quietMs, records }
    }
    if (quietMs > timeoutMs) return { converged: false, quietMs, records, difference }
    await sleep(2000)
  }
}

/** What `work` resolves to, or `undefined` once `deadline` (ms since 1970) passed. */
async function until<T> (deadline: number, work: () => Promise<T>): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => { resolve(undefined) }, Math.max(0, deadline - Date.now())) })
  try {
    return await Promise.race([work(), late])
  } finally {
    clearTimeout(timer)
  }
}

/** Each peer's RSS, heap and backlog at every sample of the load phase. */
function perPeerSeries (collected: Collected, loadMs: number): SoakReport['series'] {
  const out: Record<string, Array<[number, number, number, number, number]>> = {}
  const MB = 1024 * 1024
  for (const s of collected.samples) {
    if (s.at > loadMs) continue
    ;(out[String(s.peer)] ??= []).push([Math.round(s.at / 100) / 10, s.incarnation, Math.round(s.sample.rss / MB * 10) / 10, Math.round(s.sample.heap / MB * 10) / 10, s.sample.pendingWrites + s.sample.dhtParked])
  }
  return out
}

/** One line of progress: the last interval's figures. */
function progressLine (collected: Collected, t0: number): string {
  const latest = [...collected.latest().values()].filter((s) => s.sample.t > Date.now() - 15_000)
  const writes = latest.reduce((a, s) => a + s.sample.writes * 1000 / s.dt, 0)
  const received = latest.reduce((a, s) => a + s.sample.changes * 1000 / s.dt, 0) / Math.max(1, latest.length)
  const rss = latest.map((s) => s.sample.rss / 1024 / 1024)
  const backlog = latest.reduce((a, s) => a + s.sample.pendingWrites + s.sample.dhtParked, 0)
  return `soak: ${Math.round((Date.now() - t0) / 1000)} s: ${Math.round(writes)} writes/s, ${Math.round(received)} received/s per peer, RSS ${Math.round(Math.min(...rss))}..${Math.round(Math.max(...rss))} MB, backlog ${backlog}, ${latest.length} peers reporting`
}
