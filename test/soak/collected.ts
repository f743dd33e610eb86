/**
 * What a soak run collects as it goes: every peer's samples (each with
 * the time it covers), the hostile peer's, the churn, and the machine's
 * load average (the machine may be shared: a busy one shows in every figure).
 * @module
 */
import type { PeerSample } from './protocol.ts'
import type { HostileSample } from './processes.ts'

/** One sample of one peer, placed in the run. */
export interface Placed {
  readonly peer: number
  readonly incarnation: number
  /** Time since the run's start (ms). */
  readonly at: number
  /** The time the sample covers (ms): since the peer's previous sample, or its start. */
  readonly dt: number
  /** Live envelopes it dropped in that time (the sample counts them since its database opened). */
  readonly dropped: number
  readonly sample: PeerSample
}

/** A peer leaving (closing), crashing (SIGKILL) or coming back. */
export interface ChurnEvent {
  /** Time since the run's start (ms). */
  readonly at: number
  readonly peer: number
  readonly kind: 'leave' | 'crash' | 'rejoin'
}

/** Everything a run collected. */
export class Collected {
  /** When the run started (ms since 1970): times are counted from it. */
  #t0: number
  readonly samples: Placed[] = []
  readonly hostile: Array<{ readonly at: number, readonly sample: HostileSample }> = []
  readonly churn: ChurnEvent[] = []
  /** The machine's 1-minute load average, sampled as the run goes. */
  readonly machine: Array<{ readonly at: number, readonly load: number }> = []
  /** When each peer's incarnation started, keyed `peer:incarnation` (ms since the run's start). */
  readonly starts = new Map<string, number>()
  readonly #last = new Map<string, { at: number, dropped: number }>()

  constructor () {
    this.#t0 = Date.now()
  }

  /** When the run started (ms since 1970). */
  get t0 (): number {
    return this.#t0
  }

  /** Starts the run now: what was collected so far (start-up) is forgotten, and times count from now. */
  begin (): void {
    const shift = Date.now() - this.#t0
    this.#t0 += shift
    this.samples.length = 0
    this.hostile.length = 0
    this.churn.length = 0
    this.machine.length = 0
    for (const [key, start] of this.starts) this.starts.set(key, start - shift)
    for (const [key, last] of this.#last) this.#last.set(key, { ...last, at: last.at - shift })
  }

  /** A peer's incarnation started now. */
  started (peer: number, incarnation: number): void {
    this.starts.set(`${peer}:${incarnation}`, Date.now() - this.#t0)
  }

  /** A peer's sample arrived. */
  add (peer: number, incarnation: number, sample: PeerSample): void {
    const key = `${peer}:${incarnation}`
    const at = sample.t - this.#t0
    const previous = this.#last.get(key) ?? { at: this.starts.get(key) ?? at, dropped: 0 }
    this.#last.set(key, { at, dropped: sample.dropped })
    this.samples.push({ peer, incarnation, at, dt: Math.max(1, at - previous.at), dropped: sample.dropped - previous.dropped, sample })
  }

  /** The hostile peer's sample arrived. */
  addHostile (sample: HostileSample): void {
    this.hostile.push({ at: sample.t - this.#t0, sample })
  }

  /** The machine's load average now. */
  addLoad (load: number): void {
    this.machine.push({ at: Date.now() - this.#t0, load })
  }

  /** A churn event happened now. */
  event (peer: number, kind: ChurnEvent['kind']): void {
    this.churn.push({ at: Date.now() - this.#t0, peer, kind })
  }

  /** The latest sample of each peer. */
  latest (): Map<number, Placed> {
    const latest = new Map<number, Placed>()
    for (const s of this.samples) latest.set(s.peer, s)
    return latest
  }
}
