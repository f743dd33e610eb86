/**
 * How much of this peer's time each remote author may take: updates from
 * the network are applied on the one thread every database shares, and a
 * crafted (or just heavy) stream of them from one author must not starve
 * the rest. Each author has a budget of apply time per window; once spent,
 * its further updates are dropped until the window ends. Apply time is what
 * an {@link ApplyMeter} counts: the computing done on the author's bytes,
 * not the waits for storage in between.
 * @module
 */

/** Apply time one author may use per window (ms). */
export const DEFAULT_APPLY_BUDGET_MS = 3000
/** The window (ms). */
export const APPLY_WINDOW_MS = 10_000
/** Authors tracked at most (the oldest windows are forgotten first). */
const MAX_AUTHORS = 10_000

interface Window {
  start: number
  used: number
  /** Whether the throttling was reported in this window. */
  reported: boolean
}

/** Apply-time budgets per author. */
export class ApplyBudget {
  readonly #budget: number
  readonly #window: number
  readonly #authors = new Map<string, Window>()

  constructor (budget = DEFAULT_APPLY_BUDGET_MS, window = APPLY_WINDOW_MS) {
    this.#budget = budget
    this.#window = window
  }

  /** Whether `author` has spent its budget in the current window. */
  exhausted (author: string, now = performance.now()): boolean {
    const w = this.#current(author, now)
    return w !== undefined && w.used >= this.#budget
  }

  /** Counts `ms` of apply time against `author`. */
  charge (author: string, ms: number, now = performance.now()): void {
    let w = this.#current(author, now)
    if (w === undefined) {
      if (this.#authors.size >= MAX_AUTHORS) this.#authors.delete(this.#authors.keys().next().value as string)
      this.#authors.set(author, w = { start: now, used: 0, reported: false })
    }
    w.used += ms
  }

  /** True once per window for a throttled author: report it then. */
  shouldReport (author: string, now = performance.now()): boolean {
    const w = this.#current(author, now)
    if (w === undefined || w.reported) return false
    w.reported = true
    return true
  }

  #current (author: string, now: number): Window | undefined {
    const w = this.#authors.get(author)
    if (w === undefined) return undefined
    if (now - w.start >= this.#window) {
      this.#authors.delete(author)
      return undefined
    }
    return w
  }
}
