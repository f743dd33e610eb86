/**
 * Works out what database `createDatabase` opens: its name, manifest and
 * address, its owners, and its secret — from a name (and the owners and
 * key the caller gives), or from an address whose manifest is read from
 * the DHT.
 * @module
 */
import { decodeManifest, encodeManifest, manifestAddress, matchesAddress, type Manifest } from './address.ts'
import { deriveSecret, passphraseSalt, type DatabaseSecret, type EncryptionOptions } from '../crypto/secret.ts'
import { DecryptionError, InvalidArgumentError } from '../errors.ts'
import { bytesEqual } from '../util/hash.ts'
import { keyOfPeerId } from '../access/peer-ids.ts'

/** Who may write to a database (`createDatabase({ access })`). */
export interface AccessOptions {
  /**
   * The owners' identities (peer ids, e.g. `peer.libp2p.peerId.toString()`):
   * they, and the writers they grant, are the only ones whose writes are
   * applied. Part of the address: the same name with other owners is
   * another database.
   */
  readonly owners: readonly string[]
}

/** What {@link setUpDatabase} works out. */
export interface DatabaseSetup {
  readonly name: string
  readonly address: string
  readonly manifest: Uint8Array
  /** Raw keys of the owners; empty: an open database. */
  readonly owners: readonly Uint8Array[]
  /** The secret of an encrypted database. */
  readonly secret?: DatabaseSecret
}

/** The options of `createDatabase` this reads. */
export interface SetupOptions {
  readonly name?: string | undefined
  readonly address?: string | undefined
  readonly access?: AccessOptions | undefined
  readonly encryption?: EncryptionOptions | undefined
}

/** Reads a manifest by its address from the network (the DHT, peers). */
export type ManifestFetch = (address: string) => Promise<Uint8Array>

/**
 * Resolves name, address, owners and secret.
 * @param fetch reads the manifest of a database opened by address; none: the database has no peer
 * @throws {InvalidArgumentError} bad options, or a name that does not match the address
 * @throws {DecryptionError} the key does not open the database at this address
 * @throws {PeersUnreachableError} | {DatabaseNotFoundError} opening by address: the manifest could not be had (from `fetch`)
 */
export async function setUpDatabase (options: SetupOptions, fetch?: ManifestFetch): Promise<DatabaseSetup> {
  const { address, name } = options
  if (address !== undefined && typeof address !== 'string') throw new InvalidArgumentError('"address" must be a string')
  if (name === undefined && address !== undefined) return fromAddress(address, options, fetch)
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
    throw new InvalidArgumentError('a database name is a string of 1 to 256 characters')
  }
  const owners = ownersOf(options.access)
  let manifest: Manifest = { name, owners }
  let secret: DatabaseSecret | undefined
  if (options.encryption !== undefined) {
    const salt = 'passphrase' in options.encryption ? passphraseSalt(name) : undefined
    secret = await deriveSecret(options.encryption, salt ?? new Uint8Array(0))
    const sealedName = await secret.sealDeterministic(new TextEncoder().encode(name))
    manifest = { owners, encryption: { sealedName, keyCheck: secret.keyCheck, ...(salt !== undefined ? { salt } : {}) } }
  }
  const bytes = encodeManifest(manifest)
  const computed = manifestAddress(bytes)
  if (address !== undefined && address !== computed) {
    if (options.encryption !== undefined) throw new DecryptionError(`the key (or the owners) do not open the database at "${address}"`)
    throw new InvalidArgumentError(`database "${name}" with these owners does not have the address "${address}"`)
  }
  return { name, address: computed, manifest: bytes, owners, ...(secret !== undefined ? { secret } : {}) }
}

async function fromAddress (address: string, options: SetupOptions, fetch: ManifestFetch | undefined): Promise<DatabaseSetup> {
  if (fetch === undefined) throw new InvalidArgumentError('opening a database by address needs "peer"')
  const bytes = await fetch(address)
  if (!matchesAddress(bytes, address)) throw new InvalidArgumentError(`the manifest found for "${address}" does not match it`)
  const manifest = decodeManifest(bytes)
  if (manifest.encryption === undefined) {
    if (options.encryption !== undefined) throw new InvalidArgumentError(`the database at "${address}" is not encrypted`)
    return { name: manifest.name as string, address, manifest: bytes, owners: manifest.owners }
  }
  if (options.encryption === undefined) throw new InvalidArgumentError(`the database at "${address}" is encrypted: give "encryption"`)
  const secret = await deriveSecret(options.encryption, manifest.encryption.salt ?? new Uint8Array(0))
  if (!bytesEqual(secret.keyCheck, manifest.encryption.keyCheck)) throw new DecryptionError(`the key does not open the database at "${address}"`)
  const name = new TextDecoder().decode(await secret.openDeterministic(manifest.encryption.sealedName))
  return { name, address, manifest: bytes, owners: manifest.owners, secret }
}

function ownersOf (access: AccessOptions | undefined): Uint8Array[] {
  if (access === undefined) return []
  if (typeof access !== 'object' || access === null || !Array.isArray(access.owners) || access.owners.length === 0) {
    throw new InvalidArgumentError('"access" is { owners: [peer id, ...] } with at least one owner')
  }
  return (access.owners as readonly unknown[]).map((owner) => {
    try {
      if (typeof owner !== 'string') throw new Error('not a string')
      return keyOfPeerId(owner)
    } catch (cause) {
      throw new InvalidArgumentError(`owner "${String(owner)}" is not an Ed25519 peer id`, { cause })
    }
  })
}
