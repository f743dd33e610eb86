/**
 * What one soak peer receives: remote changes counted, and the
 * propagation time of every stamped update seen (a stable record whose `n`,
 * its writer's send time, changed), from the writer's call to this peer's
 * live subscription callback of the record (what a user's view shows) —
 * the same clock, all peers being on one machine.
 * @module
 */
import { histogram, record, type Histogram } from './histogram.ts'
import { STABLE_RECORDS, stableId, type Items } from './writer.ts'

/** What the meter saw since it was last asked. */
export interface MeterCounts {
  /** Remote changes (inserts, updates, deletes) of records. */
  readonly changes: number
  /** Propagation times (ms) of the stamped updates seen. */
  readonly propagation: Histogram
}

/** Counts a peer's remote changes and times its stamped updates. */
export class Meter {
  readonly #since: number
  /** The last stamp seen of each stable record. */
  readonly #seen = new Map<string, number>()
  #changes = 0
  #propagation = histogram()
  readonly #unsubscribe: Array<() => void> = []

  /**
   * Meters `items`' remote changes, and times the stable records of the
   * other `peers` (indexes) through live subscriptions; stamps older than
   * `since` (this incarnation's start: writes made while the peer was
   * away come by catch-up, not live) are not timed.
   */
  constructor (items: Items, peers: readonly number[], since: number) {
    this.#since = since
    this.#unsubscribe.push(items.on('change', (event) => {
      if (event.origin === 'remote') this.#changes++
    }))
    for (const peer of peers) {
      for (let k = 0; k < STABLE_RECORDS; k++) {
        const id = stableId(peer, k)
        this.#unsubscribe.push(items.subscribe(id, (row) => { if (row !== undefined) this.#time(id, row.n) }))
      }
    }
  }

  /** The counts since the last call. */
  take (): MeterCounts {
    const counts = { changes: this.#changes, propagation: this.#propagation }
    this.#changes = 0
    this.#propagation = histogram()
    return counts
  }

  /** Stops metering. */
  stop (): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
  }

  #time (id: string, stamp: number): void {
    if (stamp === this.#seen.get(id)) return
    this.#seen.set(id, stamp)
    if (stamp >= this.#since) record(this.#propagation, Math.max(0, Date.now() - stamp))
  }
}
