/**
 * Peers find each other through the DHT: a peer that holds a database
 * announces itself with a provider record for the database's address, and
 * dials the other providers it finds.
 * @module
 */
import { CID } from 'multiformats/cid'
import type { KadmiumLibp2p } from '../peer/peer.ts'
import { retry } from '../util/retry.ts'

/** Longest one round of announcing and looking takes (ms). */
const ROUND_TIMEOUT = 30_000

/** Announces and looks for the holders of one database, one round at a time. */
export class Discovery {
  readonly #libp2p: KadmiumLibp2p
  readonly #cid: CID
  readonly #abort = new AbortController()
  #round: Promise<void> | undefined

  constructor (libp2p: KadmiumLibp2p, address: string) {
    this.#libp2p = libp2p
    this.#cid = CID.parse(address)
  }

  /** Announces this node as a holder of the database in the DHT, and dials the other holders it finds (a round under way is joined). */
  async discover (): Promise<void> {
    this.#round ??= this.#run().finally(() => { this.#round = undefined })
    return this.#round
  }

  /** Ends the round under way. */
  async stop (): Promise<void> {
    this.#abort.abort()
    await this.#round?.catch(() => {})
  }

  async #run (): Promise<void> {
    const dht = this.#libp2p.services.dht
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(ROUND_TIMEOUT)])
    try {
      for await (const _ of dht.provide(this.#cid, { signal })) { /* drain */ }
    } catch {}
    try {
      for await (const event of dht.findProviders(this.#cid, { signal })) {
        if (event.name !== 'PROVIDER') continue
        for (const provider of event.providers) {
          if (provider.id.equals(this.#libp2p.peerId) || this.#libp2p.getConnections(provider.id).length > 0) continue
          try {
            if (provider.multiaddrs.length > 0) await this.#libp2p.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
            await retry(async () => this.#libp2p.dial(provider.id, { signal }), signal)
          } catch {}
        }
      }
    } catch {}
  }
}
