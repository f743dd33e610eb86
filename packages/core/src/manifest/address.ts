/**
 * Manifests and addresses. A database's manifest says what it is — its
 * name, its owners (a restricted database), its encryption — and its
 * address is the content hash of the manifest, so that no peer can change
 * what a shared address means. Wire form, CBOR:
 *
 * ```
 * open:       { v: 1, name }
 * restricted: { v: 1, name, owners: [key, ...] }           keys: raw 32-byte Ed25519, sorted
 * encrypted:  { v: 1, e: 1, n: sealed name, kc: key check, salt?, owners? }
 * ```
 * An encrypted manifest hides the name (sealed deterministically, so that
 * the same name and key give the same address on every device); `kc` lets
 * a peer tell a wrong key from a right one; `salt` (passphrase databases)
 * is SHA-256 of the name, domain-separated.
 * @module
 */
import { decode, encode } from 'cborg'
import { isBytes } from '../util/bytes.ts'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { InvalidArgumentError } from '../errors.ts'
import { bytesEqual, sha256 } from '../util/hash.ts'

/** Multicodec of raw bytes, and of SHA-256. */
const RAW = 0x55
const SHA2_256 = 0x12
/** Owners one manifest may name at most. */
export const MAX_OWNERS = 64

/** A decoded manifest. */
export interface Manifest {
  /** The name, in an unencrypted database. */
  readonly name?: string
  /** The owners' raw keys: a restricted database when not empty. */
  readonly owners: readonly Uint8Array[]
  /** Encryption parameters, in an encrypted database. */
  readonly encryption?: {
    /** The name, sealed deterministically. */
    readonly sealedName: Uint8Array
    /** The key check value of the database's secret. */
    readonly keyCheck: Uint8Array
    /** The passphrase salt, when the secret comes from a passphrase. */
    readonly salt?: Uint8Array
  }
}

/** Encodes a manifest (owners sorted, so that the same owners give the same address). */
export function encodeManifest (manifest: Manifest | string): Uint8Array {
  const m: Manifest = typeof manifest === 'string' ? { name: manifest, owners: [] } : manifest
  const owners = [...m.owners].sort(compareBytes)
  const withOwners = owners.length > 0 ? { owners } : {}
  if (m.encryption !== undefined) {
    const { sealedName, keyCheck, salt } = m.encryption
    return encode({ v: 1, e: 1, n: sealedName, kc: keyCheck, ...(salt !== undefined ? { salt } : {}), ...withOwners })
  }
  if (typeof m.name !== 'string') throw new InvalidArgumentError('an unencrypted manifest names the database')
  return encode({ v: 1, name: m.name, ...withOwners })
}

/**
 * Decodes a manifest read from the network.
 * @throws {InvalidArgumentError} it is not a manifest
 */
export function decodeManifest (bytes: Uint8Array): Manifest {
  let v: Record<string, unknown>
  try {
    v = decode(bytes) as Record<string, unknown>
  } catch (cause) {
    throw new InvalidArgumentError('a manifest is CBOR', { cause })
  }
  if (typeof v !== 'object' || v === null || v.v !== 1) throw new InvalidArgumentError('a manifest has v: 1')
  const owners = v.owners === undefined ? [] : v.owners
  if (!Array.isArray(owners) || owners.length > MAX_OWNERS || !owners.every((o) => isBytes(o) && o.length === 32)) {
    throw new InvalidArgumentError(`a manifest names at most ${MAX_OWNERS} owners, each a 32-byte key`)
  }
  if (v.e === 1) {
    const { n, kc, salt } = v
    if (!(isBytes(n)) || !(isBytes(kc)) || (salt !== undefined && !(isBytes(salt)))) {
      throw new InvalidArgumentError('an encrypted manifest has n, kc and maybe salt')
    }
    return { owners, encryption: { sealedName: n, keyCheck: kc, ...(isBytes(salt) ? { salt } : {}) } }
  }
  if (typeof v.name !== 'string') throw new InvalidArgumentError('a manifest names the database')
  return { name: v.name, owners }
}

/** The address of a manifest: the CID (v1, raw, SHA-256) of its bytes, as a base32 string. */
export function manifestAddress (bytes: Uint8Array): string {
  return CID.createV1(RAW, createDigest(SHA2_256, sha256(bytes))).toString()
}

/** The address of an open, unencrypted database: the same name gives the same address everywhere. */
export function databaseAddress (name: string): string {
  return manifestAddress(encodeManifest(name))
}

/** Whether `bytes` hash to `address`. */
export function matchesAddress (bytes: Uint8Array, address: string): boolean {
  try {
    return bytesEqual(CID.parse(address).multihash.digest, sha256(bytes))
  } catch {
    return false
  }
}

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  return a.length - b.length
}

/**
 * Whether `text` reads as a database address (a CID, as `db.address`
 * gives): what `createDatabase({ address })` accepts. It says nothing of
 * whether any peer has that database.
 */
export function isDatabaseAddress (text: unknown): text is string {
  if (typeof text !== 'string' || text.length === 0 || text.length > 512) return false
  try {
    CID.parse(text)
    return true
  } catch {
    return false
  }
}
