/**
 * Refuses stale and replayed envelopes: an envelope older than the window
 * (or too far in the future) is stale; one already seen inside the window
 * is a replay. Memory is bounded by the window and a hard cap.
 *
 * An envelope is remembered only once its signature verified: a forged
 * copy (the author, time and counter of a genuine envelope, with a bad
 * signature) that reaches a peer first must not make the genuine one look
 * like its replay.
 * @module
 */
import { toHex } from '../util/hash.ts'

/** How far an envelope's time may be from ours (ms): clocks of devices drift. */
export const REPLAY_WINDOW_MS = 10 * 60_000
/** Envelopes remembered at most (beyond it the oldest are forgotten early). */
const MAX_REMEMBERED = 200_000

/** What {@link ReplayFilter.check} found. */
export type Freshness = 'fresh' | 'stale' | 'replay'

/** What names an envelope to {@link ReplayFilter}: its author, time and counter. */
export function replayKey (author: Uint8Array, ts: number, seq: number): string {
  return `${toHex(author)}:${ts}:${seq}`
}

/** Remembers the envelopes seen within the window. */
export class ReplayFilter {
  readonly #window: number
  /** key → time seen, in insertion order. */
  readonly #seen = new Map<string, number>()

  constructor (window = REPLAY_WINDOW_MS) {
    this.#window = window
  }

  /** Classifies an envelope by its author, time and counter (see {@link replayKey}); {@link remember} it once it proved genuine. */
  check (key: string, ts: number, now = Date.now()): Freshness {
    if (Math.abs(now - ts) > this.#window) return 'stale'
    return this.#seen.has(key) ? 'replay' : 'fresh'
  }

  /** Remembers a genuine envelope: the same again is a replay. */
  remember (key: string, now = Date.now()): void {
    this.#expire(now)
    this.#seen.set(key, now)
  }

  #expire (now: number): void {
    for (const [key, at] of this.#seen) {
      if (now - at <= 2 * this.#window && this.#seen.size < MAX_REMEMBERED) break
      this.#seen.delete(key)
    }
  }
}
