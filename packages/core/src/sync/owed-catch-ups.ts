/**
 * Catch-ups this peer owes itself: live updates from a neighbour (their
 * author, or a peer that forwarded them) were dropped here (too many in
 * flight), or left a record or index waiting for an earlier update that
 * gossip lost. Without a catch-up, what they carried would wait for the
 * next periodic session. Each is run with that neighbour once this peer has
 * applied its backlog (a session meanwhile would compete with it for the
 * one thread), and a gap is caught up only if it is still open by then:
 * updates gossip delivered out of order close theirs on their own.
 * @module
 */

/** How long after a drop or a gap the catch-up is considered (ms). */
export const CATCH_UP_SETTLE_MS = 500
/** Longest a catch-up waits for a busy peer's backlog (ms). */
const MAX_WAIT_MS = 5000
/** Open gaps remembered per peer; beyond, a catch-up is owed regardless. */
const MAX_GAPS = 1024
/** Catch-ups owed for the same drop or gap at most: a session failed, or left a gap open (its peer lacked the update then too). */
const MAX_ATTEMPTS = 3

/** A gap: `[collection, id]`, or `[collection]` for its index. */
export type Gap = readonly [string, string?]

/** What {@link OwedCatchUps} asks of its replicator. */
export interface OwedCatchUpsHooks {
  /** Runs a catch-up session with `peer`; resolves whether it ran and ended well. */
  readonly sync: (peer: string) => Promise<boolean>
  /** Whether live updates are still being applied in bulk (the catch-up waits). */
  readonly busy: () => boolean
  /** Whether a record (without `id`: the collection index) still waits for an earlier update. */
  readonly waiting: (collection: string, id?: string) => boolean
}

/** What one peer is owed. */
interface Owed {
  /** Its live updates were dropped. */
  dropped: boolean
  /** Gaps to check, by collection and id. */
  readonly gaps: Map<string, Gap>
  /** Catch-ups already run for these gaps (the most of any). */
  attempts: number
}

/** Catch-ups owed, by peer; run a moment after the first drop or gap, once the backlog is applied. */
export class OwedCatchUps {
  readonly #hooks: OwedCatchUpsHooks
  readonly #settle: number
  readonly #owed = new Map<string, Owed>()
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

  /** Owes `peer` a catch-up: live updates it sent were dropped. */
  dropped (peer: string, attempts = 0): void {
    if (this.#stopped) return
    this.#of(peer, attempts).dropped = true
    this.#arm()
  }

  /**
   * Owes `peer` a catch-up: this replica took in, by a catch-up with
   * another peer, updates `peer` may lack (what catch-up brings is not
   * gossiped on).
   */
  learned (peer: string): void {
    this.dropped(peer)
  }

  /** Owes `peer` (the neighbour the updates came from) a catch-up if one of `gaps` is still open when the time comes. */
  gaps (peer: string, gaps: readonly Gap[], attempts = 0): void {
    if (gaps.length === 0 || this.#stopped) return
    const owed = this.#of(peer, attempts)
    for (const gap of gaps) owed.gaps.set(`${gap[0]}/${gap[1] ?? ''}`, gap)
    if (owed.gaps.size > MAX_GAPS) {
      owed.dropped = true
      owed.gaps.clear()
    }
    this.#arm()
  }

  /** Forgets what is owed. */
  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#owed.clear()
  }

  #of (peer: string, attempts = 0): Owed {
    let owed = this.#owed.get(peer)
    if (owed === undefined) this.#owed.set(peer, owed = { dropped: false, gaps: new Map(), attempts })
    owed.attempts = Math.max(owed.attempts, attempts)
    return owed
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
    for (const [peer, { dropped, gaps, attempts }] of owed) {
      const open = (): Gap[] => [...gaps.values()].filter(([collection, id]) => this.#hooks.waiting(collection, id))
      if (!dropped && open().length === 0) continue
      void this.#hooks.sync(peer).then((ok) => {
        if (attempts + 1 >= MAX_ATTEMPTS) return
        // The session failed: once more, later. It ran, but a gap is still open (the peer lacked
        // what fills it too, not caught up itself yet): the same.
        if (!ok && dropped) this.dropped(peer, attempts + 1)
        this.gaps(peer, open(), attempts + 1)
      })
    }
  }
}
