/**
 * Asking a peer for a database's manifest over the catch-up protocol: a
 * peer that has the database open answers with it, so that a database
 * opened by address needs no DHT lookup when such a peer is connected.
 * @module
 */
import type { PeerId } from '@libp2p/interface'
import type { KadmiumLibp2p } from '../peer/peer.ts'
import { SYNC_PROTOCOL } from './sync-messages.ts'
import { messages, readMessage, writeMessage } from './sync-session.ts'

/** Longest wait for a peer's answer (ms). */
const ANSWER_TIMEOUT = 10_000

/**
 * Asks `peer` for the manifest of the database at `address`. Resolves the
 * bytes it sent (unchecked: the caller checks them against the address),
 * or `undefined` if it does not hold the database or does not answer.
 */
export async function requestManifest (libp2p: KadmiumLibp2p, peer: PeerId, address: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
  try {
    const stream = await libp2p.dialProtocol(peer, SYNC_PROTOCOL, { signal })
    try {
      const lp = messages(stream)
      await writeMessage(lp, { t: 'q', db: address })
      const answer = await readMessage(lp, ANSWER_TIMEOUT)
      await stream.close()
      return answer.t === 'm' ? answer.m : undefined
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)))
      return undefined
    }
  } catch {
    return undefined
  }
}
