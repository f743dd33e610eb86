/**
 * The meter that goes with a peer's updates while the store applies them:
 * the time spent computing on them (what an author's apply budget is
 * charged), and the records they left waiting for an earlier update.
 * @module
 */

/**
 * Goes with one envelope's updates as they are applied. It counts the time
 * spent computing on them, and notes the records they left waiting for an
 * earlier update (a gap for a catch-up to fill).
 *
 * Time: the sections
 * that work on the author's bytes (checking them, applying them, the row,
 * schema and digest work that follows) are timed between `start` and
 * `stop`. Waits in between — for storage to commit, for a record's lock,
 * for a document to load — are not counted: a slow disk or a busy peer
 * would otherwise charge an honest author for them.
 */
export class ApplyMeter {
  #ms = 0
  #since: number | undefined
  /** Records left waiting for an earlier update, as `[collection, id]` (`[collection]`: its index). */
  readonly gaps: Array<readonly [collection: string, id?: string]> = []

  /** Notes that record `id` of `collection` (without `id`: its index) waits for an earlier update; returns `false` (nothing changed yet). */
  gap (collection: string, id?: string): false {
    this.gaps.push(id === undefined ? [collection] : [collection, id])
    return false
  }

  /** Starts counting (no-op while counting). */
  start (): void {
    this.#since ??= performance.now()
  }

  /** Stops counting (no-op while stopped). */
  stop (): void {
    if (this.#since === undefined) return
    this.#ms += performance.now() - this.#since
    this.#since = undefined
  }

  /** The time counted so far (ms), a section still open included. */
  get ms (): number {
    return this.#ms + (this.#since === undefined ? 0 : performance.now() - this.#since)
  }
}
