/**
 * Write-behind of a peer's live updates: shown at once, stored a little
 * later in one batch.
 * @module
 */
import type { Entry } from './entry.ts'

/**
 * How long a peer's live update may wait before it is stored: what arrives
 * meanwhile shares one storage batch, and a record that got several updates
 * (keystrokes in a shared note) gets its row and digest written once.
 */
export const UNSTORED_DELAY_MS = 50
/** Records waiting beyond which the batch is stored without waiting for the delay (bounds the memory they pin). */
export const MAX_UNSTORED_RECORDS = 256

type Timer = ReturnType<typeof setTimeout>

/**
 * Records with live updates from peers applied, shown and forwarded, but
 * not yet stored. Each holds its updates in `entry.unstored` (the document
 * cache keeps it in memory meanwhile). They are stored by the next flush,
 * or earlier by the record's next commit, which takes them along.
 *
 * Should the process die before, the updates are lost here alone: the peer
 * that sent them still has them, and the stored digest, written with the
 * updates it lists, makes the next catch-up fetch them again.
 */
export class UnstoredRecords {
  readonly #entries = new Map<string, Entry>()
  /** Records whose updates a flush is storing now (taken from `#entries`). */
  readonly #storing = new Map<string, Entry>()
  readonly #flush: () => void
  readonly #delayMs: number
  #timer: Timer | undefined
  #soon = false

  /** `flush` is called `delayMs` after the first record waits (at once, on a later task, beyond {@link MAX_UNSTORED_RECORDS}). */
  constructor (flush: () => void, delayMs = UNSTORED_DELAY_MS) {
    this.#flush = flush
    this.#delayMs = delayMs
  }

  /** Number of records waiting (not counting those being stored). */
  get size (): number {
    return this.#entries.size
  }

  /** Whether record `id` has updates that storage does not hold yet (waiting, or being stored). */
  has (id: string): boolean {
    return this.#entries.has(id) || this.#storing.has(id)
  }

  /** The records with updates that storage does not hold yet (waiting, or being stored). */
  * records (): Generator<Entry> {
    yield * this.#entries.values()
    for (const [id, entry] of this.#storing) if (!this.#entries.has(id)) yield entry
  }

  /** Queues a record's applied updates for the next flush. */
  add (entry: Entry, updates: readonly Uint8Array[]): void {
    entry.unstored.push(...updates)
    this.#entries.set(entry.id, entry)
    if (this.#entries.size >= MAX_UNSTORED_RECORDS && !this.#soon) {
      this.#soon = true
      this.#arm(0)
    } else if (this.#timer === undefined) {
      this.#arm(this.#delayMs)
    }
  }

  /** Takes the waiting updates of a record (empty if none): whoever takes them stores them. */
  take (entry: Entry): Uint8Array[] {
    const updates = entry.unstored
    entry.unstored = []
    this.#entries.delete(entry.id)
    return updates
  }

  /** Forgets the waiting updates of record `id` (its data is being removed, or its document was dropped); returns whether it had any. */
  drop (id: string): boolean {
    const entry = this.#entries.get(id)
    if (entry === undefined) return false
    entry.unstored = []
    this.#entries.delete(id)
    return true
  }

  /**
   * Takes the waiting records to store now, with their updates: those for
   * which `busy` is false (a record in use stays for its user's commit, or
   * the next flush, armed here).
   */
  takeDue (busy: (id: string) => boolean): Array<{ entry: Entry, updates: Uint8Array[] }> {
    this.#disarm()
    const due: Array<{ entry: Entry, updates: Uint8Array[] }> = []
    for (const [id, entry] of [...this.#entries]) {
      if (busy(id)) continue
      due.push({ entry, updates: this.take(entry) })
      entry.storing++
      this.#storing.set(id, entry)
    }
    if (this.#entries.size > 0) this.#arm(this.#delayMs)
    return due
  }

  /** The batch of records that {@link takeDue} handed out is stored (or failed). */
  done (entries: readonly Entry[]): void {
    for (const entry of entries) {
      entry.storing--
      if (entry.storing === 0 && this.#storing.get(entry.id) === entry) this.#storing.delete(entry.id)
    }
  }

  /** Stops the timer (the store is closed: nothing waits any more). */
  cancel (): void {
    this.#disarm()
  }

  #arm (ms: number): void {
    this.#disarm()
    const timer = setTimeout(() => {
      this.#timer = undefined
      this.#soon = false
      this.#flush()
    }, ms)
    // (Node: a waiting flush does not keep the process alive; close() stores what waits.)
    if (typeof timer === 'object' && typeof (timer as { unref?: unknown }).unref === 'function') (timer as { unref: () => void }).unref()
    this.#timer = timer
  }

  #disarm (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#soon = false
  }
}
