/**
 * Finding a database's manifest by its address, for `createDatabase({
 * address })`: every source at once — each connected peer asked directly
 * (it answers if it has the database open), the manifest block in the DHT,
 * and the providers of the address found in the DHT (dialed, then asked).
 * Peers still connecting are awaited, not raced: each peer that connects
 * and identifies is asked in turn, and the DHT is asked again as the
 * routing table fills. The first manifest that matches the address wins;
 * if a peer sent it, the stream it came on is kept for the catch-up
 * session with that peer.
 * @module
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { fetchManifestBlock } from '../dht/manifest-fetch.ts'
import { DatabaseNotFoundError, InvalidArgumentError, PeersUnreachableError } from '../errors.ts'
import { matchesAddress } from '../manifest/address.ts'
import type { KadmiumLibp2p } from '../peer/peer.ts'
import { release, requestManifest, type ManifestAnswer } from '../sync/manifest-request.ts'

/** How often the DHT is asked again while nothing was found (ms). */
const DHT_ROUND_EVERY = 1000
/**
 * How long a DHT round waits while connected peers are being asked
 * directly (ms): a peer that has the database answers within a round trip,
 * and a DHT query meanwhile competes with it for the CPU. A round asked for
 * goes at once when every peer asked has answered without the manifest.
 */
const DIRECT_FIRST = 250

/** A manifest found, and the peer's stream it came on (if a peer sent it), for the session that follows. */
export interface FoundManifest {
  readonly manifest: Uint8Array
  readonly answer?: ManifestAnswer
}

/**
 * Looks the manifest of the database at `address` up until `timeout` ms.
 * @throws {InvalidArgumentError} the address is not a database address
 * @throws {PeersUnreachableError} no peer was connected at any moment of the wait
 * @throws {DatabaseNotFoundError} peers were reached, but none had the database
 */
export async function lookUpManifest (libp2p: KadmiumLibp2p, address: string, timeout: number): Promise<FoundManifest> {
  let cid: CID
  try {
    cid = CID.parse(address)
  } catch (cause) {
    throw new InvalidArgumentError(`"${address}" is not a database address`, { cause })
  }
  return await new Lookup(libp2p, address, cid, timeout).run()
}

/** One lookup: its sources, and what it learnt of the network while waiting. */
class Lookup {
  readonly #libp2p: KadmiumLibp2p
  readonly #address: string
  readonly #cid: CID
  readonly #timeout: number
  readonly #abort = new AbortController()
  readonly #asked = new Set<string>()
  /** Whether any peer was connected at some moment of the lookup. */
  #reached: boolean
  #dhtRunning = false
  #dhtAgain = false
  /** Peers asked directly whose answer has not come yet. */
  #asking = 0
  /** A DHT round waiting for the direct answers (see {@link DIRECT_FIRST}). */
  #dhtDeferred: ReturnType<typeof setTimeout> | undefined
  #found: ((found: FoundManifest) => void) | undefined
  #done = false

  constructor (libp2p: KadmiumLibp2p, address: string, cid: CID, timeout: number) {
    this.#libp2p = libp2p
    this.#address = address
    this.#cid = cid
    this.#timeout = timeout
    this.#reached = libp2p.getConnections().length > 0
  }

