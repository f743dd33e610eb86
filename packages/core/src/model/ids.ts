import { InvalidArgumentError } from '../errors.ts'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ' // Crockford base32, as ULID uses

let lastTime = -1
let lastRandom = new Uint8Array(10)

/**
 * A new record id: 26 characters, a ULID. Ids made later sort after ids
 * made earlier (within one process, strictly: the random part counts up
 * inside one millisecond), so ordering by id is ordering by creation time.
 */
export function newId (now: number = Date.now()): string {
  if (now <= lastTime) {
    increment(lastRandom)
    now = lastTime
  } else {
    lastRandom = crypto.getRandomValues(new Uint8Array(10))
    lastTime = now
  }
  let out = ''
  let t = now
  const time: string[] = []
  for (let i = 0; i < 10; i++) {
    time.push(ALPHABET[t % 32] as string)
    t = Math.floor(t / 32)
  }
  out = time.reverse().join('')
  // 80 random bits as 16 base32 characters, 5 bits at a time.
  let acc = 0
  let bits = 0
  for (const byte of lastRandom) {
    acc = (acc << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += ALPHABET[(acc >> bits) & 31]
    }
    acc &= (1 << bits) - 1
  }
  return out
}

function increment (bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] === 255) {
      bytes[i] = 0
    } else {
      bytes[i] = (bytes[i] as number) + 1
      return
    }
  }
}

/** Longest record id accepted. */
export const MAX_ID_LENGTH = 256

/**
 * Checks an id given by the user or a peer: 1 to 256 characters, no
 * control characters, no `/` (ids are parts of storage keys).
 */
export function checkId (id: unknown, what = 'record id'): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new InvalidArgumentError(`${what} must be a string of 1 to ${MAX_ID_LENGTH} characters`)
  }
  if (!plainId(id)) {
    throw new InvalidArgumentError(`${what} "${id.slice(0, 40)}" holds a control character, "/" or a lone surrogate`)
  }
  return id
}

const SLASH = 0x2f
const DEL = 0x7f
/** U+10FFFF, a noncharacter (the last code point), as UTF-16. */
const LAST_CODE_POINT = '\u{10FFFF}'

/**
 * Whether an id holds no control character, `/`, U+10FFFF or lone
 * surrogate. A loop over char codes rather than a regular expression: it
 * runs for every write and every update from a peer, and a regular
 * expression that has not run for a while is slow to start again, which
 * an update on its way to peers pays for; the loop has no such start.
 */
function plainId (id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    if (c < 0x20 || c === DEL || c === SLASH) return false
  }
  return id.isWellFormed() && !id.includes(LAST_CODE_POINT)
}

/** Checks a collection name: letters, digits, `_`, `-` and `.`, 1 to 64 characters. */
export function checkCollectionName (name: unknown): string {
  if (typeof name !== 'string' || !plainName(name)) {
    throw new InvalidArgumentError('a collection name is 1 to 64 letters, digits, "_", "-" or "."')
  }
  return name
}

/** Whether a collection name is 1 to 64 of `A-Z a-z 0-9 _ . -` (a loop, like {@link plainId}: it runs for every update from a peer). */
function plainName (name: string): boolean {
  if (name.length === 0 || name.length > 64) return false
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d
    if (!ok) return false
  }
  return true
}
