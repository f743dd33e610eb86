/**
 * Checking the addresses a peer adapter is given, before anything opens:
 * each names what is wrong with it in an {@link AddressError}.
 * @module
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { AddressError } from '../errors.ts'

/**
 * Parses a multiaddr given as text (a listen, announce or bootstrap address).
 * @throws {AddressError} it does not parse
 */
export function parseAddress (address: string): Multiaddr {
  try {
    return multiaddr(address)
  } catch (cause) {
    throw new AddressError(address, `"${address}" is not a multiaddr: ${(cause as Error).message}`, { cause })
  }
}

/**
 * The peer id a multiaddr names (its last `/p2p/<peer id>`), as text;
 * `undefined` if it names none.
 */
export function peerOfAddress (address: Multiaddr): string | undefined {
  return address.getComponents().findLast((c) => c.name === 'p2p')?.value
}

/**
 * Checks a bootstrap address: a multiaddr that names its peer
 * (`/p2p/<peer id>`), which a peer dials to join the network.
 * @throws {AddressError} it does not parse, names no peer, or a peer id that is not one
 */
export function checkBootstrapAddress (address: string): Multiaddr {
  const parsed = parseAddress(address)
  const id = peerOfAddress(parsed)
  if (id === undefined) throw new AddressError(address, `the bootstrap address "${address}" names no peer: it must end with /p2p/<peer id>`)
  try {
    peerIdFromString(id)
  } catch (cause) {
    throw new AddressError(address, `the bootstrap address "${address}" has "${id}" as its peer id, which is not one: ${(cause as Error).message}`, { cause })
  }
  return parsed
}
