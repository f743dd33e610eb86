/**
 * From relayed to direct: a browser that reached another browser through
 * a circuit relay (a limited connection, which carries no DHT and no
 * gossipsub) dials it again over WebRTC through that relay, with retries
 * (such a dial sometimes fails once), and closes the relayed connection
 * once the direct one is open. It does the same when a direct connection
 * closes while a relayed one stays.
 * @module
 */
import { dialWithRetries } from '@kadmium/core/profile'
import type { Connection, IdentifyResult, Libp2p, PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

/** The protocol a peer that takes WebRTC connections through relays speaks (the signalling of `@libp2p/webrtc`). */
export const WEBRTC_SIGNALING_PROTOCOL = '/webrtc-signaling/0.0.1'

/** Dial attempts of one upgrade. */
const ATTEMPTS = 5

/**
 * The WebRTC address of `peer` through the relay of a relayed connection
 * to it (`<relay>/p2p-circuit/webrtc/p2p/<peer>`); `undefined` if the
 * connection's address is not relayed.
 */
export function webRTCAddressThrough (relayed: Multiaddr, peer: PeerId): Multiaddr | undefined {
  const text = relayed.toString()
  const at = text.indexOf('/p2p-circuit')
  if (at < 0) return undefined
  return multiaddr(`${text.slice(0, at)}/p2p-circuit/webrtc/p2p/${peer.toString()}`)
}

/** Upgrades the relayed connections of a libp2p node to direct WebRTC ones: see the module's description. */
export class DirectUpgrader {
  readonly #libp2p: Libp2p
  /** Aborts the dials under way at {@link stop}. */
  readonly #stopping = new AbortController()
  /** The peers an upgrade runs for. */
  readonly #running = new Set<string>()

  constructor (libp2p: Libp2p) {
    this.#libp2p = libp2p
    libp2p.addEventListener('peer:identify', this.#onIdentify)
    libp2p.addEventListener('connection:close', this.#onClose)
  }

  /** Stops upgrading, and the dials under way. */
  stop (): void {
    if (this.#stopping.signal.aborted) return
    this.#stopping.abort()
    this.#libp2p.removeEventListener('peer:identify', this.#onIdentify)
    this.#libp2p.removeEventListener('connection:close', this.#onClose)
  }

  readonly #onIdentify = (event: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols, connection } = event.detail
    if (protocols.includes(WEBRTC_SIGNALING_PROTOCOL)) this.#upgradeFrom(peerId, connection)
  }

  readonly #onClose = (event: CustomEvent<Connection>): void => {
    const closed = event.detail
    if (closed.limits !== undefined) return
    // A direct connection ended: upgrade again from a relayed one that stays.
    const relayed = this.#libp2p.getConnections(closed.remotePeer).find((c) => c.limits !== undefined)
    if (relayed !== undefined) this.#upgradeFrom(closed.remotePeer, relayed)
  }

  /**
   * Dials `peer` over WebRTC through the relay of `connection`, if that is
   * a relayed connection this node opened (one side dials, not both) and
   * no unlimited connection to the peer is open.
   */
  #upgradeFrom (peer: PeerId, connection: Connection): void {
    if (connection.limits === undefined || connection.direction !== 'outbound' || connection.status !== 'open') return
    const key = peer.toString()
    if (this.#running.has(key) || this.#stopping.signal.aborted || this.#hasDirect(peer)) return
    const address = webRTCAddressThrough(connection.remoteAddr, peer)
    if (address === undefined) return
    this.#running.add(key)
    dialWithRetries(this.#libp2p, address, { attempts: ATTEMPTS, signal: this.#stopping.signal })
      .then(async (direct) => {
        // The relay's slot is for signalling: hand it back once the direct connection carries the rest.
        if (direct.limits === undefined && connection.status === 'open') await connection.close()
      })
      .catch(() => {}) // the relayed connection stays; a later identify or discovery tries again
      .finally(() => { this.#running.delete(key) })
  }

  #hasDirect (peer: PeerId): boolean {
    return this.#libp2p.getConnections(peer).some((c) => c.limits === undefined && c.status === 'open')
  }
}
