/**
 * How a peer adapter closes its parts: each in turn, each even when one
 * before it failed, and every failure reported at the end.
 * @module
 */

/**
 * The errors of a peer's closing steps. `attempt` runs a step and keeps
 * its error; `done` throws the one error kept, or an `AggregateError` of
 * several.
 *
 * @example
 * ```ts
 * const closing = new Closing()
 * await closing.attempt(() => libp2p.stop())
 * await Promise.all(storages.map((s) => closing.attempt(() => s.close?.())))
 * closing.done()
 * ```
 */
export class Closing {
  readonly #errors: unknown[] = []

  /** Runs a step; an error it throws is kept for {@link done}. */
  async attempt (step: () => unknown): Promise<void> {
    try {
      await step()
    } catch (error) {
      this.#errors.push(error)
    }
  }

  /** Throws what the steps threw: the one error, or an `AggregateError` of several. */
  done (): void {
    if (this.#errors.length === 1) throw this.#errors[0]
    if (this.#errors.length > 1) throw new AggregateError(this.#errors, 'closing the peer failed')
  }
}
