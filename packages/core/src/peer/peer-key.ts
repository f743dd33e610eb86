/**
 * A peer key as bytes: how an identity moves between devices and
 * platforms (a Node.js data directory, a browser's IndexedDB). The format
 * is libp2p's protobuf form of a private key (`@libp2p/crypto`'s
 * `privateKeyToProtobuf`).
 * @module
 */
import { privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { PeerKeyError } from '../errors.ts'

/** The key as bytes, to move an identity to another device (then {@link decodePeerKey}). Keep them secret. */
export function encodePeerKey (key: PrivateKey): Uint8Array {
  return privateKeyToProtobuf(key)
}

/**
 * A key from the bytes {@link encodePeerKey} made.
 * @throws {PeerKeyError} they are not a protobuf-encoded libp2p private key
 */
export function decodePeerKey (bytes: Uint8Array): PrivateKey {
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (cause) {
    throw new PeerKeyError('these bytes are not a protobuf-encoded libp2p private key', { cause })
  }
}
