/**
 * The clock that dates heads: an author's heads must be ordered (a DHT
 * server keeps only each author's newest), so every tick is later than the
 * wall clock's last reading and than every tick before, and than the
 * newest head of this author seen in the DHT.
 * @module
 */

/** A head of ours dated more than this far ahead of the wall clock is not taken in (ms): one written under a broken clock cannot stall the clock for long. */
const MAX_AHEAD = 365 * 24 * 60 * 60 * 1000

/** A monotonic clock in ms for dating heads. */
export interface HeadClock {
  /** The next time: later than every time before and than every observed one. */
  next (): number
  /** Takes in the time of a head of this author read from the DHT, so that the next head is newer. */
  observe (t: number): void
}

/** Makes a head clock over `now` (default `Date.now`). */
export function createHeadClock (now: () => number = Date.now): HeadClock {
  let last = 0
  return {
    next () {
      last = Math.max(now(), last + 1)
      return last
    },
    observe (t) {
      if (Number.isSafeInteger(t) && t > last && t - now() < MAX_AHEAD) last = t
    }
  }
}

/** The process's head clock: shared by every DHT store (one author may write from several). */
export const headClock: HeadClock = createHeadClock()
