/**
 * Work that outlives the call that started it (the rest of a put that
 * resolved early, a read's later heads and repair), kept so that it can be
 * awaited: by a flush, and by a stop once its queries were aborted.
 * @module
 */

/** A set of background tasks that can be awaited. */
export class BackgroundWork {
  readonly #running = new Set<Promise<void>>()

  /** Tasks still running. */
  get size (): number {
    return this.#running.size
  }

  /** Keeps `work` until it ends; a rejection is dropped (report it inside `work`). */
  track (work: Promise<unknown>): void {
    const tracked = work.then(() => {}, () => {}).finally(() => { this.#running.delete(tracked) })
    this.#running.add(tracked)
  }

  /** Resolves once no task runs (tasks started meanwhile included). */
  async idle (): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running])
  }
}

/** Resolves after `ms`, or when `signal` aborts (the caller checks what ended it). */
export async function pause (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
