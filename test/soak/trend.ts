/**
 * The soak run's growth check: is a series (RSS, heap, backlog of one peer
 * over time) growing, beyond its noise? The slope is Theil–Sen's (the
 * median of the slopes between every pair of points): a GC's sawtooth or a
 * burst of backlog moves it far less than a least-squares fit.
 * @module
 */

/** One sample of a series: time (ms) and value. */
export interface Point {
  readonly t: number
  readonly v: number
}

/** When a series counts as growing: every condition must hold. */
export interface GrowthLimits {
  /** Growth per 10 minutes, as a fraction of the series' median level, beyond which it grows (0.1: 10%). */
  readonly relative: number
  /** Growth per 10 minutes, in the series' unit, beyond which it grows (so that a small level's noise does not count). */
  readonly absolute: number
  /** Fewest points judged; fewer: not judged. */
  readonly minPoints: number
  /** Shortest time span judged (ms); shorter: not judged. */
  readonly minSpanMs: number
  /**
   * The rise over the span (slope × span) must exceed this many times the
   * noise (the residuals' root mean square around the line): a trend must
   * stand out of the scatter around it. (Spikes widen the scatter, so a
   * spiky series must climb further to count: a false alarm is the worse
   * error for a check that fails a run.)
   */
  readonly noiseFactor: number
}

/** What {@link growth} found. */
export interface Growth {
  /** Whether the series was judged (enough points over a long enough span). */
  readonly judged: boolean
  /** Whether it grows (judged, and every limit exceeded). */
  readonly growing: boolean
  readonly points: number
  readonly spanMs: number
  /** The median value. */
  readonly level: number
  /** Theil–Sen slope, per 10 minutes. */
  readonly per10Min: number
  /** The residuals' root mean square around the line: the scatter a trend must stand out of. */
  readonly noise: number
}

const TEN_MINUTES = 600_000

function median (values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Theil–Sen's line through the points: slope (per ms) and intercept. */
export function theilSen (points: readonly Point[]): { slope: number, intercept: number } {
  const slopes: number[] = []
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const a = points[i] as Point
      const b = points[j] as Point
      if (b.t !== a.t) slopes.push((b.v - a.v) / (b.t - a.t))
    }
  }
  const slope = slopes.length === 0 ? 0 : median(slopes)
  const intercept = median(points.map((p) => p.v - slope * p.t))
  return { slope, intercept }
}

/** Whether the series grows, as `limits` define it. */
export function growth (points: readonly Point[], limits: GrowthLimits): Growth {
  const sorted = [...points].sort((a, b) => a.t - b.t)
  const spanMs = sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as Point).t - (sorted[0] as Point).t
  const level = median(sorted.map((p) => p.v))
  const judged = sorted.length >= limits.minPoints && spanMs >= limits.minSpanMs
  if (!judged) return { judged, growing: false, points: sorted.length, spanMs, level, per10Min: NaN, noise: NaN }
  const { slope, intercept } = theilSen(sorted)
  const residuals = sorted.map((p) => p.v - (intercept + slope * p.t))
  const noise = Math.sqrt(residuals.reduce((a, r) => a + r * r, 0) / residuals.length)
  const per10Min = slope * TEN_MINUTES
  const growing = per10Min > limits.absolute &&
    per10Min > limits.relative * Math.abs(level) &&
    slope * spanMs > limits.noiseFactor * noise
  return { judged, growing, points: sorted.length, spanMs, level, per10Min, noise }
}
