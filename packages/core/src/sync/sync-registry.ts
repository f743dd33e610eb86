import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { messages, readMessage, writeMessage } from './sync-session.ts'
import { SYNC_PROTOCOL, type SyncMessage } from './sync-messages.ts'
import type { LengthPrefixedStream } from '@libp2p/utils'

/** A hello message. */
export type Hello = Extract<SyncMessage, { t: 'h' }>

/** Serves catch-up sessions for one database. */
export interface SyncServer {
  /** The database's manifest, for peers that open it by address. */
  readonly manifest: Uint8Array
  /** Answers the hello (ok or error) and runs the session. */
  serve (lp: LengthPrefixedStream<Stream>, peer: PeerId, hello: Hello): Promise<void>
}

function rideKey (address: string, peer: PeerId): string {
  return `${address} ${peer.toString()}`
}

const registries = new WeakMap<Libp2p, SyncRegistry>()
const HELLO_TIMEOUT = 10_000

/**
 * The catch-up protocol handler of one libp2p node, shared by every
 * database open on it: the dialer's hello names the database (or asks for
 * its manifest first: the hello may follow on the same stream).
 */
export class SyncRegistry {
  readonly #libp2p: Libp2p
  readonly #servers = new Map<string, SyncServer>()
  /** Peers sent a manifest whose session may follow on its stream, by `rideKey`. */
  readonly #rides = new Map<string, Promise<void>>()
  #handling: Promise<void> | undefined

  private constructor (libp2p: Libp2p) {
    this.#libp2p = libp2p
  }

  /** The registry of a node. */
  static of (libp2p: Libp2p): SyncRegistry {
    let registry = registries.get(libp2p)
    if (registry === undefined) registries.set(libp2p, registry = new SyncRegistry(libp2p))
    return registry
  }

  /** Serves a database's sessions; the protocol is handled while any database is registered. */
  async register (address: string, server: SyncServer): Promise<void> {
    this.#servers.set(address, server)
    this.#handling ??= this.#libp2p.handle(SYNC_PROTOCOL, (stream, connection) => this.#onStream(stream, connection), {
      maxInboundStreams: 64,
      maxOutboundStreams: 64
    })
    await this.#handling
  }

  /** Stops serving a database. */
  async unregister (address: string): Promise<void> {
    this.#servers.delete(address)
    if (this.#servers.size === 0 && this.#handling !== undefined) {
      this.#handling = undefined
      await this.#libp2p.unhandle(SYNC_PROTOCOL).catch(() => {})
    }
  }

  /**
   * Resolves once the peer that was sent the manifest of `address` went
   * on with its session on that stream (it is served then), or left it;
   * `undefined` if no such ride is pending.
   */
  rideFrom (address: string, peer: string): Promise<void> | undefined {
    return this.#rides.get(`${address} ${peer}`)
  }

  /** Whether a database is served here. */
  serves (address: string): boolean {
    return this.#servers.has(address)
  }

  async #onStream (stream: Stream, connection: Connection): Promise<void> {
    const lp = messages(stream)
    try {
      const peer = connection.remotePeer
      let hello = await readMessage(lp, HELLO_TIMEOUT)
      let ride: (() => void) | undefined
      if (hello.t === 'q') {
        const held = this.#servers.get(hello.db)
        await writeMessage(lp, held === undefined ? { t: 'e', reason: 'unknown database' } : { t: 'm', m: held.manifest })
        if (held === undefined) {
          await stream.close()
          return
        }
        // The peer opens the database with the manifest, and its session rides on this stream (or it closes it):
        // meanwhile this side does not dial a session of its own with the peer.
        const key = rideKey(hello.db, peer)
        const riding = new Promise<void>((resolve) => { ride = resolve })
        this.#rides.set(key, riding)
        void riding.then(() => { if (this.#rides.get(key) === riding) this.#rides.delete(key) })
        const next = await readMessage(lp, HELLO_TIMEOUT).catch(() => undefined)
        if (next === undefined) {
          ride?.()
          await stream.close()
          return
        }
        hello = next
      }
      try {
        if (hello.t !== 'h') throw new Error('expected hello')
        const server = this.#servers.get(hello.db)
        if (server === undefined) {
          await writeMessage(lp, { t: 'e', reason: 'unknown database' })
          await stream.close()
          return
        }
        const serving = server.serve(lp, peer, hello)
        // (Serving is under way: a session this side would dial now finds it.)
        ride?.()
        await serving
      } finally {
        ride?.()
      }
      await stream.close()
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }
}