  async run (): Promise<FoundManifest> {
    // A peer is asked as soon as its connection opens: the protocol is negotiated on the
    // stream, so there is no need to wait for identify (a peer without it just refuses).
    const onConnection = (event: CustomEvent<Connection>): void => {
      this.#reached = true
      this.#ask(event.detail.remotePeer)
    }
    const onIdentify = (event: CustomEvent<{ peerId: PeerId }>): void => {
      this.#reached = true
      // (A peer asked on connect is not asked again.)
      this.#ask(event.detail.peerId)
      // A new peer widens the routing table: the DHT may find it now.
      this.#askDht()
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    let rounds: ReturnType<typeof setInterval> | undefined
    try {
      return await new Promise<FoundManifest>((resolve, reject) => {
        this.#found = resolve
        timer = setTimeout(() => {
          reject(this.#reached
            ? new DatabaseNotFoundError(this.#address, `no peer reached in ${this.#timeout} ms has the database at "${this.#address}"`)
            : new PeersUnreachableError(`no peer could be reached in ${this.#timeout} ms to open the database at "${this.#address}"`))
        }, this.#timeout)
        this.#libp2p.addEventListener('connection:open', onConnection)
        this.#libp2p.addEventListener('peer:identify', onIdentify)
        for (const connection of this.#libp2p.getConnections()) this.#ask(connection.remotePeer)
        this.#askDht()
        rounds = setInterval(() => { this.#askDht() }, DHT_ROUND_EVERY)
      })
    } finally {
      this.#done = true
      clearTimeout(timer)
      clearTimeout(this.#dhtDeferred)
      clearInterval(rounds)
      this.#abort.abort()
      this.#libp2p.removeEventListener('connection:open', onConnection)
      this.#libp2p.removeEventListener('peer:identify', onIdentify)
    }
  }

  /** Takes a manifest from any source, if it is the one the address names. */
  #offer (bytes: Uint8Array | undefined): void {
    if (this.#done || bytes === undefined || !matchesAddress(bytes, this.#address)) return
    this.#done = true
    this.#found?.({ manifest: bytes })
  }

  /** Takes a peer's answer, if it is the first manifest that matches; else closes its stream. */
  #offerAnswer (answer: ManifestAnswer | undefined): void {
    if (answer === undefined) return
    if (this.#done || !matchesAddress(answer.manifest, this.#address)) {
      release(answer)
      return
    }
    this.#done = true
    this.#found?.({ manifest: answer.manifest, answer })
  }

  /** Asks a peer once. */
  #ask (peer: PeerId): void {
    const key = peer.toString()
    if (this.#asked.has(key) || this.#abort.signal.aborted) return
    this.#asked.add(key)
    this.#asking++
    void requestManifest(this.#libp2p, peer, this.#address, this.#abort.signal).then((answer) => {
      this.#asking--
      this.#offerAnswer(answer)
      // Every peer asked answered without it: the DHT round waiting for them goes now.
      if (this.#asking === 0 && this.#dhtDeferred !== undefined) {
        clearTimeout(this.#dhtDeferred)
        this.#dhtDeferred = undefined
        this.#askDht()
      }
    })
  }

  /** Runs a DHT round (the manifest block, and the providers), or another right after the one under way; while peers are asked directly, a little later. */
  #askDht (): void {
    if (this.#abort.signal.aborted || this.#dhtDeferred !== undefined) return
    if (this.#asking > 0) {
      this.#dhtDeferred = setTimeout(() => {
        this.#dhtDeferred = undefined
        this.#askDht()
      }, DIRECT_FIRST)
      return
    }
    if (this.#dhtRunning) {
      this.#dhtAgain = true
      return
    }
    this.#dhtRunning = true
    void this.#dhtRound().finally(() => {
      this.#dhtRunning = false
      if (this.#dhtAgain) {
        this.#dhtAgain = false
        this.#askDht()
      }
    })
  }

  async #dhtRound (): Promise<void> {
    const signal = this.#abort.signal
    const dht = this.#libp2p.services.dht
    const block = fetchManifestBlock(dht, this.#cid, signal).then((bytes) => { this.#offer(bytes) })
    const providers = (async () => {
      try {
        for await (const event of dht.findProviders(this.#cid, { signal })) {
          if (event.name !== 'PROVIDER') continue
          for (const provider of event.providers) {
            if (provider.id.equals(this.#libp2p.peerId) || this.#asked.has(provider.id.toString())) continue
            if (provider.multiaddrs.length > 0) await this.#libp2p.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }).catch(() => {})
            // (Dialing the protocol connects first.)
            this.#ask(provider.id)
          }
        }
      } catch {}
    })()
    await Promise.all([block, providers])
  }
}
