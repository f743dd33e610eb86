/**
 * SHA-256 on Node's crypto (OpenSSL): as fast as `@noble/hashes` on a few
 * bytes and much faster on large ones, which counts for DHT blocks: their
 * writer hashes them, and every DHT server that stores one hashes it again
 * to check its key.
 * @module
 */
import { createHash } from 'node:crypto'
import { useSha256, type Sha256 } from '@kadmium/core'

/** SHA-256 by `node:crypto`. */
export const nodeSha256: Sha256 = (bytes) => {
  const digest = createHash('sha256').update(bytes).digest()
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/** Makes Kadmium hash with `node:crypto` in this process (`@kadmium/node` does it when imported). */
export function installNodeSha256 (): void {
  useSha256(nodeSha256)
}
