/**
 * The peer key: the libp2p private key that is a user's identity on this
 * device. Stored in the data directory as a protobuf-encoded libp2p
 * private key (the format of `@libp2p/crypto`'s `privateKeyToProtobuf`),
 * readable by its owner only.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PeerKeyError } from '@kadmium/core'
import { encodePeerKey } from '@kadmium/core/profile'
import { generateKeyPair, privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

// The key as bytes (libp2p's protobuf form), to move an identity: shared by every adapter.
export { encodePeerKey, decodePeerKey } from '@kadmium/core/profile'

/** Name of the peer key file inside a data directory. */
export const PEER_KEY_FILE = 'peer-key'

/**
 * The peer key stored in `dataDir`, or `undefined` if there is none.
 * Rejects with {@link PeerKeyError} if the file does not hold a key.
 */
export async function readPeerKey (dataDir: string): Promise<PrivateKey | undefined> {
  const path = join(dataDir, PEER_KEY_FILE)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new PeerKeyError(`cannot read the peer key at "${path}"`, { cause })
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (cause) {
    throw new PeerKeyError(`"${path}" does not hold a protobuf-encoded libp2p private key`, { cause })
  }
}

/**
 * Stores `key` as the peer key of `dataDir` (created if missing), readable
 * by its owner only (mode 0600). The file is replaced atomically: a crash
 * leaves the old key or the new one, never a torn file.
 */
export async function writePeerKey (dataDir: string, key: PrivateKey): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, PEER_KEY_FILE)
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(temporary, encodePeerKey(key), { mode: 0o600, flag: 'wx', flush: true })
    await chmod(temporary, 0o600) // the umask may have narrowed it further, never widened it: set it exactly
    await rename(temporary, path)
  } catch (cause) {
    await rm(temporary, { force: true })
    throw new PeerKeyError(`cannot write the peer key at "${path}"`, { cause })
  }
}

/**
 * The key a peer of `dataDir` runs with: `given` if passed (stored if the
 * directory has no key yet), else the stored key, else a new Ed25519 key,
 * stored. Rejects with {@link PeerKeyError} if `given` is another identity
 * than the stored one: replacing an identity is never silent.
 */
export async function loadPeerKey (dataDir: string, given?: PrivateKey): Promise<PrivateKey> {
  const stored = await readPeerKey(dataDir)
  if (stored !== undefined) {
    if (given !== undefined && !given.equals(stored)) {
      throw new PeerKeyError(`"${join(dataDir, PEER_KEY_FILE)}" holds another identity than the privateKey given; remove that file to replace the identity`)
    }
    return stored
  }
  const key = given ?? await generateKeyPair('Ed25519')
  await writePeerKey(dataDir, key)
  return key
}
