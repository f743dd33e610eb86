/**
 * Listeners by key: the record watchers of a collection.
 * @module
 */

/** Callbacks registered per key, called with a value for that key. */
export class KeyedWatchers<T> {
  readonly #byKey = new Map<string, Set<(value: T) => void>>()

  /** Registers `callback` for `key`; returns the function that removes it. */
  add (key: string, callback: (value: T) => void): () => void {
    let set = this.#byKey.get(key)
    if (set === undefined) this.#byKey.set(key, set = new Set())
    set.add(callback)
    return () => {
      set.delete(callback)
      if (set.size === 0 && this.#byKey.get(key) === set) this.#byKey.delete(key)
    }
  }

  /** Calls every callback of `key` with `value`. */
  notify (key: string, value: T): void {
    const set = this.#byKey.get(key)
    if (set !== undefined) for (const callback of [...set]) callback(value)
  }
}
