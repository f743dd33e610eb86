/**
 * The raw baselines' wire format (the `replicate` and `cold-join`
 * scenarios): one record per message, `[id length, id, Yjs update]`.
 * @module
 */

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** `[id length, id, update]`: one raw message. */
export function frame (id: string, update: Uint8Array): Uint8Array {
  const idBytes = encoder.encode(id)
  const out = new Uint8Array(1 + idBytes.length + update.length)
  out[0] = idBytes.length
  out.set(idBytes, 1)
  out.set(update, 1 + idBytes.length)
  return out
}

/** The id and update of a raw message. */
export function unframe (bytes: Uint8Array): { readonly id: string, readonly update: Uint8Array } {
  const idLength = bytes[0] ?? 0
  return { id: decoder.decode(bytes.subarray(1, 1 + idLength)), update: bytes.subarray(1 + idLength) }
}
