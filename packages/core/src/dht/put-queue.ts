/**
 * The one queue of a database's DHT puts: a put waits here, and nowhere
 * else, from the write that caused it until it is done — held a moment so
 * that a burst of writes coalesces (and longer while durable puts run),
 * parked while the peer is offline, then run a few at a time, retried with
 * exponential backoff, and run again after a republish interval. The queue
 * also remembers each key's last put, so that a put of a state just put is
 * skipped.
 * @module
 */

import { systemClock, type Clock } from '../util/clock.ts'
import { PutSlots } from './put-slots.ts'
import { RepublishSchedule } from './republish-schedule.ts'

/** Options of a {@link PutQueue}; every field but `maxHold`, `clock` and `salt` is required here (the DHT store fills in defaults). */
export interface PutQueueOptions {
  /** Jobs running at once. */
  readonly concurrency: number
  /** Delay before the first retry of a failed job, in ms; doubled for each further attempt. */
  readonly retryDelay: number
  /** Longest delay between retries, in ms. */
  readonly maxRetryDelay: number
  /** Attempts of one job before it is given up (until its next schedule or republish). */
  readonly maxAttempts: number
  /** A key whose job succeeded (or was given up) runs again this long after, in ms. */
  readonly republishInterval: number
  /** Longest a delayed job is held back while {@link PutQueue.hold} holds are taken, in ms. @default 1000 */
  readonly maxHold?: number
  /** The clock republishing goes by. @default systemClock */
  readonly clock?: Clock
  /** Slots shared with the node's other queues: a job runs only with one (see {@link PutSlots}). @default slots of its own, as many as `concurrency` */
  readonly slots?: PutSlots
  /**
   * Mixed into each key's place in the republish interval (its phase): a
   * key is republished at that point of each interval (its slot), so that
   * its schedule survives a restart (see {@link PutQueue.nextSlot}); with
   * a salt of their own (their author), replicas of a record republish it
   * at different times. @default ''
   */
  readonly salt?: string
}

/** A key's last put. */
export interface RecentPut {
  /** The hash of the state put (or `deleted`). */
  readonly hash: string
  /** When (ms since 1970). */
  readonly at: number
  /** Peers that acknowledged it. */
  readonly acknowledged: number
}

/** Keys whose last put is remembered, at most. */
const RECENT_PUTS = 10_000
const DEFAULT_MAX_HOLD = 1000

/** What the queue does with jobs. */
export interface PutQueueHooks<J> {
  /** Runs a job; a rejection counts as a failure. */
  run (key: string, job: J): Promise<void>
  /** A job failed: it runs again in `retryIn` ms, or, with `retryIn` undefined, it was given up. */
  failed (key: string, job: J, error: unknown, attempt: number, retryIn: number | undefined): void
}

interface Running<J> {
  /** The job scheduled for the key while it ran: it runs next. */
  next: J | undefined
  /** `forget` was called while it ran: it is not republished. */
  forgotten: boolean
}

type Timer = ReturnType<typeof setTimeout>

interface Retrying<J> {
  job: J
  readonly timer: Timer
}

// setTimeout's delay is a signed 32-bit number of ms.
const MAX_TIMER = 2 ** 31 - 1

/**
 * Keyed jobs, coalesced, bounded, retried and republished.
 *
 * A key is in one state at a time: delayed (scheduled with a delay, not yet
 * handed over), parked (until {@link resume}), ready (waiting for a free
 * slot), running, or waiting to be retried. Scheduling a key that is ready or waiting
 * replaces its job (only the latest job runs); scheduling a running key
 * makes its latest job run once more after the current run. Jobs scheduled
 * in one tick are picked up on the next microtask, so a burst of schedules
 * of one key runs it once.
 */
export class PutQueue<J> {
  readonly #options: PutQueueOptions
  readonly #hooks: PutQueueHooks<J>
  /** Jobs scheduled with a delay, handed over together when it ends. */
  readonly #delayed = new Map<string, J>()
  #delayTimer: Timer | undefined
  /** When the oldest delayed job was scheduled (`performance.now()`). */
  #delayedSince = 0
  /** Holds taken ({@link hold}): delayed jobs wait for them, `maxHold` at most. */
  #holds = 0
  /** Jobs that wait for {@link resume}: scheduled while offline, or given up. */
  readonly #parked = new Map<string, J>()
  /** Each key's last put, oldest first. */
  readonly #recent = new Map<string, RecentPut>()
  readonly #ready = new Map<string, J>()
  readonly #running = new Map<string, Running<J>>()
  readonly #retrying = new Map<string, Retrying<J>>()
  readonly #attempts = new Map<string, number>()
  /** Keys to run again, each at its slot, with their latest job (or what makes it, for keys taken in by {@link track}). */
  readonly #republish: RepublishSchedule<J>
  readonly #slots: PutSlots
  /** Wakes the queue when a shared slot frees. */
  readonly #wake = (): void => { this.#pump() }
  #pumpQueued = false
  #stopped = false
  #idle: Array<() => void> = []

