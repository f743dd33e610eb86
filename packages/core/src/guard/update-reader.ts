/**
 * Bounded reads over a Yjs update's bytes, for the update guard: every read
 * that would pass the end (or hold what real Yjs never writes) throws
 * `MalformedUpdateError`.
 * @module
 */
import { MalformedUpdateError } from '../errors.ts'

const textDecoder = new TextDecoder()

/** Bounded reads over the update's bytes; every read that would pass the end throws. */
export class Reader {
  readonly bytes: Uint8Array
  pos = 0

  constructor (bytes: Uint8Array) {
    this.bytes = bytes
  }

  /** Bytes not read yet. */
  get remaining (): number {
    return this.bytes.length - this.pos
  }

  fail (what: string): never {
    throw new MalformedUpdateError(`malformed Yjs update at byte ${this.pos}: ${what}`)
  }

  u8 (what: string): number {
    if (this.pos >= this.bytes.length) this.fail(`${what}: unexpected end`)
    return this.bytes[this.pos++] as number
  }

  peek (): number | undefined {
    return this.bytes[this.pos]
  }

  skip (n: number, what: string): void {
    if (n > this.remaining) this.fail(`${what}: ${n} bytes declared, ${this.remaining} left`)
    this.pos += n
  }

  /**
   * An unsigned LEB128 integer as lib0 writes it: at most 8 bytes and at
   * most `Number.MAX_SAFE_INTEGER` (lib0's own reader turns longer ones
   * into NaN).
   */
  varUint (what: string): number {
    let num = 0
    let mult = 1
    for (let i = 0; i < 8; i++) {
      const b = this.u8(what)
      num += (b & 0x7f) * mult
      if (b < 0x80) {
        if (num > Number.MAX_SAFE_INTEGER) this.fail(`${what}: integer out of range`)
        return num
      }
      mult *= 128
    }
    return this.fail(`${what}: integer longer than 8 bytes`)
  }

  /** A signed integer as lib0 writes it (first byte: continuation, sign, 6 bits). */
  varInt (what: string): void {
    let b = this.u8(what)
    let num = b & 0x3f
    let mult = 64
    for (let i = 1; b >= 0x80; i++) {
      if (i === 8) this.fail(`${what}: integer longer than 8 bytes`)
      b = this.u8(what)
      num += (b & 0x7f) * mult
      mult *= 128
    }
    if (num > Number.MAX_SAFE_INTEGER) this.fail(`${what}: integer out of range`)
  }

  /** A count of things that each take at least `minBytes` bytes: it must fit in what remains. */
  count (what: string, minBytes: number): number {
    const n = this.varUint(what)
    if (n * minBytes > this.remaining) this.fail(`${what}: ${n} declared, but only ${this.remaining} bytes left`)
    return n
  }

  /** A length-prefixed byte string; returns its start (the reader moves past it). */
  lengthPrefixed (what: string, maxBytes = Number.POSITIVE_INFINITY): number {
    const n = this.varUint(`${what} length`)
    if (n > maxBytes) this.fail(`${what}: ${n} bytes exceeds the limit of ${maxBytes}`)
    const start = this.pos
    this.skip(n, what)
    return start
  }

  /** A length-prefixed UTF-8 string; returns its length in UTF-16 code units (Yjs's string length). */
  string (what: string, maxBytes?: number): number {
    const start = this.lengthPrefixed(what, maxBytes)
    return utf16Length(this, start, this.pos, what)
  }

  /** A length-prefixed UTF-8 string, decoded. */
  text (what: string, maxBytes: number): string {
    const start = this.lengthPrefixed(what, maxBytes)
    utf16Length(this, start, this.pos, what)
    return textDecoder.decode(this.bytes.subarray(start, this.pos))
  }

  /** A length-prefixed UTF-8 string holding JSON (or `undefined`, when `allowUndefined`). */
  json (what: string, allowUndefined: boolean): void {
    const start = this.lengthPrefixed(what)
    utf16Length(this, start, this.pos, what)
    const bytes = this.bytes.subarray(start, this.pos)
    // TextDecoder drops a leading byte-order mark that Yjs's decoder keeps (and JSON.parse refuses).
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) this.fail(`${what}: not JSON`)
    const text = textDecoder.decode(bytes)
    if (allowUndefined && text === 'undefined') return
    try {
      JSON.parse(text)
    } catch {
      this.fail(`${what}: not JSON`)
    }
  }
}

/**
 * Validates UTF-8 as a fatal TextDecoder would (no overlong forms, no
 * surrogates, nothing past U+10FFFF) and counts UTF-16 code units.
 */
function utf16Length (r: Reader, start: number, end: number, what: string): number {
  const a = r.bytes
  let units = 0
  let i = start
  while (i < end) {
    const b = a[i] as number
    if (b < 0x80) {
      i++
      units++
      continue
    }
    let need: number
    let cp: number
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1
      cp = b & 0x1f
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      cp = b & 0x0f
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      cp = b & 0x07
    } else {
      return r.fail(`${what}: invalid UTF-8`)
    }
    if (i + need >= end) return r.fail(`${what}: truncated UTF-8`)
    for (let k = 1; k <= need; k++) {
      const c = a[i + k] as number
      if ((c & 0xc0) !== 0x80) return r.fail(`${what}: invalid UTF-8`)
      cp = (cp << 6) | (c & 0x3f)
    }
    if ((need === 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff))) {
      return r.fail(`${what}: invalid UTF-8`)
    }
    units += need === 3 ? 2 : 1
    i += need + 1
  }
  return units
}
