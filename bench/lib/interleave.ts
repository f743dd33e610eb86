/**
 * Interleaved repetitions: every round runs each variant once, in an order
 * that rotates from round to round, so that a noisy machine's drift (other
 * jobs, thermal state, GC debt) spreads over all variants alike.
 * @module
 */

/** One thing to measure. */
export interface Variant<R> {
  readonly name: string
  /** Runs one repetition. `round` counts from 0; warm-up rounds are negative. */
  readonly run: (round: number) => Promise<R>
}

/** How to repeat. */
export interface InterleaveOptions<R> {
  /** Measured rounds. */
  readonly rounds: number
  /** Rounds run first and thrown away (JIT warm-up). @default 1 */
  readonly warmup?: number
  /** Called after every measured run (for progress output). */
  readonly onSample?: (variant: string, round: number, result: R) => void
}

/**
 * Runs `rounds` (plus warm-up) rounds of every variant, the variants'
 * order rotating between rounds (so that none always follows the same
 * other one and pays for its garbage). No GC is forced between runs: after
 * a forced full GC V8 shrinks its young generation again, and the next run
 * pays for regrowing it (allocation-heavy short runs most: a fresh
 * database's 1,000 inserts went ~6.5k/s after `gc()`, ~8.5k/s without,
 * here). Resolves each variant's results, in round order, so that
 * `results[v][i]` of different variants pair up.
 */
export async function interleave<R> (variants: ReadonlyArray<Variant<R>>, options: InterleaveOptions<R>): Promise<Map<string, R[]>> {
  const results = new Map<string, R[]>(variants.map((v) => [v.name, []]))
  const warmup = options.warmup ?? 1
  for (let round = -warmup; round < options.rounds; round++) {
    const shift = ((round % variants.length) + variants.length) % variants.length
    const order = [...variants.slice(shift), ...variants.slice(0, shift)]
    for (const variant of order) {
      const result = await variant.run(round)
      if (round >= 0) {
        results.get(variant.name)?.push(result)
        options.onSample?.(variant.name, round, result)
      }
    }
  }
  return results
}

/** The results of one variant (throws if it is missing: a programming error). */
export function resultsOf<R> (results: Map<string, R[]>, name: string): R[] {
  const found = results.get(name)
  if (found === undefined) throw new Error(`no variant named "${name}"`)
  return found
}
