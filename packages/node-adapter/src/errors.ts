/**
 * Named errors of `@kadmium/node`. The errors of peers (`AddressError`,
 * `PeerKeyError`, `PeerClosedError`) are core's, shared with the other
 * adapters, and re-exported here; tell them apart by `name`, never by
 * message text.
 * @module
 */
export { AddressError, PeerClosedError, PeerKeyError } from '@kadmium/core'
