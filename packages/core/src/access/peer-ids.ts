/**
 * Ed25519 peer ids, to and from raw public keys, without loading libp2p's
 * key and peer-id packages (their code and dependencies take memory that
 * a local-only database has no other use for). The forms are libp2p's: a
 * peer id is the identity multihash of the protobuf-encoded public key,
 * written in base58btc without a multibase prefix (`12D3KooW…`), or as a
 * CIDv1 with the `libp2p-key` codec (`bafzaa…`, `k51…`). Tests check both
 * directions against `@libp2p/peer-id`.
 * @module
 */
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { bytesEqual } from '../util/hash.ts'

/** Length of an Ed25519 public key. */
const KEY_BYTES = 32
/** The multicodec of a CID that names a peer. */
const LIBP2P_KEY = 0x72
/** The identity multihash code. */
const IDENTITY = 0x00
/**
 * Multihash header (identity, 36 bytes) and protobuf header of a libp2p
 * public key: field 1 (type) = 1 (Ed25519), field 2 (data) of 32 bytes.
 */
const HEADER = new Uint8Array([IDENTITY, 4 + KEY_BYTES, 0x08, 0x01, 0x12, KEY_BYTES])

/** The peer id string (`12D3KooW…`) of a raw Ed25519 public key. */
export function peerIdOfKey (raw: Uint8Array): string {
  if (raw.length !== KEY_BYTES) throw new TypeError(`an Ed25519 public key is ${KEY_BYTES} bytes, not ${raw.length}`)
  const multihash = new Uint8Array(HEADER.length + KEY_BYTES)
  multihash.set(HEADER)
  multihash.set(raw, HEADER.length)
  return base58btc.baseEncode(multihash)
}

/**
 * The raw Ed25519 public key a peer id names.
 * @throws {TypeError} the string is not a peer id, or not of an Ed25519 key
 */
export function keyOfPeerId (id: string): Uint8Array {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError('a peer id is a non-empty string')
  let multihash: Uint8Array
  try {
    multihash = id.startsWith('1') || id.startsWith('Q') ? base58btc.baseDecode(id) : peerCid(id)
  } catch (cause) {
    throw new TypeError(`"${id}" is not a peer id`, { cause })
  }
  const header = multihash.subarray(0, HEADER.length)
  if (multihash.length !== HEADER.length + KEY_BYTES || !bytesEqual(header, HEADER)) {
    throw new TypeError(`"${id}" is not the peer id of an Ed25519 key`)
  }
  return multihash.slice(HEADER.length)
}

/** The multihash of a peer id written as a CID. */
function peerCid (id: string): Uint8Array {
  const cid = CID.parse(id, base32.decoder.or(base36.decoder).or(base58btc.decoder))
  if (cid.code !== LIBP2P_KEY) throw new TypeError(`the CID "${id}" does not name a peer`)
  return cid.multihash.bytes
}
