/**
 * Asking a peer for a database's manifest over the catch-up protocol: a
 * peer that has the database open answers with it, so that a database
 * opened by address needs no DHT lookup when such a peer is connected.
 * The stream stays open after the answer: the catch-up session with that
 * peer rides on it once the database is open (no second stream to
 * negotiate), or it is closed.
 * @module
 */
import type { PeerId, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { KadmiumLibp2p } from '../peer/peer.ts'
import { SYNC_PROTOCOL } from './sync-messages.ts'
import { messages, readMessage, writeMessage } from './sync-session.ts'

/** Longest wait for a peer's answer (ms). */
const ANSWER_TIMEOUT = 10_000

/** A manifest a peer sent, with the stream it came on: open, for the session that follows. */
export interface ManifestAnswer {
  /** The manifest's bytes, unchecked: the caller checks them against the address. */
  readonly manifest: Uint8Array
  /** The peer that sent it. */
  readonly peer: PeerId
  readonly stream: Stream
  readonly lp: LengthPrefixedStream<Stream>
}

/**
 * Asks `peer` for the manifest of the database at `address`. Resolves its
 * answer (whose stream the caller closes with {@link release}, or runs a
 * session on), or `undefined` if it does not hold the database or does
 * not answer.
 */
export async function requestManifest (libp2p: KadmiumLibp2p, peer: PeerId, address: string, signal: AbortSignal): Promise<ManifestAnswer | undefined> {
  let stream: Stream
  try {
    stream = await libp2p.dialProtocol(peer, SYNC_PROTOCOL, { signal })
  } catch {
    return undefined
  }
  try {
    const lp = messages(stream)
    await writeMessage(lp, { t: 'q', db: address })
    const answer = await readMessage(lp, ANSWER_TIMEOUT)
    if (answer.t === 'm') return { manifest: answer.m, peer, stream, lp }
    await stream.close()
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
  }
  return undefined
}

/** Closes the stream of an answer no session rides on. */
export function release (answer: ManifestAnswer): void {
  answer.stream.close().catch((error: unknown) => { answer.stream.abort(error instanceof Error ? error : new Error(String(error))) })
}
