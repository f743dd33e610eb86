/**
 * A structural check of Yjs updates (format V1) from untrusted peers, run
 * BEFORE the bytes reach Yjs.
 *
 * Yjs trusts its input: crafted bytes can make it spin or allocate without
 * bound (yjs#687: run-length streams that never run out feed a declared
 * struct count of billions to `mergeUpdatesV2`; yjs#479/#498: decoders
 * reading past the end), throw half-way through a transaction (a bad delete
 * set is read after the structs were integrated), or make it do quadratic
 * work (many overlapping delete ranges for one client, each walking every
 * struct). {@link checkUpdate} walks the whole update with bounded readers,
 * in time linear in its length and with memory proportional to its number of
 * clients, and accepts only what real Yjs writes: every count fits in the
 * bytes that remain, strings are valid UTF-8, client ids and clocks are
 * within {@link UpdateLimits}, no struct refers to itself or to a later
 * struct of its own client, delete ranges are sorted and disjoint, and
 * nothing follows the delete set. It also refuses items placed as no Yjs
 * client places them, in ways that make Yjs's conflict resolution quadratic
 * (see `update-places.ts`): one client writing two items at the same place,
 * or appending after items it had itself appended after, and too many
 * clients claiming one place.
 *
 * It does not (and cannot, without the document) check that the structs an
 * update refers to exist: Yjs keeps such updates pending.
 * @module
 */
import { MalformedUpdateError } from '../errors.ts'
import { Reader } from './update-reader.ts'
import { PlaceRules, type RefId } from './update-places.ts'

/** Bounds {@link checkUpdate} enforces. Every field has a default in {@link DEFAULT_UPDATE_LIMITS}. */
export interface UpdateLimits {
  /**
   * Largest update, in bytes.
   * @default 67_108_864 (64 MiB, the largest update catch-up carries)
   */
  readonly maxBytes: number
  /**
   * Most structs (items, GC and skip ranges) in one update. Each struct
   * takes at least two bytes, so the byte length bounds this anyway.
   * @default 8_388_608
   */
  readonly maxStructs: number
  /**
   * Most delete ranges in one update's delete set (also bounded by the byte length).
   * @default 8_388_608
   */
  readonly maxDeletes: number
  /**
   * Largest client id. Yjs draws client ids as random 32-bit unsigned integers.
   * @default 4_294_967_295
   */
  readonly maxClientId: number
  /**
   * Largest clock: no struct or delete range may end beyond it. A client's
   * clock counts the characters and values it ever inserted, so real clocks
   * stay far below the default, and sums of clocks stay exact numbers.
   * @default 1_099_511_627_776 (2^40)
   */
  readonly maxClock: number
  /**
   * Longest name, in UTF-8 bytes: root type names, map keys, format
   * attribute keys, XML node names, subdocument guids and the keys of
   * objects stored as values. Content (text, values) is bounded only by the
   * update's size.
   * @default 65_536
   */
  readonly maxKeyBytes: number
  /**
   * Deepest nesting of arrays and objects inside a stored value (Yjs
   * decodes values recursively, so a deeper one could exhaust the stack).
   * @default 512
   */
  readonly maxDepth: number
  /**
   * Most pairs of items, from different clients, that claim the same place
   * in one update: the same origin and right origin, or, for items with
   * neither, the same parent and map key. Yjs orders such concurrent items
   * by walking past the others on every insert (quadratic in their number:
   * a few thousand clients setting one map key hold it for over a second),
   * while real concurrent edits put a handful of items in one place.
   * Counting pairs bounds that walk for the whole update: the default
   * allows 700 items in one place (which Yjs applies quickly: the `guard`
   * benchmark scenario checks it), or 50 concurrent writers of each of 200
   * keys.
   * @default 262_144
   */
  readonly maxSamePlacePairs: number
}

/** The limits {@link checkUpdate} applies unless told otherwise. */
export const DEFAULT_UPDATE_LIMITS: Readonly<UpdateLimits> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxStructs: 8 * 1024 * 1024,
  maxDeletes: 8 * 1024 * 1024,
  maxClientId: 0xffff_ffff,
  maxClock: 2 ** 40,
  maxKeyBytes: 64 * 1024,
  maxDepth: 512,
  maxSamePlacePairs: 262_144
})

/** What an update holds, as {@link inspectUpdate} counted it. */
export interface UpdateStats {
  /** Clients that have structs in the update. */
  readonly clients: number
  /** Structs (items, GC and skip ranges). */
  readonly structs: number
  /** Clients in the delete set. */
  readonly deleteClients: number
  /** Delete ranges. */
  readonly deletes: number
}

// Struct info byte (see Yjs's Item.write): the low five bits name the content.
const BITS5 = 0x1f
const HAS_ORIGIN = 0x80
const HAS_RIGHT_ORIGIN = 0x40
const HAS_PARENT_SUB = 0x20
const GC_REF = 0
const SKIP_REF = 10
const MAX_TYPE_REF = 6 // YArray, YMap, YText, YXmlElement, YXmlFragment, YXmlHook, YXmlText
const XML_ELEMENT_REF = 3
const XML_HOOK_REF = 5
// lib0 `writeAny` tags.
const ANY_OBJECT = 118

