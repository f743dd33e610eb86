/**
 * How envelopes from the live topic are applied: bounded in number (a
 * flood is dropped, and a catch-up with the neighbour that sent it is
 * owed), each author within its budget of apply time (beyond it, dropped
 * for a while, reported once, and caught up afterwards), the gaps they
 * leave noted for a catch-up, and updates too large for gossip fetched by
 * a catch-up with their author.
 * @module
 */
import { PeerThrottledError } from '../errors.ts'
import type { RejectedEvent, Replica } from '../replica/replica.ts'
import { ApplyMeter } from '../store/apply-meter.ts'
import { APPLY_WINDOW_MS, ApplyBudget } from './apply-budget.ts'
import type { Envelope } from './envelope.ts'
import type { OwedCatchUps } from './owed-catch-ups.ts'

/** Envelopes applied at once at most; more are dropped. */
const MAX_APPLYING_ENVELOPES = 1024

/** What the intake needs around it. */
export interface LiveIntakeContext {
  readonly replica: Replica
  /** Catch-ups owed to neighbours (for drops and gaps). */
  readonly owed: OwedCatchUps
  /** Runs a catch-up with a peer (for an update too large for gossip). */
  readonly sync: (peer: string) => Promise<void>
  readonly onRejected: (event: RejectedEvent) => void
  /** Apply time one author may use per window (ms). */
  readonly budget: number
}

/** Applies a database's live envelopes. */
export class LiveIntake {
  readonly #ctx: LiveIntakeContext
  readonly #budget: ApplyBudget
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  /** Envelopes being applied now, and dropped so far. */
  #applying = 0
  #dropped = 0
  #stopped = false

  constructor (context: LiveIntakeContext) {
    this.#ctx = context
    this.#budget = new ApplyBudget(context.budget)
  }

  /** Envelopes being applied now. */
  get applying (): number {
    return this.#applying
  }

  /** Envelopes dropped unapplied (too many at once, or their author over its budget); catch-up repairs what they carried. */
  get dropped (): number {
    return this.#dropped
  }

  /** An envelope gossipsub refused to queue (its own backlog): owed to `peer` like any drop. */
  droppedBy (peer: string): void {
    this.#dropped++
    this.#ctx.owed.dropped(peer)
  }

  /** Applies an envelope from neighbour `via` (its author, or a peer that forwarded it: what it lacks, `via` had). */
  receive (envelope: Envelope, via: string): void {
    // A flood: envelopes beyond the bound are dropped, so memory stays bounded; a catch-up with `via` follows.
    if (this.#applying >= MAX_APPLYING_ENVELOPES) {
      this.droppedBy(via)
      return
    }
    // An author whose updates took too much of this peer's time lately: dropped for now.
    if (this.#budget.exhausted(envelope.from)) {
      this.#dropped++
      if (this.#budget.shouldReport(envelope.from)) {
        const error = new PeerThrottledError(`updates from "${envelope.from}" took over their share of apply time; dropped for a while`)
        this.#ctx.onRejected({ reason: `${error.name}: ${error.message}`, via: 'gossip', peer: envelope.from })
        // Once the window is over, catch up with the neighbour for what was dropped.
        const timer = setTimeout(() => {
          this.#timers.delete(timer)
          this.#ctx.owed.dropped(via)
        }, APPLY_WINDOW_MS)
        this.#timers.add(timer)
      }
      return
    }
    this.#applying++
    void this.#apply(envelope, via).finally(() => { this.#applying-- })
  }

  /** Stops: nothing more is owed or fetched. */
  stop (): void {
    this.#stopped = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }

  async #apply (envelope: Envelope, via: string): Promise<void> {
    let hinted = false
    // What applying the envelope computes counts against its author; waiting for storage does not.
    const meter = new ApplyMeter()
    for (const entry of envelope.entries) {
      if (entry.update === undefined) {
        hinted = true
        continue
      }
      try {
        await this.#ctx.replica.apply({ collection: entry.collection, target: entry.target, ...(entry.id !== undefined ? { id: entry.id } : {}), update: entry.update }, meter)
      } catch (error) {
        meter.stop()
        this.#ctx.onRejected({ reason: `${(error as Error).name}: ${(error as Error).message}`, via: 'gossip', peer: envelope.from })
      }
    }
    this.#budget.charge(envelope.from, meter.ms)
    if (!this.#stopped) this.#ctx.owed.gaps(via, meter.gaps)
    // An update too large for gossip: fetch it from its sender.
    if (hinted && !this.#stopped) {
      try {
        await this.#ctx.sync(envelope.from)
      } catch {}
    }
  }
}
