/**
 * A soak run's figures from what it collected: the run interval by
 * interval (throughput, propagation percentiles, memory, backlog), totals,
 * and each peer's growth trends.
 * @module
 */
import type { Collected, Placed } from './collected.ts'
import { count, histogram, merge, quantile } from './histogram.ts'
import { growth, type Growth, type GrowthLimits, type Point } from './trend.ts'

const MB = 1024 * 1024

/** One interval of the run, all peers together. */
export interface Interval {
  /** The interval's end, in seconds since the run's start. */
  readonly t: number
  /** Peers that reported in it. */
  readonly peers: number
  /** Writes acknowledged a second, all peers. */
  readonly writes: number
  /** Writes a second due but not issued (a writer that could not keep up). */
  readonly skipped: number
  /** Remote changes received a second, per peer (mean). */
  readonly received: number
  /** Propagation percentiles (ms) of the stamped updates received, all peers. */
  readonly p50: number
  readonly p95: number
  readonly p99: number
  /** Stamped updates timed. */
  readonly timed: number
  /** RSS (MB): median and largest over the peers. */
  readonly rssMedian: number
  readonly rssMax: number
  /** JS heap after a full GC (MB): median and largest over the peers. */
  readonly heapMedian: number
  readonly heapMax: number
  /** Backlog (pending writes + parked DHT puts): sum and largest over the peers. */
  readonly backlogSum: number
  readonly backlogMax: number
  /** Live envelopes dropped unapplied a second, all peers (too many at once; catch-up repairs). */
  readonly dropped: number
  /** `rejected` events a second, all peers. */
  readonly rejected: number
  /** Garbage the hostile peer published a second. */
  readonly hostile: number
  /** CPU used by the peers, in % of one core. */
  readonly cpu: number
  /** The worst event loop delay (99th percentile, ms) over the peers. */
  readonly loopP99: number
  /** The machine's 1-minute load average at the interval's end (all its processes, not only the run's). */
  readonly machineLoad: number
}

/** A peer's backlog: writes pending (not yet durable, or their DHT put not done) and DHT puts parked. */
export function backlogOf (s: Placed): number {
  return s.sample.pendingWrites + s.sample.dhtParked
}

function median (values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0)

/**
 * The load phase (its first `loadMs`) interval by interval (`sampleMs`
 * each). A sample's counts are shared among the intervals its time
 * overlaps, in proportion (peers' timers drift, and a busy peer's samples
 * come late); its propagation times go to the interval it ends in; memory
 * and backlog are each peer's last reading in the interval.
 */
export function intervals (collected: Collected, sampleMs: number, loadMs: number): Interval[] {
  const out: Interval[] = []
  for (let from = 0; from < loadMs; from += sampleMs) {
    const to = Math.min(loadMs, from + sampleMs)
    const seconds = (to - from) / 1000
    const h = histogram()
    const last = new Map<number, Placed>()
    const counted = { writes: 0, skipped: 0, changes: 0, dropped: 0, rejected: 0, cpuMs: 0, peerMs: 0 }
    let loopP99 = 0
    for (const s of collected.samples) {
      const overlap = Math.min(s.at, to) - Math.max(s.at - s.dt, from)
      if (overlap > 0) {
        const f = overlap / s.dt
        counted.writes += f * s.sample.writes
        counted.skipped += f * s.sample.skipped
        counted.changes += f * s.sample.changes
        counted.dropped += f * s.dropped
        counted.rejected += f * s.sample.rejected
        counted.cpuMs += f * s.sample.cpuMs
        counted.peerMs += overlap
      }
      if (s.at > from && s.at <= to) {
        merge(h, s.sample.propagation)
        loopP99 = Math.max(loopP99, s.sample.loopP99)
        const before = last.get(s.peer)
        if (before === undefined || before.at < s.at) last.set(s.peer, s)
      }
    }
    const gauges = [...last.values()]
    // The load's last moments, past the last samples.
    if (gauges.length === 0) continue
    const hostile = collected.hostile.filter((x) => x.at > from && x.at <= to)
    out.push({
      t: to / 1000,
      peers: gauges.length,
      writes: counted.writes / seconds,
      skipped: counted.skipped / seconds,
      received: counted.peerMs === 0 ? 0 : counted.changes / (counted.peerMs / 1000),
      p50: quantile(h, 50),
      p95: quantile(h, 95),
      p99: quantile(h, 99),
      timed: count(h),
      rssMedian: median(gauges.map((s) => s.sample.rss / MB)),
      rssMax: Math.max(0, ...gauges.map((s) => s.sample.rss / MB)),
      heapMedian: median(gauges.map((s) => s.sample.heap / MB)),
      heapMax: Math.max(0, ...gauges.map((s) => s.sample.heap / MB)),
      backlogSum: sum(gauges.map(backlogOf)),
      backlogMax: Math.max(0, ...gauges.map(backlogOf)),
      dropped: counted.dropped / seconds,
      rejected: counted.rejected / seconds,
      hostile: sum(hostile.map((x) => x.sample.sent)) / seconds,
      cpu: counted.cpuMs / seconds / 10,
      loopP99,
      machineLoad: collected.machine.findLast((m) => m.at <= to)?.load ?? NaN
    })
  }
  return out
}