/**
 * Checks that `update` is a well-formed Yjs V1 update that real Yjs could
 * have written, within `limits`. Run it on every update from outside
 * (gossip, catch-up, the DHT, storage written by another version) before
 * `Y.applyUpdate`. Takes time linear in `update.length`.
 * @param update the bytes received
 * @param limits bounds to enforce; missing fields take their value from {@link DEFAULT_UPDATE_LIMITS}
 * @throws {MalformedUpdateError} the update is malformed or exceeds a limit; the message says what and at which byte
 * @example
 * ```ts
 * checkUpdate(bytes)          // throws MalformedUpdateError on anything off
 * Y.applyUpdate(doc, bytes)
 * ```
 */
export function checkUpdate (update: Uint8Array, limits?: Partial<UpdateLimits>): void {
  inspectUpdate(update, limits)
}

/**
 * {@link checkUpdate}, returning what the update holds (for logs and budgets).
 * @param update the bytes received
 * @param limits bounds to enforce; missing fields take their value from {@link DEFAULT_UPDATE_LIMITS}
 * @throws {MalformedUpdateError} the update is malformed or exceeds a limit
 */
export function inspectUpdate (update: Uint8Array, limits?: Partial<UpdateLimits>): UpdateStats {
  if (!(update instanceof Uint8Array)) throw new MalformedUpdateError('a Yjs update must be a Uint8Array')
  const l: UpdateLimits = limits === undefined ? DEFAULT_UPDATE_LIMITS : { ...DEFAULT_UPDATE_LIMITS, ...limits }
  if (update.length > l.maxBytes) throw new MalformedUpdateError(`a Yjs update of ${update.length} bytes exceeds the limit of ${l.maxBytes} bytes`)
  const walker = new UpdateWalker(new Reader(update), l)
  const { clients, structs } = walker.structs()
  const { deleteClients, deletes } = walker.deleteSet()
  walker.end()
  return { clients, structs, deleteClients, deletes }
}

/** Walks the two parts of a V1 update: the structs of each client, then the delete set. */
class UpdateWalker {
  readonly #r: Reader
  readonly #l: UpdateLimits
  readonly #places: PlaceRules

  constructor (reader: Reader, limits: UpdateLimits) {
    this.#r = reader
    this.#l = limits
    this.#places = new PlaceRules((what) => reader.fail(what), limits.maxSamePlacePairs)
  }

