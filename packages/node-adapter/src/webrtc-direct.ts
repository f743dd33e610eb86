/**
 * The WebRTC-Direct transport of Node.js peers (`@libp2p/webrtc` on the
 * native `node-datachannel`), loaded only by a peer that uses it, and
 * released with the last such peer of the process.
 *
 * node-datachannel keeps native threads that hold the process open after
 * every peer connection closed: a process that used WebRTC-Direct would
 * not exit by itself (js-libp2p leaves its `cleanup()` out, since it
 * closes every connection of the process). Peers count themselves here,
 * and the last one to close calls it.
 * @module
 */
import type { Libp2pOptions } from 'libp2p'

type TransportFactory = NonNullable<Libp2pOptions['transports']>[number]

/** Peers of this process that hold the transport. */
let holders = 0

/**
 * A WebRTC-Direct transport for one peer, which must {@link releaseWebRTCDirect}
 * once it stopped (or failed to start).
 */
export async function holdWebRTCDirect (): Promise<TransportFactory> {
  holders++
  try {
    const { webRTCDirect } = await import('@libp2p/webrtc')
    return webRTCDirect()
  } catch (error) {
    await releaseWebRTCDirect()
    throw error
  }
}

/**
 * Releases a peer's hold; the last release of the process closes what
 * node-datachannel keeps (a later peer starts it again).
 */
export async function releaseWebRTCDirect (): Promise<void> {
  if (holders === 0) return
  holders--
  if (holders > 0) return
  const { cleanup } = await import('node-datachannel')
  if (holders === 0) cleanup()
}