/** A run's totals. */
export interface Totals {
  /** Writes acknowledged, all peers. */
  readonly writes: number
  /** Writes a second, over the load phase. */
  readonly writesPerSecond: number
  /** Writes due but not issued. */
  readonly skipped: number
  /** Writes rejected, by error name. */
  readonly failed: Readonly<Record<string, number>>
  /** Remote changes received a second per peer (mean over the intervals). */
  readonly receivedPerPeerPerSecond: number
  /** Propagation percentiles (ms) over the whole run, and how many updates were timed. */
  readonly propagation: { readonly p50: number, readonly p95: number, readonly p99: number, readonly max: number, readonly timed: number }
  readonly dropped: number
  readonly rejected: number
  /** Garbage messages the hostile peer published. */
  readonly hostileSent: number
  /** Peers that left or crashed (each came back). */
  readonly churn: number
  /** Largest RSS and heap (MB) of any peer at any sample. */
  readonly rssMax: number
  readonly heapMax: number
}

/** The totals of a run's load phase (its first `loadMs`). */
export function totals (collected: Collected, series: readonly Interval[], loadMs: number): Totals {
  const h = histogram()
  const failed: Record<string, number> = {}
  let writes = 0
  let skipped = 0
  let dropped = 0
  let rejected = 0
  for (const s of collected.samples) {
    if (s.at > loadMs) continue
    merge(h, s.sample.propagation)
    writes += s.sample.writes
    skipped += s.sample.skipped
    dropped += s.dropped
    rejected += s.sample.rejected
    for (const [name, n] of Object.entries(s.sample.failed)) failed[name] = (failed[name] ?? 0) + n
  }
  return {
    writes,
    writesPerSecond: writes * 1000 / loadMs,
    skipped,
    failed,
    receivedPerPeerPerSecond: series.length === 0 ? 0 : sum(series.map((i) => i.received)) / series.length,
    propagation: { p50: quantile(h, 50), p95: quantile(h, 95), p99: quantile(h, 99), max: quantile(h, 100), timed: count(h) },
    dropped,
    rejected,
    hostileSent: sum(collected.hostile.filter((x) => x.at <= loadMs).map((x) => x.sample.sent)),
    churn: collected.churn.filter((e) => e.kind !== 'rejoin').length,
    rssMax: Math.max(0, ...collected.samples.filter((s) => s.at <= loadMs).map((s) => s.sample.rss / MB)),
    heapMax: Math.max(0, ...collected.samples.filter((s) => s.at <= loadMs).map((s) => s.sample.heap / MB))
  }
}

/** The series judged for growth, their unit, and when each grows. */
export const GROWTH_LIMITS: Readonly<Record<'rss' | 'heap' | 'backlog', GrowthLimits & { readonly unit: string }>> = {
  // Over 10% and 16 MB more every 10 minutes.
  rss: { unit: 'MB', relative: 0.1, absolute: 16, minPoints: 8, minSpanMs: 120_000, noiseFactor: 2 },
  // Over 10% and 8 MB more every 10 minutes (the heap is read after a full GC: little noise).
  heap: { unit: 'MB', relative: 0.1, absolute: 8, minPoints: 8, minSpanMs: 120_000, noiseFactor: 2 },
  // Over 100 writes and half the level more every 10 minutes.
  backlog: { unit: 'writes', relative: 0.5, absolute: 100, minPoints: 8, minSpanMs: 120_000, noiseFactor: 2 }
}

/** Seconds after a peer's (re)start left out of its trends: start-up, and the catch-up of what it missed. */
export const WARM_UP_MS = 30_000

/** One trend judged: a series of one peer's incarnation. */
export interface TrendResult extends Growth {
  readonly peer: number
  readonly incarnation: number
  readonly metric: keyof typeof GROWTH_LIMITS
}

/**
 * Each peer's growth trends, incarnation by incarnation, over the second
 * half of a run of `durationMs` (warm-up and catch-up are over by then)
 * and past each incarnation's first {@link WARM_UP_MS}.
 */
export function trends (collected: Collected, durationMs: number): TrendResult[] {
  const groups = new Map<string, Placed[]>()
  for (const s of collected.samples) {
    const start = collected.starts.get(`${s.peer}:${s.incarnation}`) ?? 0
    if (s.at < durationMs / 2 || s.at < start + WARM_UP_MS || s.at > durationMs) continue
    const key = `${s.peer}:${s.incarnation}`
    groups.set(key, [...(groups.get(key) ?? []), s])
  }
  const out: TrendResult[] = []
  for (const [key, samples] of groups) {
    const [peer, incarnation] = key.split(':').map(Number) as [number, number]
    const series: Record<keyof typeof GROWTH_LIMITS, Point[]> = {
      rss: samples.map((s) => ({ t: s.at, v: s.sample.rss / MB })),
      heap: samples.map((s) => ({ t: s.at, v: s.sample.heap / MB })),
      backlog: samples.map((s) => ({ t: s.at, v: backlogOf(s) }))
    }
    for (const metric of ['rss', 'heap', 'backlog'] as const) {
      out.push({ peer, incarnation, metric, ...growth(series[metric], GROWTH_LIMITS[metric]) })
    }
  }
  return out.sort((a, b) => a.peer - b.peer || a.incarnation - b.incarnation)
}
