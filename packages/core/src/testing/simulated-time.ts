/**
 * Simulated time for tests of what happens over hours and days
 * (republishing before kad-dht's 48-hour expiry): `Date` runs on from a
 * moved origin, for every module of the process (kad-dht dates the records
 * it stores and drops them by `Date`), and a {@link Clock} to give
 * Kadmium (`replication: { dht: { clock } }`) fires its timers when time
 * is moved past them. Real time goes on meanwhile: the network works as
 * usual.
 * @module
 */
import type { Clock, ClockTimer } from '../util/clock.ts'

/** See {@link simulatedTime}. */
export interface SimulatedTime {
  /** The clock to give Kadmium: its timers fire as time passes, real or moved. */
  readonly clock: Clock
  /** How far time was moved (ms). */
  readonly moved: number
  /**
   * Moves time forward by `ms`: `Date` too, for the whole process. The
   * clock's timers that fall due fire in order, each after the microtasks
   * of the one before.
   */
  advance (ms: number): Promise<void>
  /** Puts the real `Date` back and drops every timer. */
  restore (): void
}

interface Entry {
  readonly at: number
  readonly fn: () => void
  readonly seq: number
  real: ReturnType<typeof setTimeout> | undefined
}

/**
 * Replaces the global `Date` with one that time can be moved forward on,
 * and makes a {@link Clock} on it. Call `restore()` when done (in `after`).
 *
 * @example
 * ```ts
 * const time = simulatedTime()
 * const db = await createDatabase({ name, peer, replication: { dht: { clock: time.clock } } })
 * for (let hour = 0; hour < 50; hour++) await time.advance(60 * 60 * 1000)
 * time.restore()
 * ```
 */
export function simulatedTime (): SimulatedTime {
  const RealDate = globalThis.Date
  const realNow = RealDate.now.bind(RealDate)
  let offset = 0
  class MovedDate extends RealDate {
    constructor (...args: unknown[]) {
      if (args.length === 0) super(realNow() + offset)
      else super(...(args as [string | number | Date]))
    }

    static override now (): number {
      return realNow() + offset
    }
  }
  globalThis.Date = MovedDate as DateConstructor
  const now = (): number => realNow() + offset
  const entries = new Map<number, Entry>()
  let seq = 0

  const fire = (entry: Entry): void => {
    if (!entries.delete(entry.seq)) return
    clearTimeout(entry.real)
    entry.fn()
  }
  const clock: Clock = {
    now,
    setTimeout: (fn, ms) => {
      const entry: Entry = { at: now() + Math.max(0, ms), fn, seq: seq++, real: undefined }
      entries.set(entry.seq, entry)
      // Long waits are left to `advance` (a real timer for them would keep the process alive).
      if (ms < 60_000) entry.real = setTimeout(() => { fire(entry) }, Math.max(0, ms))
      return entry.seq
    },
    clearTimeout: (timer: ClockTimer) => {
      const entry = entries.get(timer as number)
      if (entry === undefined) return
      clearTimeout(entry.real)
      entries.delete(entry.seq)
    }
  }
  return {
    clock,
    get moved () { return offset },
    async advance (ms) {
      const target = now() + ms
      for (;;) {
        let next: Entry | undefined
        for (const entry of entries.values()) {
          if (entry.at <= target && (next === undefined || entry.at < next.at || (entry.at === next.at && entry.seq < next.seq))) next = entry
        }
        if (next === undefined) break
        if (next.at > now()) offset += next.at - now()
        fire(next)
        await new Promise<void>((resolve) => { setTimeout(resolve, 0) })
      }
      if (target > now()) offset += target - now()
    },
    restore () {
      globalThis.Date = RealDate
      for (const entry of entries.values()) clearTimeout(entry.real)
      entries.clear()
    }
  }
}

/** A libp2p node as {@link identifyAgain} uses it. */
interface IdentifyingNode {
  getConnections (): readonly unknown[]
  readonly services: { readonly identify?: { identify (connection: never): Promise<unknown> } }
}

/**
 * Runs identify again on every connection of the nodes: what libp2p's
 * own upkeep (identify, DHT pings and walks, on its real-time timers)
 * does over hours, done at once after time was moved — else peer stores
 * take their peers' addresses for stale (libp2p drops addresses an hour
 * old, peers six hours old).
 */
export async function identifyAgain (nodes: readonly IdentifyingNode[]): Promise<void> {
  await Promise.allSettled(nodes.flatMap((node) => node.getConnections().map(async (connection) => {
    await node.services.identify?.identify(connection as never)
  })))
}
