/**
 * The chaos run's randomness: one seed decides every operation and fault,
 * so that a printed seed replays the run (timings aside).
 * @module
 */

/** A seeded generator of numbers in [0, 1) (mulberry32). */
export interface Random {
  (): number
  /** A whole number in [0, n). */
  int: (n: number) => number
  /** One of `items`. */
  pick: <T>(items: readonly T[]) => T
  /** `true` with probability `p`. */
  chance: (p: number) => boolean
  /** A generator of its own, seeded from this one (a stream that other draws do not shift). */
  fork: () => Random
}

/** A {@link Random} from `seed` (a 32-bit whole number). */
export function seeded (seed: number): Random {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const random = next as Random
  random.int = (n) => Math.floor(next() * n)
  random.pick = (items) => {
    if (items.length === 0) throw new Error('pick from nothing')
    return items[Math.floor(next() * items.length)] as (typeof items)[number]
  }
  random.chance = (p) => next() < p
  random.fork = () => seeded(Math.floor(next() * 2 ** 32))
  return random
}

/** A fresh seed (for a run given none): printed, so that it can be replayed. */
export function freshSeed (): number {
  return Math.floor(Math.random() * 2 ** 31)
}
