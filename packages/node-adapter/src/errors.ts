/**
 * Named error classes of `@kadmium/node`, on core's {@link KadmiumError}.
 * Tell them apart by `name`, never by message text.
 * @module
 */
import { InvalidArgumentError, KadmiumError } from '@kadmium/core'

/**
 * A peer key could not be read, decoded or used: the key file is not a
 * protobuf-encoded libp2p private key, or it holds another identity than
 * the `privateKey` passed to `nodePeer()`.
 */
export class PeerKeyError extends KadmiumError {
  override name = 'PeerKeyError'
}

/**
 * An address given to `nodePeer()` is not one: a bootstrap address that
 * does not parse as a multiaddr or lacks a valid `/p2p/<peer id>`, or a
 * listen or announce address that does not parse. `address` is the text
 * given; the message says what is wrong with it.
 */
export class AddressError extends InvalidArgumentError {
  override name = 'AddressError'
  /** The address as given. */
  readonly address: string
  constructor (address: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.address = address
  }
}

/** The peer was closed: it opens no more storage. */
export class PeerClosedError extends KadmiumError {
  override name = 'PeerClosedError'
}
