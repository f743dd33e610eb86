import type { Unsubscribe } from '@kadmium/core'

/**
 * One value kept current from a subscription, in the shape
 * `useSyncExternalStore` takes: `subscribe` and `getSnapshot`, both stable.
 * The underlying subscription starts with the first listener and stops
 * with the last, and a new value that `equal` says is the same as the
 * current one is dropped, so that the snapshot keeps its reference and
 * nothing renders again.
 */
export class LiveSource<V> {
  #value: V
  readonly #start: (set: (value: V) => void) => Unsubscribe
  readonly #equal: (a: V, b: V) => boolean
  readonly #listeners = new Set<() => void>()
  #stop: Unsubscribe | undefined

  constructor (initial: V, start: (set: (value: V) => void) => Unsubscribe, equal: (a: V, b: V) => boolean) {
    this.#value = initial
    this.#start = start
    this.#equal = equal
  }

  /** Adds a listener (starting the subscription for the first); returns what removes it. */
  readonly subscribe = (listener: () => void): Unsubscribe => {
    this.#listeners.add(listener)
    if (this.#stop === undefined) {
      try {
        this.#stop = this.#start(this.#set)
      } catch (error) {
        this.#listeners.delete(listener)
        throw error
      }
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return
      const stop = this.#stop
      this.#stop = undefined
      stop?.()
    }
  }

  /** The current value: the same reference until a different value came. */
  readonly getSnapshot = (): V => this.#value

  /** Takes a new value in, unless it equals the current one. */
  readonly #set = (value: V): void => {
    if (this.#equal(this.#value, value)) return
    this.#value = value
    for (const listener of [...this.#listeners]) listener()
  }
}