  constructor (options: PutQueueOptions, hooks: PutQueueHooks<J>) {
    this.#options = options
    this.#hooks = hooks
    const clock: Clock = options.clock ?? systemClock
    this.#slots = options.slots ?? new PutSlots(options.concurrency)
    this.#republish = new RepublishSchedule<J>({ interval: options.republishInterval, clock, salt: options.salt ?? '' }, (key, job) => { this.schedule(key, job) })
  }

  /**
   * The first slot of `key` at or after `time` (ms since 1970): the time
   * of the interval's point that is the key's (its phase). Every peer
   * republishes a key at its slots, whenever it started.
   */
  nextSlot (key: string, time: number): number {
    return this.#republish.nextSlot(key, time)
  }

  /** Jobs delayed, ready, running or waiting for a retry (parked ones aside). */
  get pending (): number {
    return this.#delayed.size + this.#ready.size + this.#running.size + this.#retrying.size
  }

  /** Jobs parked: written while offline, or given up after their attempts (until a peer connects again). */
  get parked (): number {
    return this.#parked.size
  }

  /** When the next republish is due (ms since the epoch), if any key is kept for it. */
  get nextRepublish (): number | undefined {
    return this.#republish.next
  }

  /** Keys that will be republished. */
  get tracked (): number {
    return this.#republish.size
  }

