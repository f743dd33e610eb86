/**
 * An unambiguous byte encoding of a list of parts, the input of the HMACs
 * behind names and synthetic IVs: `['ab', 'c']` and `['a', 'bc']` must
 * never encode alike.
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'

const utf8 = new TextEncoder()

/**
 * UTF-8 of a string that has no lone surrogate (`TextEncoder` would turn
 * one into U+FFFD, so that two different strings would encode alike).
 * @throws {InvalidArgumentError} not a string, or not well-formed Unicode
 */
export function utf8Of (value: string, what: string): Uint8Array {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`)
  if (!value.isWellFormed()) throw new InvalidArgumentError(`${what} has a lone surrogate (not well-formed Unicode)`)
  return utf8.encode(value)
}

/**
 * Concatenates each part's length (4 bytes, big-endian) and bytes. Strings
 * are UTF-8.
 * @throws {InvalidArgumentError} a part is neither bytes nor a well-formed string
 */
export function encodeParts (parts: ReadonlyArray<string | Uint8Array>): Uint8Array {
  const encoded = parts.map((part) => part instanceof Uint8Array ? part : utf8Of(part, 'a name part'))
  const out = new Uint8Array(encoded.reduce((n, part) => n + 4 + part.length, 0))
  const view = new DataView(out.buffer)
  let offset = 0
  for (const part of encoded) {
    view.setUint32(offset, part.length)
    out.set(part, offset + 4)
    offset += 4 + part.length
  }
  return out
}
