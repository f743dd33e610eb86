/**
 * What scenarios return, and how it is summarized: result rows (one per
 * case and system), Kadmium/baseline ratios, targets.
 * @module
 */
import { pairedRatio, summarize, type Summary } from './stats.ts'
import { rate, type Timed } from './timing.ts'

/** Which direction is good for a metric. */
export type Better = 'higher' | 'lower'

/** The systems compared: Kadmium, a baseline on raw libraries, and OrbitDB 4. */
export type System = 'kadmium' | 'baseline' | 'orbitdb'

/** One repetition of a throughput measurement. */
export interface Sample extends Timed {
  /** Process RSS (MB) right after the run, before anything was closed. */
  readonly rssMB: number
  /** JS heap used (MB) right after the run (garbage included: no GC forced). */
  readonly heapUsedMB: number
}

/** Kadmium / baseline, paired by round, summarized. */
export interface Ratio extends Summary {
  /** The baseline row's case. */
  readonly against: string
}

/** One line of a scenario's table. */
export interface ResultRow {
  /** What was measured, e.g. `insert, sequential awaited`. */
  readonly case: string
  readonly system: System
  readonly records: number
  readonly unit: string
  readonly better: Better
  /** The measured value of every repetition (warm-up excluded), in `unit`. */
  readonly samples: readonly number[]
  readonly summary: Summary
  /** Kadmium rows: Kadmium / baseline, paired by round. */
  readonly ratio?: Ratio
  /** Median process RSS (MB) right after each repetition. */
  readonly rssMB?: number
  /** Median JS heap used (MB) right after each repetition. */
  readonly heapUsedMB?: number
}

/** The verdict on one target. `pass` is `undefined` when the run did not measure it. */
export interface TargetResult {
  readonly target: string
  readonly actual: string
  readonly pass: boolean | undefined
}

/** What a scenario reports. */
export interface ScenarioReport {
  /** Parameters worth recording: sizes, repetitions, queries. */
  readonly params: Readonly<Record<string, unknown>>
  readonly rows: readonly ResultRow[]
  readonly targets: readonly TargetResult[]
  /** Remarks printed under the table. */
  readonly notes: readonly string[]
}

/** A throughput row (ops/s) from timed samples; `baseline` samples (same rounds) give the ratio. */
export function throughputRow (kase: string, system: System, records: number, samples: readonly Sample[], baseline?: { readonly case: string, readonly samples: readonly Sample[] }): ResultRow {
  const rates = samples.map(rate)
  return {
    case: kase,
    system,
    records,
    unit: 'ops/s',
    better: 'higher',
    samples: rates,
    summary: summarize(rates),
    ...(baseline === undefined ? {} : { ratio: { ...pairedRatio(rates, baseline.samples.map(rate)), against: baseline.case } }),
    rssMB: summarize(samples.map((s) => s.rssMB)).median,
    heapUsedMB: summarize(samples.map((s) => s.heapUsedMB)).median
  }
}

/** A row of values measured directly (e.g. MB), paired with `baseline` values by round. */
export function valueRow (kase: string, system: System, records: number, unit: string, better: Better, values: readonly number[], baseline?: { readonly case: string, readonly values: readonly number[] }): ResultRow {
  return {
    case: kase,
    system,
    records,
    unit,
    better,
    samples: values,
    summary: summarize(values),
    ...(baseline === undefined ? {} : { ratio: { ...pairedRatio(values, baseline.values), against: baseline.case } })
  }
}

/** Formats a number for a table: thousands separators, sensible precision. */
export function fmt (value: number, digits?: number): string {
  if (!Number.isFinite(value)) return String(value)
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2)
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
}

/** A target `actual ≥ threshold` (or `≤` for `better: 'lower'`). */
export function target (name: string, actual: number | undefined, threshold: number, better: Better, unit = ''): TargetResult {
  if (actual === undefined || Number.isNaN(actual)) return { target: name, actual: 'not measured in this run', pass: undefined }
  const pass = better === 'higher' ? actual >= threshold : actual <= threshold
  return { target: name, actual: `${fmt(actual, unit === '×' ? 2 : undefined)}${unit === '×' ? '×' : unit === '' ? '' : ' ' + unit}`, pass }
}

/** The row of `system` for `kase` and `records`, if measured. */
export function findRow (rows: readonly ResultRow[], kase: string, system: System, records: number): ResultRow | undefined {
  return rows.find((r) => r.case === kase && r.system === system && r.records === records)
}