  /**
   * Takes keys in for republishing, each first run at its own `due` time
   * (ms since the epoch), then every interval as usual: what a replica
   * holds, put again over the interval after a restart. A key already
   * known to the queue (scheduled, running, or republished) is left as it
   * is; `make` makes a key's job when it is due. Ignored once stopped.
   */
  track (entries: ReadonlyArray<{ readonly key: string, readonly due: number }>, make: (key: string) => J): void {
    if (this.#stopped) return
    for (const { key, due } of entries) if (!this.#knows(key)) this.#republish.track(key, due, make)
  }

  /**
   * Schedules `job` for `key`, replacing any job of the key not yet started
   * (a parked one too). With `delay`, the job is handed over once `delay`
   * ms passed since the first of the delayed jobs was scheduled — later
   * while holds are taken, `maxHold` at most. Ignored once stopped.
   */
  schedule (key: string, job: J, delay = 0): void {
    if (this.#stopped) return
    this.#parked.delete(key)
    if (delay > 0) {
      if (this.#delayed.size === 0) this.#delayedSince = performance.now()
      this.#delayed.set(key, job)
      this.#delayTimer ??= setTimeout(() => { this.#handOver(delay) }, delay)
      return
    }
    const running = this.#running.get(key)
    if (running !== undefined) {
      running.next = job
      running.forgotten = false
      return
    }
    const retrying = this.#retrying.get(key)
    if (retrying !== undefined) {
      retrying.job = job
      return
    }
    this.#ready.set(key, job)
    this.#queuePump()
  }

  /** Parks `job` for `key` until {@link resume} (the peer is offline). Ignored once stopped. */
  park (key: string, job: J): void {
    if (!this.#stopped) this.#parked.set(key, job)
  }

  /** Schedules every parked job (with `delay`): the peer is online again. */
  resume (delay = 0): void {
    for (const [key, job] of [...this.#parked]) this.schedule(key, job, delay)
  }

  /**
   * Holds delayed jobs back (`maxHold` at most) until the returned function
   * is called: a put that a writer waits for runs first.
   */
  hold (): () => void {
    this.#holds++
    let held = true
    return () => {
      if (held) this.#holds--
      held = false
    }
  }

  /** Hands the delayed jobs over now. */
  handOver (): void {
    this.#handOver(0, true)
  }

  /** The last put of `key`, if remembered. */
  recent (key: string): RecentPut | undefined {
    return this.#recent.get(key)
  }

  /** Remembers a put of `key` (whether the queue ran it or not). */
  putDone (key: string, put: RecentPut): void {
    this.#recent.delete(key)
    this.#recent.set(key, put)
    if (this.#recent.size > RECENT_PUTS) this.#recent.delete(this.#recent.keys().next().value as string)
  }

  /** Drops `key`: its waiting job (delayed, parked or ready), its retries, its republishing and its last put (a run in progress ends normally). */
  forget (key: string): void {
    this.#delayed.delete(key)
    this.#parked.delete(key)
    this.#recent.delete(key)
    this.#ready.delete(key)
    this.#attempts.delete(key)
    this.#republish.delete(key)
    const retrying = this.#retrying.get(key)
    if (retrying !== undefined) {
      clearTimeout(retrying.timer)
      this.#retrying.delete(key)
    }
    const running = this.#running.get(key)
    if (running !== undefined) {
      running.next = undefined
      running.forgotten = true
    }
    this.#checkIdle()
  }

  /** Resolves once no job is ready, running or waiting for a retry (republishing later does not count). */
  async flush (): Promise<void> {
    if (this.pending === 0) return
    await new Promise<void>((resolve) => { this.#idle.push(resolve) })
  }

  /**
   * Stops: drops waiting jobs, retries and republishing, and clears every
   * timer. Jobs already running are not interrupted here (the DHT store
   * aborts their queries); the promise resolves once they have ended.
   */
  async stop (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#delayTimer)
    this.#delayTimer = undefined
    this.#delayed.clear()
    this.#parked.clear()
    this.#ready.clear()
    for (const { timer } of this.#retrying.values()) clearTimeout(timer)
    this.#retrying.clear()
    this.#republish.stop()
    this.#slots.leave(this.#wake)
    this.#attempts.clear()
    for (const running of this.#running.values()) running.next = undefined
    await this.flush()
  }

  /** Hands the delayed jobs over; unless `now`, a moment later while holds are taken (`maxHold` at most). */
  #handOver (delay: number, now = false): void {
    clearTimeout(this.#delayTimer)
    this.#delayTimer = undefined
    if (!now && this.#holds > 0 && performance.now() - this.#delayedSince < (this.#options.maxHold ?? DEFAULT_MAX_HOLD)) {
      this.#delayTimer = setTimeout(() => { this.#handOver(delay) }, delay)
      return
    }
    const due = [...this.#delayed]
    this.#delayed.clear()
    for (const [key, job] of due) this.schedule(key, job)
    this.#checkIdle()
  }

  #queuePump (): void {
    if (this.#pumpQueued) return
    this.#pumpQueued = true
    queueMicrotask(() => {
      this.#pumpQueued = false
      this.#pump()
    })
  }

  #pump (): void {
    while (!this.#stopped && this.#running.size < this.#options.concurrency && this.#ready.size > 0) {
      if (!this.#slots.take()) {
        this.#slots.wait(this.#wake)
        break
      }
      const [key, job] = this.#ready.entries().next().value as [string, J]
      this.#ready.delete(key)
      const running: Running<J> = { next: undefined, forgotten: false }
      this.#running.set(key, running)
      void this.#execute(key, job, running)
    }
    this.#checkIdle()
  }

  async #execute (key: string, job: J, running: Running<J>): Promise<void> {
    let error: unknown
    let failed = false
    try {
      await this.#hooks.run(key, job)
    } catch (e) {
      failed = true
      error = e
    }
    this.#running.delete(key)
    this.#slots.release()
    if (!this.#stopped) {
      const latest = running.next ?? job
      if (!failed) {
        this.#attempts.delete(key)
        if (!running.forgotten) this.#republish.renew(key, latest)
        if (running.next !== undefined) this.#ready.set(key, running.next)
      } else if (!running.forgotten) {
        this.#retry(key, latest, error)
      }
    }
    this.#pump()
  }

  #retry (key: string, job: J, error: unknown): void {
    const attempt = (this.#attempts.get(key) ?? 0) + 1
    if (attempt >= this.#options.maxAttempts) {
      this.#attempts.delete(key)
      this.#republish.renew(key, job)
      // Given up: tried again once the peer is online again (or at its republish).
      this.#parked.set(key, job)
      this.#report(key, job, error, attempt, undefined)
      return
    }
    this.#attempts.set(key, attempt)
    const delay = Math.min(this.#options.retryDelay * 2 ** (attempt - 1), this.#options.maxRetryDelay)
    const timer = setTimeout(() => {
      const retrying = this.#retrying.get(key)
      if (retrying === undefined || retrying.timer !== timer) return
      this.#retrying.delete(key)
      this.#ready.set(key, retrying.job)
      this.#pump()
    }, Math.min(delay, MAX_TIMER))
    this.#retrying.set(key, { job, timer })
    this.#report(key, job, error, attempt, delay)
  }

  #report (key: string, job: J, error: unknown, attempt: number, retryIn: number | undefined): void {
    try {
      this.#hooks.failed(key, job, error, attempt, retryIn)
    } catch {
      // A failing listener must not stop the queue.
    }
  }

  /** Whether `key` has a job waiting, running, or to republish. */
  #knows (key: string): boolean {
    return this.#delayed.has(key) || this.#parked.has(key) || this.#ready.has(key) || this.#running.has(key) || this.#retrying.has(key) || this.#republish.has(key)
  }

  #checkIdle (): void {
    if (this.pending > 0 || this.#idle.length === 0) return
    const waiters = this.#idle
    this.#idle = []
    for (const resolve of waiters) resolve()
  }
}
