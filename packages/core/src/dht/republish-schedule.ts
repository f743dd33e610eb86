/**
 * When each key of a put queue is put again: every key has its own point
 * of the republish interval (its phase, a hash of the key and a salt), and
 * is republished at that point of an interval (its slot), so its schedule
 * survives a restart and replicas salted apart spread their puts.
 * @module
 */
import type { Clock, ClockTimer } from '../util/clock.ts'
import { MinHeap } from '../util/min-heap.ts'

/** Options of a {@link RepublishSchedule}. */
export interface RepublishScheduleOptions {
  /** How long after its last put a key is put again (ms); 0 or less: at once. */
  readonly interval: number
  /** The clock republishing goes by. */
  readonly clock: Clock
  /** Mixed into each key's phase (a replica's author): replicas of a key republish it at different times. */
  readonly salt: string
}

/** A key kept for republishing: its job, or what makes it when due (a replica may track 100,000s of records). */
interface Kept<J> {
  readonly due: number
  readonly job?: J
  readonly make?: (key: string) => J
}

/**
 * Keys to republish, each with its due time, earliest first; a key's job
 * is handed to `due` when its time comes (and the key forgotten until
 * kept again).
 */
export class RepublishSchedule<J> {
  readonly #options: RepublishScheduleOptions
  readonly #due: (key: string, job: J) => void
  readonly #kept = new Map<string, Kept<J>>()
  /** The due times of {@link #kept}, earliest first; an entry whose key is no longer kept with that due time is stale (skipped). */
  readonly #dues = new MinHeap<{ readonly key: string, readonly at: number }>()
  #timer: ClockTimer = undefined
  /** When the timer fires. */
  #armedAt: number | undefined = undefined
  #stopped = false

  constructor (options: RepublishScheduleOptions, due: (key: string, job: J) => void) {
    this.#options = options
    this.#due = due
  }

  /**
   * The first slot of `key` at or after `time` (ms since 1970): the time
   * of the interval's point that is the key's (its phase). Every peer
   * republishes a key at its slots, whenever it started.
   */
  nextSlot (key: string, time: number): number {
    const interval = this.#options.interval
    if (interval <= 0) return time
    const offset = Math.floor(keyPhase(this.#options.salt + key) * interval)
    const k = Math.ceil((time - offset) / interval)
    return k * interval + offset
  }

  /** Keys kept. */
  get size (): number {
    return this.#kept.size
  }

  /** When the next key is due (ms since the epoch), if any is kept. */
  get next (): number | undefined {
    return this.#firstDue()?.at
  }

  /** Whether `key` is kept. */
  has (key: string): boolean {
    return this.#kept.has(key)
  }

  /** Keeps `key`, due at `due`; `make` makes its job then. Ignored once stopped. */
  track (key: string, due: number, make: (key: string) => J): void {
    this.#keep(key, { due, make })
  }

  /**
   * Keeps `key` with `job` for its first slot half an interval from now or
   * later (so within 1.5 intervals: a restart in between finds the slot,
   * see {@link nextSlot}). Ignored once stopped.
   */
  renew (key: string, job: J): void {
    this.#keep(key, { due: this.nextSlot(key, this.#options.clock.now() + this.#options.interval / 2), job })
  }

  /** Forgets `key`. */
  delete (key: string): void {
    this.#kept.delete(key)
  }

  /** Forgets every key and clears the timer; nothing is kept after. */
  stop (): void {
    this.#stopped = true
    this.#kept.clear()
    this.#dues.clear()
    this.#options.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#armedAt = undefined
  }

  #keep (key: string, kept: Kept<J>): void {
    if (this.#stopped) return
    this.#kept.set(key, kept)
    this.#dues.push({ key, at: kept.due })
    if (this.#armedAt === undefined || kept.due < this.#armedAt) this.#arm()
  }

  /** The earliest due time of a key still kept (stale entries dropped on the way). */
  #firstDue (): { readonly key: string, readonly at: number } | undefined {
    for (let top = this.#dues.peek(); top !== undefined; top = this.#dues.peek()) {
      if (this.#kept.get(top.key)?.due === top.at) return top
      this.#dues.pop()
    }
    return undefined
  }

  #arm (): void {
    const clock = this.#options.clock
    clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#armedAt = undefined
    const first = this.#firstDue()
    if (first === undefined || this.#stopped) return
    this.#armedAt = first.at
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined
      this.#armedAt = undefined
      const now = clock.now()
      for (let next = this.#firstDue(); next !== undefined && next.at <= now; next = this.#firstDue()) {
        this.#dues.pop()
        const kept = this.#kept.get(next.key) as Kept<J>
        this.#kept.delete(next.key)
        const job = kept.job ?? kept.make?.(next.key)
        if (job !== undefined) this.#due(next.key, job)
      }
      this.#arm()
    }, Math.max(0, first.at - clock.now()))
  }
}

/** A key's own phase in [0, 1): its FNV-1a hash, scaled. */
function keyPhase (key: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193)
  return (hash >>> 0) / 2 ** 32
}
