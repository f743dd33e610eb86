/**
 * A small typed event emitter over the platform's `EventTarget` (in Node
 * and in browsers alike).
 * @module
 */

/** An event that carries a typed `detail`. */
export class KadmiumEvent<T> extends Event {
  /** The event's payload. */
  readonly detail: T
  constructor (type: string, detail: T) {
    super(type)
    this.detail = detail
  }
}

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void

/**
 * Typed events: `Events` maps each event name to its payload type.
 *
 * @example
 * ```ts
 * const off = db.on('change', (change) => console.log(change.collection, change.id))
 * off()
 * ```
 */
export class TypedEmitter<Events extends object> {
  readonly #target = new EventTarget()
  /** Listeners per event type: an event nobody listens to is not dispatched (a remote change emits one per record). */
  readonly #listeners = new Map<string, number>()

  /** Calls `listener` with each event's payload; returns a function that stops it. */
  on<K extends keyof Events & string> (type: K, listener: (detail: Events[K]) => void): Unsubscribe {
    const wrapped = (event: Event): void => {
      listener((event as KadmiumEvent<Events[K]>).detail)
    }
    this.#target.addEventListener(type, wrapped)
    this.#listeners.set(type, (this.#listeners.get(type) ?? 0) + 1)
    let on = true
    return () => {
      if (!on) return
      on = false
      this.#target.removeEventListener(type, wrapped)
      const left = (this.#listeners.get(type) ?? 1) - 1
      if (left === 0) this.#listeners.delete(type)
      else this.#listeners.set(type, left)
    }
  }

  /** Whether anyone listens to `type`. */
  listens (type: keyof Events & string): boolean {
    return this.#listeners.has(type)
  }

  /** Like {@link on}, for one event only. */
  once<K extends keyof Events & string> (type: K, listener: (detail: Events[K]) => void): Unsubscribe {
    const off = this.on(type, (detail) => {
      off()
      listener(detail)
    })
    return off
  }

  /** Dispatches an event. A listener that throws does not stop the others; the platform reports its error as uncaught, as for any `EventTarget`. */
  emit<K extends keyof Events & string> (type: K, detail: Events[K]): void {
    if (this.#listeners.has(type)) this.#target.dispatchEvent(new KadmiumEvent(type, detail))
  }
}
