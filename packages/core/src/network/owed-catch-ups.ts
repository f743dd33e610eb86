/**
 * Catch-ups this peer owes itself: live updates from an author were dropped
 * here (too many in flight), or left a record waiting for an earlier update
 * that gossip lost. Without a catch-up, what they carried would wait for the
 * next periodic session. Each is run once this peer has applied its backlog
 * (a session meanwhile would compete with it for the one thread), and a gap
 * is caught up only if it is still open by then: updates gossip delivered
 * out of order close theirs on their own.
 * @module
 */

/** How long after a drop or a gap the catch-up is considered (ms). */
export const CATCH_UP_SETTLE_MS = 500
/** Longest a catch-up waits for a busy peer's backlog (ms). */
const MAX_WAIT_MS = 5000
/** Open gaps remembered per peer; beyond, a catch-up is owed regardless. */
const MAX_GAPS = 1024

/** What {@link OwedCatchUps} asks of its replicator. */
export interface OwedCatchUpsHooks {
  /** Runs a catch-up session with `peer`. */
  readonly sync: (peer: string) => void
  /** Whether live updates are still being applied in bulk (the catch-up waits). */
  readonly busy: () => boolean
  /** Whether a record (without `id`: the collection index) still waits for an earlier update. */
  readonly waiting: (collection: string, id?: string) => boolean
}

/** Catch-ups owed, by peer; run a moment after the first drop or gap, once the backlog is applied. */
export class OwedCatchUps {
  readonly #hooks: OwedCatchUpsHooks
  readonly #settle: number
  /** Peers owed a catch-up: `true` for a drop; else the gaps that call for one, by collection and id. */
  readonly #owed = new Map<string, true | Map<string, readonly [string, string?]>>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #armed = 0
  #stopped = false

  constructor (hooks: OwedCatchUpsHooks, settle = CATCH_UP_SETTLE_MS) {
    this.#hooks = hooks
    this.#settle = settle
  }

  /** Peers owed a catch-up now. */
  get size (): number {
    return this.#owed.size
  }

  /** Owes `peer` a catch-up: its live updates were dropped. */
  dropped (peer: string): void {
    this.#owed.set(peer, true)
    this.#arm()
  }

  /** Owes `peer` a catch-up if one of `gaps` (`[collection, id]`, `[collection]` for its index) is still open when the time comes. */
  gaps (peer: string, gaps: ReadonlyArray<readonly [string, string?]>): void {
    if (gaps.length === 0) return
    let owed = this.#owed.get(peer)
    if (owed === true) return
    if (owed === undefined) this.#owed.set(peer, owed = new Map())
    for (const gap of gaps) owed.set(`${gap[0]}/${gap[1] ?? ''}`, gap)
    if (owed.size > MAX_GAPS) this.#owed.set(peer, true)
    this.#arm()
  }

  /** Forgets what is owed. */
  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#owed.clear()
  }

  #arm (): void {
    if (this.#stopped || this.#timer !== undefined) return
    this.#armed = performance.now()
    this.#wait()
  }

  #wait (): void {
    this.#timer = setTimeout(() => { this.#run() }, this.#settle)
  }

  #run (): void {
    // A backlog still being applied goes first (for a while): a session now would compete with it.
    if (this.#hooks.busy() && performance.now() - this.#armed < MAX_WAIT_MS) {
      this.#wait()
      return
    }
    this.#timer = undefined
    const owed = [...this.#owed]
    this.#owed.clear()
    for (const [peer, why] of owed) {
      if (why === true || [...why.values()].some(([collection, id]) => this.#hooks.waiting(collection, id))) this.#hooks.sync(peer)
    }
  }
}
