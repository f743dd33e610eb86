/**
 * A macrotask: resolves on a later turn of the event loop, after every
 * microtask queued before it and after I/O that is ready. A local write
 * waits for one after handing its update to gossip, so that the whole
 * send — signing, gossipsub, the muxer, encryption, down to the socket,
 * a chain of microtasks — runs before the write's storage work instead of
 * behind it: peers get the update sooner (the time a write takes to reach
 * them is what the `propagation` benchmark scenario measures), and the
 * write is durable a turn later.
 * @module
 */

type Schedule = (callback: () => void) => void

const platform = globalThis as unknown as {
  setImmediate?: (callback: () => void) => unknown
  MessageChannel?: new () => { port1: { onmessage: (() => void) | null, close (): void }, port2: { postMessage (message: unknown): void } }
}

/** Node's `setImmediate`; elsewhere a `MessageChannel` message (browsers clamp `setTimeout(0)`). */
const schedule: Schedule = platform.setImmediate !== undefined
  ? (callback) => { platform.setImmediate?.(callback) }
  : (callback) => {
      const Channel = platform.MessageChannel
      if (Channel === undefined) {
        void Promise.resolve().then(callback)
        return
      }
      const channel = new Channel()
      channel.port1.onmessage = () => {
        channel.port1.close()
        callback()
      }
      channel.port2.postMessage(null)
    }

/** Resolves on a later turn of the event loop. */
export function nextTask (): Promise<void> {
  return new Promise((resolve) => { schedule(resolve) })
}