  /** The struct section: per client, `numberOfStructs, client, clock`, then the structs. */
  structs (): { clients: number, structs: number } {
    const r = this.#r
    const numClients = r.count('number of clients', 3)
    const seen = new Set<number>()
    let total = 0
    for (let i = 0; i < numClients; i++) {
      const numStructs = r.count('number of structs', 2)
      const client = this.#client('client')
      if (seen.has(client)) r.fail(`client ${client} appears twice`)
      seen.add(client)
      this.#places.client(client)
      let clock = this.#clock('first clock')
      total += numStructs
      if (total > this.#l.maxStructs) r.fail(`more than ${this.#l.maxStructs} structs`)
      for (let j = 0; j < numStructs; j++) {
        const length = this.#struct(client, clock)
        if (length < 1) r.fail('a struct of length 0')
        clock += length
        if (clock > this.#l.maxClock) r.fail(`clock ${clock} of client ${client} exceeds ${this.#l.maxClock}`)
      }
    }
    this.#places.finish()
    return { clients: numClients, structs: total }
  }

  /** The delete set: per client, sorted disjoint ranges `clock, len`. */
  deleteSet (): { deleteClients: number, deletes: number } {
    const r = this.#r
    const numClients = r.count('number of delete-set clients', 2)
    const seen = new Set<number>()
    let total = 0
    for (let i = 0; i < numClients; i++) {
      const client = this.#client('delete-set client')
      if (seen.has(client)) r.fail(`delete-set client ${client} appears twice`)
      seen.add(client)
      const numDeletes = r.count('number of deletes', 2)
      total += numDeletes
      if (total > this.#l.maxDeletes) r.fail(`more than ${this.#l.maxDeletes} delete ranges`)
      let end = 0
      for (let j = 0; j < numDeletes; j++) {
        const clock = this.#clock('delete clock')
        const len = r.varUint('delete length')
        if (len < 1) r.fail('a delete range of length 0')
        if (clock < end) r.fail(`delete ranges of client ${client} overlap or are out of order`)
        end = clock + len
        if (end > this.#l.maxClock) r.fail(`delete range of client ${client} ends beyond clock ${this.#l.maxClock}`)
      }
    }
    return { deleteClients: numClients, deletes: total }
  }

  /** Nothing may follow the delete set (Yjs would ignore it silently). */
  end (): void {
    if (this.#r.remaining !== 0) this.#r.fail(`${this.#r.remaining} bytes after the delete set`)
  }

  #client (what: string): number {
    const client = this.#r.varUint(what)
    if (client > this.#l.maxClientId) this.#r.fail(`${what} ${client} exceeds ${this.#l.maxClientId}`)
    return client
  }

  #clock (what: string): number {
    const clock = this.#r.varUint(what)
    if (clock > this.#l.maxClock) this.#r.fail(`${what} ${clock} exceeds ${this.#l.maxClock}`)
    return clock
  }

  /** An id another struct refers to; one of the same client must come before `clock`. */
  #ref (what: string, client: number, clock: number): RefId {
    const refClient = this.#client(`${what} client`)
    const refClock = this.#clock(`${what} clock`)
    if (refClient === client && refClock >= clock) this.#r.fail(`${what} ${client}:${refClock} is not before the struct ${client}:${clock}`)
    return { client: refClient, clock: refClock }
  }

  /** One struct; returns its length in clock units. */
  #struct (client: number, clock: number): number {
    const r = this.#r
    const info = r.u8('struct info')
    const ref = info & BITS5
    if (ref === GC_REF || ref === SKIP_REF) {
      if (info !== ref) r.fail(`struct info ${info} sets flags on a GC or skip range`)
      const length = r.varUint('range length')
      this.#places.gap(clock, length)
      return length
    }
    if (ref > SKIP_REF) r.fail(`unknown content type ${ref}`)
    const origin = (info & HAS_ORIGIN) !== 0 ? this.#ref('origin', client, clock) : null
    const rightOrigin = (info & HAS_RIGHT_ORIGIN) !== 0 ? this.#ref('right origin', client, clock) : null
    let parentKey: string | null = null
    if (origin === null && rightOrigin === null) {
      const parentInfo = r.varUint('parent info')
      if (parentInfo === 1) parentKey = `n${JSON.stringify(r.text('root type name', this.#l.maxKeyBytes))}`
      else if (parentInfo === 0) {
        const parent = this.#ref('parent', client, clock)
        parentKey = `i${parent.client}:${parent.clock}`
      } else r.fail(`parent info ${parentInfo}`)
      parentKey += (info & HAS_PARENT_SUB) !== 0 ? `k${JSON.stringify(r.text('map key', this.#l.maxKeyBytes))}` : 'l'
    }
    const length = this.#content(ref)
    this.#places.item({ client, clock, length, origin, rightOrigin, parentKey })
    return length
  }

  /** The content of an item (Yjs's `contentRefs`); returns its length. */
  #content (ref: number): number {
    const r = this.#r
    switch (ref) {
      case 1: // ContentDeleted
        return r.varUint('deleted length')
      case 2: { // ContentJSON (legacy)
        const n = r.count('JSON values', 1)
        for (let i = 0; i < n; i++) r.json('JSON value', true)
        return n
      }
      case 3: // ContentBinary
        r.lengthPrefixed('binary')
        return 1
      case 4: // ContentString
        return r.string('text')
      case 5: // ContentEmbed
        r.json('embed', false)
        return 1
      case 6: // ContentFormat
        r.string('format key', this.#l.maxKeyBytes)
        r.json('format value', false)
        return 1
      case 7: { // ContentType
        const typeRef = r.varUint('type')
        if (typeRef > MAX_TYPE_REF) r.fail(`unknown type ${typeRef}`)
        if (typeRef === XML_ELEMENT_REF || typeRef === XML_HOOK_REF) r.string('XML node name', this.#l.maxKeyBytes)
        return 1
      }
      case 8: { // ContentAny
        const n = r.count('values', 1)
        this.#anyValues(n)
        return n
      }
      default: { // 9, ContentDoc: a guid and an options object
        r.string('subdocument guid', this.#l.maxKeyBytes)
        if (r.peek() !== ANY_OBJECT) r.fail('subdocument options are not an object')
        this.#anyValues(1)
        return 1
      }
    }
  }

  /** `n` values as lib0's `writeAny` writes them, walked without recursion. */
  #anyValues (n: number): void {
    const r = this.#r
    const counts: number[] = [n]
    const isObject: boolean[] = [false]
    while (counts.length > 0) {
      const top = counts.length - 1
      const left = counts[top] as number
      if (left === 0) {
        counts.pop()
        isObject.pop()
        continue
      }
      counts[top] = left - 1
      if (isObject[top] === true) r.string('object key', this.#l.maxKeyBytes)
      const tag = r.u8('value tag')
      switch (tag) {
        case 127: case 126: case 121: case 120: // undefined, null, false, true
          break
        case 125:
          r.varInt('integer')
          break
        case 124:
          r.skip(4, 'float32')
          break
        case 123:
          r.skip(8, 'float64')
          break
        case 122:
          r.skip(8, 'bigint')
          break
        case 119:
          r.string('string')
          break
        case 118: case 117: {
          const size = tag === 118 ? r.count('object size', 2) : r.count('array length', 1)
          if (size === 0) break
          if (counts.length > this.#l.maxDepth) r.fail(`values nested deeper than ${this.#l.maxDepth}`)
          counts.push(size)
          isObject.push(tag === 118)
          break
        }
        case 116:
          r.lengthPrefixed('bytes')
          break
        default:
          r.fail(`unknown value tag ${tag}`)
      }
    }
  }
}
