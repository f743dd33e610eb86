/**
 * Summary statistics over repeated measurements.
 * @module
 */

/** Median, extremes and relative spread of a sample. */
export interface Summary {
  readonly n: number
  readonly median: number
  readonly min: number
  readonly max: number
  /** (max - min) / median: how far apart the repetitions landed. */
  readonly spread: number
}

/** The median of the values (the mean of the middle two for an even count). */
export function median (values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Median, min, max and relative spread of the values. */
export function summarize (values: readonly number[]): Summary {
  const m = median(values)
  const min = values.length === 0 ? NaN : Math.min(...values)
  const max = values.length === 0 ? NaN : Math.max(...values)
  return { n: values.length, median: m, min, max, spread: m === 0 ? 0 : (max - min) / m }
}

/**
 * Ratios of paired samples (`a[i] / b[i]`, measured in the same round),
 * summarized. Pairing cancels much of the drift of a noisy machine: both
 * sides of a pair ran back to back.
 */
export function pairedRatio (a: readonly number[], b: readonly number[]): Summary {
  const n = Math.min(a.length, b.length)
  const ratios: number[] = []
  for (let i = 0; i < n; i++) ratios.push((a[i] as number) / (b[i] as number))
  return summarize(ratios)
}

/** The `p`-th percentile (0–100) of the values, interpolating linearly between closest ranks. */
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
