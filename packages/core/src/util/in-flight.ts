/**
 * Work in flight per key (a sending peer), bounded: what a topic
 * validator uses so that one peer's flood cannot pile up unbounded work.
 * @module
 */

/** Counts what is in flight per key, up to a bound. */
export class InFlight {
  readonly #max: number
  readonly #counts = new Map<string, number>()

  /** @param max how many at once per key */
  constructor (max: number) {
    this.#max = max
  }

  /** Takes a place for `key`; `false` (and nothing taken) if it has `max` already. */
  enter (key: string): boolean {
    const count = this.#counts.get(key) ?? 0
    if (count >= this.#max) return false
    this.#counts.set(key, count + 1)
    return true
  }

  /** Gives back a place {@link enter} took. */
  leave (key: string): void {
    const left = (this.#counts.get(key) ?? 1) - 1
    if (left === 0) this.#counts.delete(key)
    else this.#counts.set(key, left)
  }
}
