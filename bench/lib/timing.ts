/**
 * Timing helpers: wall-clock timing of async work as operations per second.
 * @module
 */
import { performance } from 'node:perf_hooks'

/** One timed run. */
export interface Timed {
  readonly ops: number
  readonly ms: number
}

/** Operations per second of a timed run. */
export function rate (t: Timed): number {
  return t.ms === 0 ? Infinity : t.ops / (t.ms / 1000)
}

/** Times `fn`, which performs `ops` operations. */
export async function timeOps (ops: number, fn: () => Promise<void>): Promise<Timed> {
  const start = performance.now()
  await fn()
  return { ops, ms: performance.now() - start }
}

/**
 * Calls `fn` over and over for at least `minMs` milliseconds (and at least
 * `minOps` times), and reports how many calls fit.
 */
export async function timeFor (minMs: number, fn: (i: number) => Promise<unknown>, minOps = 1): Promise<Timed> {
  const start = performance.now()
  let ops = 0
  let elapsed = 0
  while (elapsed < minMs || ops < minOps) {
    await fn(ops)
    ops++
    elapsed = performance.now() - start
  }
  return { ops, ms: elapsed }
}
