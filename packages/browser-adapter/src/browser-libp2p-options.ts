/**
 * The libp2p configuration of a browser peer: what is the browser's
 * (transports — WebSockets and WebRTC-Direct to dial always-on peers,
 * WebRTC between browsers with the circuit relay transport for its
 * signalling —, bootstrap discovery, relayed listen addresses, the key)
 * around the platform-neutral Kadmium profile of `@kadmium/core/profile`,
 * as a DHT client.
 * @module
 */
import type { KadmiumServices } from '@kadmium/core'
import { kadmiumLibp2pOptions } from '@kadmium/core/profile'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { PrivateKey } from '@libp2p/interface'
import { webRTC, webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { MemoryDatastore } from 'datastore-core'
import type { Libp2pOptions } from 'libp2p'
import type { ResolvedBrowserPeerOptions } from './browser-peer-options.ts'

/**
 * Listen addresses of a relayed browser: a reservation on a relay
 * (`/p2p-circuit`, found among the connected peers), and WebRTC through
 * it (`/webrtc`).
 */
export const RELAYED_LISTEN: readonly string[] = Object.freeze(['/p2p-circuit', '/webrtc'])

/**
 * The libp2p options of a browser peer: Kadmium's profile for
 * `options.network` as a DHT client (a tab comes and goes: it stores no
 * one's records), on an in-memory datastore wrapped so that the DHT
 * records it puts itself merge; WebSockets, WebRTC-Direct, WebRTC and the
 * circuit relay transport (WebRTC needs it for its signalling).
 */
export function browserLibp2pOptions (options: ResolvedBrowserPeerOptions, privateKey: PrivateKey): Libp2pOptions<KadmiumServices> {
  const profile = kadmiumLibp2pOptions({ network: options.network, dhtMode: 'client', datastore: new MemoryDatastore() })
  const rtc = options.rtcConfiguration === undefined ? {} : { rtcConfiguration: options.rtcConfiguration }
  return {
    ...profile,
    privateKey,
    addresses: { listen: options.relayed ? [...RELAYED_LISTEN] : [] },
    transports: [webSockets(), webRTCDirect(rtc), webRTC(rtc), circuitRelayTransport()],
    peerDiscovery: options.bootstrap.length > 0 ? [bootstrap({ list: [...options.bootstrap] })] : []
  }
}
