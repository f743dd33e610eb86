/**
 * The write-ahead journal of LevelDB storage: each batch is appended to a
 * file in the database directory with one synchronous `write` (a couple of
 * microseconds, where a LevelDB batch costs a round trip through libuv's
 * thread pool), and is in LevelDB a moment later. A batch is as durable
 * once appended as once in LevelDB without `sync` (both sit in the
 * operating system's cache: they survive the process, not a power loss).
 *
 * File format: frames of `u32 length, u32 CRC-32 of the payload, payload`
 * (big-endian); a payload is the batch's operations, each `u8 type (1 put,
 * 2 del), u32 key length, key (UTF-8)`, and for a put `u32 value length,
 * value`. Reading stops at the first frame that is cut short or fails its
 * checksum. A frame cut short at the end of the newest file is a write the
 * process did not finish, never acknowledged; anything else is damage to
 * the file (see {@link readJournalChecked}).
 * @module
 */
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { basename, join } from 'node:path'
import { crc32 } from 'node:zlib'
import type { BatchOperation } from '@kadmium/core'

/** Journal files are named this, then their generation number. */
const FILE_PREFIX = 'kadmium-journal-'
/** A journal file is sealed, and a new one begun, beyond this size (bytes); it is deleted once LevelDB has all it holds. */
const ROTATE_BYTES = 4 * 1024 * 1024
const HEADER_BYTES = 8
const PUT = 1
const DEL = 2

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** A frame: the batch's bytes and its operations, whose values are views into those bytes. */
export interface Frame {
  readonly bytes: Uint8Array
  readonly operations: BatchOperation[]
}

/** Encodes a batch as one frame. */
export function encodeFrame (operations: readonly BatchOperation[]): Frame {
  const keys = operations.map((op) => encoder.encode(op.key))
  let size = HEADER_BYTES
  for (const [i, op] of operations.entries()) size += 5 + (keys[i] as Uint8Array).length + (op.type === 'put' ? 4 + op.value.length : 0)
  const bytes = new Uint8Array(size)
  const view = new DataView(bytes.buffer)
  const out: BatchOperation[] = []
  let at = HEADER_BYTES
  for (const [i, op] of operations.entries()) {
    const key = keys[i] as Uint8Array
    bytes[at] = op.type === 'put' ? PUT : DEL
    view.setUint32(at + 1, key.length)
    bytes.set(key, at + 5)
    at += 5 + key.length
    if (op.type === 'put') {
      view.setUint32(at, op.value.length)
      bytes.set(op.value, at + 4)
      out.push({ type: 'put', key: op.key, value: bytes.subarray(at + 4, at + 4 + op.value.length) })
      at += 4 + op.value.length
    } else {
      out.push({ type: 'del', key: op.key })
    }
  }
  view.setUint32(0, size - HEADER_BYTES)
  view.setUint32(4, crc32(bytes.subarray(HEADER_BYTES)))
  return { bytes, operations: out }
}

/** What {@link decodeFrames} read. */
export interface DecodedFrames {
  /** The batches of the frames before the first one cut short or corrupt, in order. */
  readonly batches: BatchOperation[][]
  /** Whether every byte was read: there was no such frame. */
  readonly complete: boolean
  /** Where the frames read end: where the first frame cut short or corrupt begins, if any. */
  readonly end: number
  /** Whether that frame runs past the end of the bytes (a write cut short), rather than failing its checksum or its decoding. */
  readonly cutShort: boolean
}

/** The batches of a journal file, in order, up to the first frame cut short or corrupt; `complete` if there was none. */
export function decodeFrames (bytes: Uint8Array): DecodedFrames {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const batches: BatchOperation[][] = []
  let at = 0
  let cutShort = false
  while (at < bytes.length) {
    const end = at + HEADER_BYTES <= bytes.length ? at + HEADER_BYTES + view.getUint32(at) : Infinity
    cutShort = end > bytes.length
    if (cutShort) break
    const payload = bytes.subarray(at + HEADER_BYTES, end)
    if (crc32(payload) !== view.getUint32(at + 4)) break
    const operations = decodePayload(payload)
    if (operations === undefined) break
    batches.push(operations)
    at = end
  }
  return { batches, complete: at === bytes.length, end: at, cutShort }
}

function decodePayload (payload: Uint8Array): BatchOperation[] | undefined {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const operations: BatchOperation[] = []
  let at = 0
  try {
    while (at < payload.length) {
      const type = payload[at]
      const keyEnd = at + 5 + view.getUint32(at + 1)
      if (keyEnd > payload.length) return undefined
      const key = decoder.decode(payload.subarray(at + 5, keyEnd))
      at = keyEnd
      if (type === PUT) {
        const valueEnd = at + 4 + view.getUint32(at)
        if (valueEnd > payload.length) return undefined
        operations.push({ type: 'put', key, value: new Uint8Array(payload.subarray(at + 4, valueEnd)) })
        at = valueEnd
      } else if (type === DEL) {
        operations.push({ type: 'del', key })
      } else {
        return undefined
      }
    }
  } catch {
    return undefined // a length beyond the payload (RangeError) or a key that is not UTF-8
  }
  return operations
}

