/**
 * The libp2p configuration of a Node.js Kadmium peer: what is Node's
 * (transports — TCP, WebSockets, WebRTC-Direct if asked for, memory —,
 * peer discovery, addresses, key, LevelDB datastore, the relay server) around
 * the platform-neutral Kadmium profile of `@kadmium/core/profile`
 * (services, noise, yamux, the merging datastore wrapper, the local
 * network's connection settings).
 * @module
 */
import type { KadmiumServices } from '@kadmium/core'
import { kadmiumLibp2pOptions } from '@kadmium/core/profile'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import type { PrivateKey } from '@libp2p/interface'
import { keychain } from '@libp2p/keychain'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import type { LevelDatastore } from 'datastore-level'
import type { Libp2pOptions } from 'libp2p'
import type { ResolvedNodePeerOptions } from './node-peer-options.ts'
import { holdWebRTCDirect } from './webrtc-direct.ts'

/**
 * The services of a Node.js peer: Kadmium's ({@link KadmiumServices},
 * which now include identify and ping). Kept as a name of its own for
 * code written against earlier versions.
 */
export type NodePeerServices = KadmiumServices

/**
 * The libp2p options of a peer: Node's transports, discovery and
 * addresses, and Kadmium's profile tuned for `options.network`, as a DHT
 * server. The datastore is wrapped so that this peer's DHT server merges
 * Kadmium heads instead of replacing them.
 *
 * WebRTC-Direct (`@libp2p/webrtc`, on the native `node-datachannel`) is
 * loaded only for a peer that has it: it takes a few hundred ms and tens
 * of MB to load. Its certificate's key is kept by libp2p's keychain in the
 * datastore, so the peer's `/certhash/...` survives restarts. The caller
 * must call `releaseWebRTCDirect()` once the node stopped, or failed to
 * be created, if `options.webRTCDirect`.
 */
export async function libp2pOptions (
  options: ResolvedNodePeerOptions,
  privateKey: PrivateKey,
  datastore: LevelDatastore
): Promise<Libp2pOptions<NodePeerServices>> {
  const transports: NonNullable<Libp2pOptions['transports']> = [tcp(), webSockets()]
  if (options.memory) transports.push(memory())
  // Held by the peer: it releases it when it stops (see webrtc-direct.ts).
  if (options.webRTCDirect) transports.push(await holdWebRTCDirect())

  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  if (options.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: [...options.bootstrap] }))
  if (options.mdns) peerDiscovery.push(mdns())

  // A Node.js peer is always on: it answers DHT queries and stores other peers' records (server mode, set explicitly).
  const profile = kadmiumLibp2pOptions({ network: options.network, dhtMode: 'server', datastore })
  const relay = options.relay
  return {
    ...profile,
    services: {
      ...profile.services,
      ...(relay === undefined
        ? {}
        : {
            relay: circuitRelayServer({
              reservations: {
                maxReservations: relay.maxReservations,
                applyDefaultLimit: relay.connectionDurationMs > 0 || relay.connectionBytes > 0,
                defaultDurationLimit: relay.connectionDurationMs,
                defaultDataLimit: BigInt(relay.connectionBytes)
              }
            })
          }),
      // Keeps the key of the WebRTC-Direct certificate in the datastore (the certificate is kept there too).
      ...(options.webRTCDirect ? { keychain: keychain() } : {})
    },
    privateKey,
    addresses: {
      listen: [...options.listen],
      ...(options.announce.length > 0 ? { announce: [...options.announce] } : {})
    },
    transports,
    peerDiscovery
  }
}
