/**
 * The clock that long waits go by: republishing records before kad-dht
 * drops them, the schedule it keeps across restarts. The system clock
 * serves every app; a test replaces it to let simulated hours pass in
 * seconds (see `simulatedTime` in `@kadmium/core/testing`).
 * @module
 */

/** A timer a {@link Clock} set. */
export type ClockTimer = unknown

/** Time and timers. */
export interface Clock {
  /** Now, in ms since 1970. */
  now (): number
  /** Calls `callback` once `ms` passed on this clock. */
  setTimeout (callback: () => void, ms: number): ClockTimer
  /** Cancels a timer of {@link setTimeout} (an unknown or fired one is ignored). */
  clearTimeout (timer: ClockTimer): void
}

// setTimeout's delay is a signed 32-bit number of ms: a longer wait is made of several.
const MAX_TIMER = 2 ** 31 - 1

/** `Date.now()` and the platform's timers (waits beyond 24.8 days included). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle: { timer: ReturnType<typeof setTimeout> | undefined } = { timer: undefined }
    const due = Date.now() + ms
    const arm = (): void => {
      const wait = due - Date.now()
      handle.timer = setTimeout(wait > MAX_TIMER ? arm : callback, Math.max(0, Math.min(wait, MAX_TIMER)))
    }
    arm()
    return handle
  },
  clearTimeout: (timer) => {
    const handle = timer as { timer?: ReturnType<typeof setTimeout> } | undefined
    if (handle?.timer !== undefined) clearTimeout(handle.timer)
  }
}