/** The journal files of a directory, oldest first. */
function journalFiles (dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith(FILE_PREFIX) && /^\d+$/.test(name.slice(FILE_PREFIX.length)))
    .sort((a, b) => Number(a.slice(FILE_PREFIX.length)) - Number(b.slice(FILE_PREFIX.length)))
    .map((name) => join(dir, name))
}

/** The batches a directory's journal holds (left by a process that did not close its storage), oldest first. */
export function readJournal (dir: string): BatchOperation[][] {
  return readJournalChecked(dir).batches
}

/**
 * The batches a directory's journal holds, oldest first, and what damage
 * (if any) hides acknowledged writes: a frame that fails its checksum, or a
 * frame cut short anywhere but at the end of the newest file (there, it is
 * a write the process did not finish).
 */
export function readJournalChecked (dir: string): { batches: BatchOperation[][], damage: string | undefined } {
  const batches: BatchOperation[][] = []
  const files = journalFiles(dir)
  for (const [i, file] of files.entries()) {
    const read = decodeFrames(readFileSync(file))
    batches.push(...read.batches)
    if (read.complete) continue
    // What follows a damaged frame is not replayed: it could not be applied in order.
    const unfinished = read.cutShort && i === files.length - 1
    return { batches, damage: unfinished ? undefined : `the journal file ${basename(file)} is damaged at byte ${read.end}: the writes it holds from there on cannot be read` }
  }
  return { batches, damage: undefined }
}

/** Deletes a directory's journal files (once LevelDB holds what they held). */
export function removeJournal (dir: string): void {
  for (const file of journalFiles(dir)) unlinkSync(file)
}

/** A file sealed at a size: deleted once LevelDB has its last batch. */
interface Sealed {
  readonly path: string
  readonly last: number
}

/**
 * The journal being written: appends frames numbered by the caller, and
 * forgets them once LevelDB holds them (`done`).
 */
export class Journal {
  readonly #dir: string
  #generation = 0
  #path: string
  #fd: number
  /** Bytes in the current file. */
  #bytes = 0
  /** The number of the last frame appended to the current file. */
  #last = 0
  /** Why appends are refused: a frame half written could not be cut off, and would hide every later one. */
  #broken: Error | undefined
  readonly #sealed: Sealed[] = []

  /** Begins a journal in `dir`, which holds none (see {@link removeJournal}). */
  constructor (dir: string) {
    this.#dir = dir
    this.#path = this.#pathOf(0)
    this.#fd = openSync(this.#path, 'a')
  }

  /**
   * Appends frame number `n` (numbers ascend), on this tick.
   * @throws the write failed; the file is as before
   */
  append (frame: Uint8Array, n: number): void {
    if (this.#broken !== undefined) throw this.#broken
    if (this.#bytes >= ROTATE_BYTES) this.#rotate()
    try {
      for (let at = 0; at < frame.length;) at += writeSync(this.#fd, frame, at)
    } catch (error) {
      // A frame half written would hide every later one: cut it off.
      try {
        ftruncateSync(this.#fd, this.#bytes)
      } catch {
        this.#broken = error as Error
      }
      throw error
    }
    this.#bytes += frame.length
    this.#last = n
  }

  /** LevelDB holds every frame up to number `n`: files of nothing newer go. */
  done (n: number): void {
    while (this.#sealed.length > 0 && (this.#sealed[0] as Sealed).last <= n) unlinkSync((this.#sealed.shift() as Sealed).path)
    if (n >= this.#last && this.#bytes > 0) {
      ftruncateSync(this.#fd, 0)
      this.#bytes = 0
    }
  }

  /** Closes the file; with `remove`, deletes every file (LevelDB holds all of it). */
  close (remove: boolean): void {
    closeSync(this.#fd)
    if (remove) removeJournal(this.#dir)
  }

  #rotate (): void {
    // The new file first: if it cannot be made (no room), the journal goes on in the current one.
    const path = this.#pathOf(this.#generation + 1)
    const fd = openSync(path, 'a')
    this.#sealed.push({ path: this.#path, last: this.#last })
    closeSync(this.#fd)
    this.#generation++
    this.#path = path
    this.#fd = fd
    this.#bytes = 0
  }

  #pathOf (generation: number): string {
    return join(this.#dir, FILE_PREFIX + String(generation))
  }
}
