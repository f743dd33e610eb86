/**
 * Named errors of `@kadmium/node`. The errors of peers (`AddressError`,
 * `PeerKeyError`, `PeerClosedError`) and of storage (`StorageError`, and
 * its kinds `StorageFullError` and `StorageCorruptionError`) are core's,
 * shared with the other adapters, and re-exported here; tell them apart by
 * `name`, never by message text.
 * @module
 */
export { AddressError, PeerClosedError, PeerKeyError, StorageCorruptionError, StorageError, StorageFullError } from '@kadmium/core'
