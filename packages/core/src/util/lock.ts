/**
 * Runs tasks one at a time per key, in the order they were handed over;
 * tasks of different keys run concurrently.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>()

  /** Tells whether a task of `key` runs or waits. */
  isHeld (key: string): boolean {
    return this.#tails.has(key)
  }

  /** Number of keys with a task running or waiting. */
  get size (): number {
    return this.#tails.size
  }

  /** Runs `task` after every task handed over before for `key`. */
  run<T> (key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    const result = previous.then(task, task)
    const tail = result.then(() => undefined, () => undefined)
    this.#tails.set(key, tail)
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
    return result
  }

  /**
   * Runs `task` once every task handed over before for any of `keys` has
   * ended, holding all of them: one task for many keys (a batch of
   * records applied at once) at the cost of one promise, not one a key.
   */
  runAll<T> (keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const previous: Array<Promise<unknown>> = []
    for (const key of keys) {
      const tail = this.#tails.get(key)
      if (tail !== undefined) previous.push(tail)
    }
    const result = (previous.length === 0 ? Promise.resolve() : Promise.all(previous)).then(task, task)
    const tail = result.then(() => undefined, () => undefined)
    for (const key of keys) this.#tails.set(key, tail)
    void tail.then(() => {
      for (const key of keys) if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
    return result
  }

  /** Resolves once every task handed over so far has ended. */
  async idle (): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values())
  }
}
