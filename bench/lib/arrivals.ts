/**
 * Arrivals of one message at N receivers in one process: when every
 * receiver had it, when half of them had, and how far apart they came.
 * @module
 */
import { percentile } from './net.ts'

/**
 * One sample: when every receiver had it, when half of them had, and the
 * median time between two receivers' arrivals (all peers share one thread,
 * so this is what each receiver costs).
 */
export interface Fan {
  readonly ms: number
  readonly halfMs: number
  readonly perPeerMs: number
}

/** Waits for `n` arrivals of a key; resolves their times (ms since `expect`). */
export class Arrivals {
  #key: string | number | undefined
  #times: number[] = []
  readonly #seen = new Set<number>()
  #t0 = 0
  #resolve: ((fan: Fan) => void) | undefined
  readonly #n: number

  constructor (n: number) {
    this.#n = n
  }

  /** Starts waiting for `key`; resolves once every receiver saw it. */
  expect (key: string | number): Promise<Fan> {
    this.#key = key
    this.#times = []
    this.#seen.clear()
    this.#t0 = performance.now()
    return new Promise<Fan>((resolve) => { this.#resolve = resolve })
  }

  /** Receiver `who` saw `key`. */
  arrived (key: string | number | undefined, who: number): void {
    if (key === undefined || key !== this.#key || this.#seen.has(who)) return
    this.#seen.add(who)
    this.#times.push(performance.now() - this.#t0)
    if (this.#times.length === this.#n) {
      this.#key = undefined
      const gaps = this.#times.slice(1).map((t, i) => t - (this.#times[i] as number))
      this.#resolve?.({ ms: Math.max(...this.#times), halfMs: percentile(this.#times, 50), perPeerMs: gaps.length === 0 ? NaN : percentile(gaps, 50) })
    }
  }

  /** Receivers that saw the awaited key so far. */
  get count (): number {
    return this.#times.length
  }

  /** The key awaited now, if any. */
  get awaited (): string | number | undefined {
    return this.#key
  }

  /** Stops waiting; returns the arrivals so far (ms since `expect`). */
  cancel (): number[] {
    this.#key = undefined
    return this.#times
  }
}
