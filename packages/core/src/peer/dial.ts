/**
 * Dialing with retries: on loopback and LANs, immediate redials and two
 * peers dialing each other at once sometimes fail
 * (`EncryptionFailedError`), and succeed a moment later; a browser's
 * WebRTC dial through a relay sometimes times out once.
 * @module
 */
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

/** Options of {@link dialWithRetries}. */
export interface DialRetryOptions {
  /** How many times to try in all. @default 4 */
  readonly attempts?: number
  /**
   * Wait before the first retry, in ms; each later wait doubles, and every
   * wait is shortened by a random part of up to a half so that two peers
   * dialing each other fall out of step.
   * @default 100
   */
  readonly backoff?: number
  /** Stops retrying, and the dial under way. */
  readonly signal?: AbortSignal
  /**
   * How long one attempt may take, in ms. (libp2p applies its own dial
   * timeout only to a dial given no signal: without this bound, a dial
   * that hangs would hold the retries forever.)
   * @default 10000
   */
  readonly timeout?: number
}

/** Default number of dial attempts. */
export const DIAL_ATTEMPTS = 4
/** Default first wait between attempts, in ms. */
export const DIAL_BACKOFF_MS = 100
/** Default bound of one dial attempt, in ms (libp2p's own default dial timeout). */
export const DIAL_TIMEOUT_MS = 10_000

/** What to dial: a multiaddr (as text or parsed) or a known peer. */
export type DialTarget = string | Multiaddr | PeerId

/**
 * Opens a connection to `target`, trying up to `attempts` times. Rejects
 * with the last attempt's error (libp2p's), or the signal's reason once
 * it aborts.
 */
export async function dialWithRetries (libp2p: Libp2p, target: DialTarget, options: DialRetryOptions = {}): Promise<Connection> {
  const address = typeof target === 'string' ? multiaddr(target) : target
  const attempts = Math.max(1, options.attempts ?? DIAL_ATTEMPTS)
  const backoff = options.backoff ?? DIAL_BACKOFF_MS
  const signal = options.signal
  const timeout = options.timeout ?? DIAL_TIMEOUT_MS
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted()
    try {
      const bound = AbortSignal.timeout(timeout)
      return await libp2p.dial(address, { signal: signal === undefined ? bound : AbortSignal.any([signal, bound]) })
    } catch (error) {
      if (attempt >= attempts || signal?.aborted === true) throw error
    }
    const wait = backoff * 2 ** (attempt - 1)
    await sleep(wait * (0.5 + Math.random() / 2), signal)
  }
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
async function sleep (ms: number, signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(reasonOf(signal))
      return
    }
    const done = (): void => {
      signal?.removeEventListener('abort', aborted)
      resolve()
    }
    const timer = setTimeout(done, ms)
    const aborted = (): void => {
      clearTimeout(timer)
      if (signal !== undefined) reject(reasonOf(signal))
    }
    signal?.addEventListener('abort', aborted, { once: true })
  })
}

/** Why `signal` aborted, as an error. */
function reasonOf (signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason : new Error(String(reason))
}
