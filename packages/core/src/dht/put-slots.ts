/**
 * The DHT puts a node runs in the background, across all its databases:
 * each database's put queue runs a few at a time, and together they take
 * turns for a node-wide number of slots. A writer that holds 100
 * databases with a backlog of puts (a burst of writes made offline)
 * would otherwise open 4 × 100 kad-dht streams at once to the same few
 * peers, which refuse most of them (`TooManyInboundProtocolStreams`) and
 * spend their memory on it.
 * @module
 */

/** Background puts a node runs at once, all its databases together. */
export const NODE_PUT_SLOTS = 16

/** Slots shared by the put queues of one node; a queue that finds none waits to be woken when one frees. */
export class PutSlots {
  #free: number
  #waiting = new Set<() => void>()

  constructor (size: number) {
    this.#free = Math.max(1, size)
  }

  /** Takes a slot if one is free. */
  take (): boolean {
    if (this.#free <= 0) return false
    this.#free--
    return true
  }

  /** Gives a slot back, and wakes every queue waiting (each takes one, or waits again). */
  release (): void {
    this.#free++
    const waiting = this.#waiting
    this.#waiting = new Set()
    for (const wake of waiting) wake()
  }

  /** Calls `wake` once a slot frees. */
  wait (wake: () => void): void {
    this.#waiting.add(wake)
  }

  /** Stops waiting (a queue that stopped). */
  leave (wake: () => void): void {
    this.#waiting.delete(wake)
  }
}

const byNode = new WeakMap<object, PutSlots>()

/** The slots of the node that `owner` (its DHT) stands for: the same object for every database of the node. */
export function putSlotsOf (owner: object): PutSlots {
  let slots = byNode.get(owner)
  if (slots === undefined) byNode.set(owner, slots = new PutSlots(NODE_PUT_SLOTS))
  return slots
}
