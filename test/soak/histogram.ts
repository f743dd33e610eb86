/**
 * Propagation times as a histogram of logarithmic buckets: small to send
 * over IPC every interval, exact to merge across peers, and its
 * percentiles within a bucket's width (about 12%).
 * @module
 */

/** Buckets per factor of 10. */
const PER_DECADE = 20
/** Decades covered above 1 ms: up to 10^5 ms (100 s); longer times go in the last bucket. */
const DECADES = 5
/** Bucket 0 holds [0, 1 ms); bucket i ≥ 1 holds [10^((i-1)/PER_DECADE), 10^(i/PER_DECADE)) ms. */
export const BUCKETS = 1 + PER_DECADE * DECADES

/** A histogram's counts, bucket by bucket ({@link BUCKETS} long). */
export type Histogram = number[]

/** An empty histogram. */
export function histogram (): Histogram {
  return new Array<number>(BUCKETS).fill(0)
}

/** Counts one time (ms). */
export function record (h: Histogram, ms: number): void {
  const i = ms < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log10(ms) * PER_DECADE))
  h[i] = (h[i] ?? 0) + 1
}

/** Adds `from`'s counts into `into`. */
export function merge (into: Histogram, from: readonly number[]): void {
  for (let i = 0; i < BUCKETS; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0)
}

/** How many times were counted. */
export function count (h: readonly number[]): number {
  let n = 0
  for (const c of h) n += c
  return n
}

/**
 * The `p`-th percentile (0–100), in ms: the geometric middle of the bucket
 * that holds it (0.5 ms for the first); `NaN` for an empty histogram.
 */
export function quantile (h: readonly number[], p: number): number {
  const n = count(h)
  if (n === 0) return NaN
  const rank = Math.max(1, Math.ceil((p / 100) * n))
  let seen = 0
  for (let i = 0; i < BUCKETS; i++) {
    seen += h[i] ?? 0
    if (seen >= rank) return i === 0 ? 0.5 : 10 ** ((i - 0.5) / PER_DECADE)
  }
  return 10 ** (BUCKETS / PER_DECADE)
}
