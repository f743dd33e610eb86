/**
 * Joining the network through bootstrap peers: each is dialed at once, in
 * the background and with retries, and where it stands is reported.
 * @module
 */
import type { Connection, Libp2p } from '@libp2p/interface'
import { PeerClosedError } from '../errors.ts'
import { TypedEmitter, type Unsubscribe } from '../events.ts'
import { checkBootstrapAddress, peerOfAddress } from './addresses.ts'
import { dialWithRetries, type DialRetryOptions } from './dial.ts'

/** Where the dial of one bootstrap peer stands. */
export interface BootstrapStatus {
  /** The address, as given. */
  readonly address: string
  /**
   * `dialing` while the first dials (with retries) run, and once the last
   * connection to it closed (it is dialed again); `connected` once a
   * connection to that peer opened (by this dial or another); `unreachable`
   * when every attempt failed and no connection is open (it is dialed
   * again every 30 s, and at once when a browser says it is online again).
   */
  readonly state: 'dialing' | 'connected' | 'unreachable'
  /** Why the last dial failed, for `unreachable`. */
  readonly error?: Error
}

/** What a {@link BootstrapDialer} reports. */
export interface BootstrapEvents {
  /** A bootstrap peer's state changed (it connected, or could not be reached). */
  bootstrap: BootstrapStatus
}

/** One bootstrap peer: where it stands, and its peer id. */
interface Entry {
  status: BootstrapStatus
  readonly peer: string
  /** Whether a dial of it (with retries) runs, or waits to run. */
  dialing: boolean
}

/** The platform's events, where it has them: a browser says when the device is online again. */
const platform = globalThis as unknown as {
  addEventListener?: (type: 'online', listener: () => void) => void
  removeEventListener?: (type: 'online', listener: () => void) => void
}

/** How long after losing its last connection to a bootstrap peer it is dialed again (ms). */
const REDIAL_AFTER = 1000
/** How long after a bootstrap peer could not be reached it is dialed again, while no connection to it is open (ms). */
const REDIAL_EVERY = 30_000

/**
 * Dials a peer's bootstrap addresses once it started (libp2p's bootstrap
 * discovery dials too, but only after a delay and once), each with
 * retries, and follows each one's state: see {@link BootstrapStatus}.
 * It keeps them: a bootstrap peer whose last connection closed is dialed
 * again a second later, and one that cannot be reached every 30 s, until
 * a connection to it opens (an always-on server that lost its peers finds
 * them again). A peer adapter makes one beside its libp2p node and stops
 * it at close.
 *
 * @example
 * ```ts
 * const dialer = new BootstrapDialer(libp2p, ['/dns4/boot.example.com/tcp/4001/ws/p2p/12D3KooW...'])
 * dialer.on('bootstrap', (status) => console.log(status.address, status.state))
 * // ...
 * dialer.stop()
 * ```
 */
export class BootstrapDialer {
  readonly #libp2p: Libp2p
  readonly #entries: Entry[] = []
  readonly #events = new TypedEmitter<BootstrapEvents>()
  /** Aborts the dials under way at {@link stop}. */
  readonly #stopping = new AbortController()
  readonly #options: Omit<DialRetryOptions, 'signal'>
  /** The timers of dials to come. */
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()

  /**
   * Starts dialing `addresses` (each with `/p2p/<peer id>`: check them first
   * with `checkBootstrapAddress`, which this throws on too).
   * @throws {AddressError} an address is not a bootstrap address
   */
  constructor (libp2p: Libp2p, addresses: readonly string[], options: Omit<DialRetryOptions, 'signal'> = {}) {
    this.#libp2p = libp2p
    this.#options = options
    const entries = addresses.map((address): Entry => ({ status: { address, state: 'dialing' }, peer: peerOfAddress(checkBootstrapAddress(address)) ?? '', dialing: false }))
    this.#entries.push(...entries)
    if (entries.length > 0) {
      libp2p.addEventListener('connection:open', this.#onConnection)
      libp2p.addEventListener('connection:close', this.#onClose)
      platform.addEventListener?.('online', this.#onOnline)
    }
    for (const entry of entries) this.#dial(entry)
  }

  /** Dials a bootstrap peer (with retries) unless connected; if it cannot be reached, reports it and tries again in {@link REDIAL_EVERY} ms. */
  #dial (entry: Entry): void {
    if (entry.dialing || this.#stopping.signal.aborted || this.#connected(entry)) return
    entry.dialing = true
    dialWithRetries(this.#libp2p, entry.status.address, { ...this.#options, signal: this.#stopping.signal }).then(() => {
      entry.dialing = false
    }, (error: unknown) => {
      entry.dialing = false
      if (this.#stopping.signal.aborted || this.#connected(entry)) return
      if (entry.status.state !== 'unreachable') this.#report(entry, { address: entry.status.address, state: 'unreachable', error: error instanceof Error ? error : new Error(String(error)) })
      this.#later(entry, REDIAL_EVERY)
    })
  }

  #later (entry: Entry, ms: number): void {
    if (this.#stopping.signal.aborted) return
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      this.#dial(entry)
    }, ms)
    this.#timers.add(timer)
  }

  #connected (entry: Entry): boolean {
    return this.#libp2p.getConnections().some((c) => c.remotePeer.toString() === entry.peer)
  }

  /** Each bootstrap peer's state, in the order given. */
  get statuses (): readonly BootstrapStatus[] {
    return this.#entries.map((entry) => entry.status)
  }

  /** Listens to the dialer's events (`bootstrap`: a bootstrap peer connected or could not be reached); returns what stops it. */
  on<K extends keyof BootstrapEvents> (type: K, listener: (event: BootstrapEvents[K]) => void): Unsubscribe {
    return this.#events.on(type, listener)
  }

  /** Stops the dials under way and the following of connections. Calling it again does nothing. */
  stop (): void {
    if (this.#stopping.signal.aborted) return
    this.#stopping.abort(new PeerClosedError('the peer is closed'))
    this.#libp2p.removeEventListener('connection:open', this.#onConnection)
    this.#libp2p.removeEventListener('connection:close', this.#onClose)
    platform.removeEventListener?.('online', this.#onOnline)
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }

  readonly #onConnection = (event: CustomEvent<Connection>): void => {
    const peer = event.detail.remotePeer.toString()
    for (const entry of this.#entries) {
      if (entry.peer === peer && entry.status.state !== 'connected') this.#report(entry, { address: entry.status.address, state: 'connected' })
    }
  }

  /** The device is online again (a browser's `online` event): every bootstrap peer not connected is dialed now, not at its next try. */
  readonly #onOnline = (): void => {
    for (const entry of this.#entries) this.#dial(entry)
  }

  readonly #onClose = (event: CustomEvent<Connection>): void => {
    const peer = event.detail.remotePeer.toString()
    for (const entry of this.#entries) {
      if (entry.peer !== peer || this.#connected(entry)) continue
      this.#report(entry, { address: entry.status.address, state: 'dialing' })
      this.#later(entry, REDIAL_AFTER)
    }
  }

  #report (entry: Entry, status: BootstrapStatus): void {
    entry.status = status
    this.#events.emit('bootstrap', status)
  }
}
