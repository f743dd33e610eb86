/**
 * Named error classes of `@kadmium/node`, on core's {@link KadmiumError}.
 * Tell them apart by `name`, never by message text.
 * @module
 */
import { KadmiumError } from '@kadmium/core'

/**
 * A peer key could not be read, decoded or used: the key file is not a
 * protobuf-encoded libp2p private key, or it holds another identity than
 * the `privateKey` passed to `nodePeer()`.
 */
export class PeerKeyError extends KadmiumError {
  override name = 'PeerKeyError'
}

/** The peer was closed: it opens no more storage. */
export class PeerClosedError extends KadmiumError {
  override name = 'PeerClosedError'
}
