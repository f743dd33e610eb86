/**
 * Heads whose signature verified lately: kad-dht runs the validator on a
 * value each time it is stored or read (the local copy too), and a head
 * set holds up to 16 heads, so each head is verified once, not on every
 * query. Bounded; keyed by the SHA-256 of the DHT key and the head bytes.
 * @module
 */
import { sha256, toHex } from '../util/hash.ts'

const MAX_ENTRIES = 4096
const verified = new Set<string>()

function idOf (key: Uint8Array, head: Uint8Array): string {
  const both = new Uint8Array(4 + key.length + head.length)
  new DataView(both.buffer).setUint32(0, key.length)
  both.set(key, 4)
  both.set(head, 4 + key.length)
  return toHex(sha256(both))
}

/** Whether `head`'s signature verified for `key` lately. */
export function verifiedBefore (key: Uint8Array, head: Uint8Array): boolean {
  return verified.has(idOf(key, head))
}

/** Remembers that `head`'s signature verified for `key` (the oldest memory goes first). */
export function rememberVerified (key: Uint8Array, head: Uint8Array): void {
  const id = idOf(key, head)
  verified.delete(id)
  verified.add(id)
  if (verified.size > MAX_ENTRIES) verified.delete(verified.values().next().value as string)
}
