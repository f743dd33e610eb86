/**
 * The placement rules of {@link checkUpdate}: what real Yjs clients never
 * write and what makes Yjs's conflict resolution (`Item.integrate`) walk long.
 *
 * Yjs places an item between its `origin` (the item it was typed after) and
 * its `rightOrigin` (the item that followed it then); when other items lie
 * between the two, it walks past them, and past every item inserted after
 * them, to find its spot. An item written with neither inserts at the start
 * of a list, or as a new value of a map key, where Yjs also walks the key's
 * whole history to its first item. Honest clients keep these walks short: a
 * client always knows its own earlier items, so its items never need to be
 * ordered against each other. Crafted ones are not bound by that, and one
 * update's worth of them ties Yjs up for seconds or more: the work grows
 * with the square of the update's size (docs/security.md, "Crafted Yjs
 * updates"; the `guard` benchmark scenario measures it).
 *
 * Within one update these rules refuse:
 * 1. two items of one client that claim the same place (same origin and right
 *    origin; or, with neither, the same parent and map key — a third for the
 *    latter, as a client that keeps a deleted map or array may write a second
 *    after Yjs dropped the type's content);
 * 2. an item of a client without a right origin whose origin is not to the
 *    right of the origin of every earlier such item of that client in the
 *    same run (a chain of items this update shows in list order);
 * 3. more than `maxSamePlacePairs` pairs of items of different clients that
 *    claim the same place.
 * See `UpdateLimits.maxSamePlacePairs` and the soundness notes on each rule.
 * @module
 */

/** An item's id as read from the update. */
export interface RefId {
  readonly client: number
  readonly clock: number
}

/** What {@link PlaceRules.item} needs to know of one item. */
export interface ItemPlace {
  readonly client: number
  readonly clock: number
  readonly length: number
  readonly origin: RefId | null
  readonly rightOrigin: RefId | null
  /** Parent and map key, for an item with neither origin (`parent|key` text; only then). */
  readonly parentKey: string | null
}

/** The structs of one client, in clock order, and the run each item belongs to. */
interface ClientStructs {
  readonly starts: number[]
  /** For each struct, the clock its run starts at; -1 for GC and skip ranges. */
  readonly runs: number[]
  /** The clock after the last struct. */
  end: number
}

const IDS_PER_FLAT_ENTRY = 4
/** Client ids are below 2^32 (a limit may allow more: then the string key is used); clocks below 2^21 keep `clock * 2^32 + client` exact. */
const CLIENT_SPAN = 2 ** 32
const SMALL_CLOCK = 2 ** 21

/**
 * Collects the places the items of one update claim and applies the rules of
 * this module. Time and memory linear in the number of structs (the run
 * lookups of rule 2 are binary searches over a client's structs).
 */
export class PlaceRules {
  readonly #fail: (what: string) => never
  readonly #maxPairs: number
  readonly #clients = new Map<number, ClientStructs>()
  /** Each place claimed so far, as an index into the three arrays below. */
  readonly #places = new Map<string, number>()
  /** The same for places `origin, no right origin` with small clocks, keyed by a number (cheaper). */
  readonly #appendPlaces = new Map<number, number>()
  /** How many items of all clients claim each place (rule 3). */
  readonly #claims: number[] = []
  /** The client that claimed each place last, and how many times (rule 1: a client's items are contiguous in the update). */
  readonly #lastClient: number[] = []
  readonly #lastClaims: number[] = []
  #pairs = 0
  #current: ClientStructs = { starts: [], runs: [], end: 0 }
  /** Items without right origin, whose origin is checked by rule 2 at the end: client, clock, origin client, origin clock. */
  readonly #rightless: number[] = []

  constructor (fail: (what: string) => never, maxPairs: number) {
    this.#fail = fail
    this.#maxPairs = maxPairs
  }

  /** The structs of `client` follow. */
  client (client: number): void {
    this.#current = { starts: [], runs: [], end: 0 }
    this.#clients.set(client, this.#current)
  }

  /** A GC or skip range: it breaks runs. */
  gap (clock: number, length: number): void {
    this.#current.starts.push(clock)
    this.#current.runs.push(-1)
    this.#current.end = clock + length
  }

  /** One item of the current client. */
  item (item: ItemPlace): void {
    const { client, clock, origin, rightOrigin } = item
    const current = this.#current
    const n = current.runs.length
    // An item typed right after the previous struct of its client (its origin
    // is that struct's last clock) is to its right, in the same list.
    const continues = origin !== null && origin.client === client && origin.clock === clock - 1
    const run = continues && n > 0 && current.runs[n - 1] !== -1 ? current.runs[n - 1] as number : clock
    current.starts.push(clock)
    current.runs.push(run)
    current.end = clock + item.length
    if (rightOrigin === null && origin !== null) this.#rightless.push(client, clock, origin.client, origin.clock)
    // Self-continuations claim a place no other item of this client can claim.
    if (continues) return
    let place: string | number
    if (item.parentKey !== null) place = `p${item.parentKey}`
    else if (rightOrigin === null && origin !== null && origin.clock < SMALL_CLOCK && origin.client < CLIENT_SPAN) place = origin.clock * CLIENT_SPAN + origin.client
    else place = `o${origin === null ? '-' : `${origin.client}:${origin.clock}`}r${rightOrigin === null ? '-' : `${rightOrigin.client}:${rightOrigin.clock}`}`
    // Rule 1. Yjs places an item strictly between its origin and right
    // origin, in every replica. A client that wrote an item at a place knows
    // it when it writes the next, so for it the two are no longer adjacent
    // (nor is the start of the list empty, nor the map key unset): a second
    // item of the same client at the same place is crafted. The one
    // exception: once a deleted nested type is garbage-collected, Yjs empties
    // its content, and a client still holding the type writes a first item
    // again (which a merge of its updates may hold beside the first one).
    let at = typeof place === 'number' ? this.#appendPlaces.get(place) : this.#places.get(place)
    if (at === undefined) {
      at = this.#claims.length
      if (typeof place === 'number') this.#appendPlaces.set(place, at)
      else this.#places.set(place, at)
      this.#claims.push(0)
      this.#lastClient.push(client)
      this.#lastClaims.push(0)
    }
    const mine = this.#lastClient[at] === client ? (this.#lastClaims[at] as number) + 1 : 1
    this.#lastClient[at] = client
    this.#lastClaims[at] = mine
    if (mine > (item.parentKey !== null ? 2 : 1)) {
      this.#fail(`client ${client} writes ${mine} items at the same place (${describe(item)}), which a Yjs client never does`)
    }
    // Rule 3 (pairs with items of other clients: this client's are refused above or are at most 2).
    const others = this.#claims[at] as number
    this.#claims[at] = others + 1
    this.#pairs += others - (mine - 1)
    if (this.#pairs > this.#maxPairs) {
      this.#fail(`more than ${this.#maxPairs} pairs of items of different clients claim the same place (last: ${describe(item)} by client ${client})`)
    }
  }

  /**
   * Rule 2, once every client's structs are known. An item written without a
   * right origin was appended: its origin was the last item of its list (or
   * the current value of its map key) for the client that wrote it. That
   * client knew its own earlier items, so the origin of its next appended
   * item in the same list lies to the right of the earlier one, hence to the
   * right of the earlier one's origin. Within a run, list order is clock
   * order, so the origins of one client's appended items into the same run
   * must increase strictly; otherwise Yjs walks past all of that client's
   * earlier items for each of them.
   */
  finish (): void {
    const flat = this.#rightless
    let client = -1
    let last = new Map<string, number>()
    for (let i = 0; i < flat.length; i += IDS_PER_FLAT_ENTRY) {
      const c = flat[i] as number
      if (c !== client) {
        client = c
        last = new Map()
      }
      const originClient = flat[i + 2] as number
      const originClock = flat[i + 3] as number
      const run = this.#runOf(originClient, originClock)
      if (run === -1) continue
      const key = `${originClient}:${run}`
      const before = last.get(key)
      if (before !== undefined && originClock <= before) {
        this.#fail(`client ${c} appends item ${c}:${flat[i + 1] as number} after ${originClient}:${originClock}, which is not to the right of ${originClient}:${before} it appended after before; a Yjs client never does`)
      }
      last.set(key, originClock)
    }
  }

  /** The run holding `client:clock` in this update, or -1 (not in an item of this update). */
  #runOf (client: number, clock: number): number {
    const structs = this.#clients.get(client)
    if (structs === undefined) return -1
    const { starts, runs, end } = structs
    let lo = 0
    let hi = starts.length - 1
    if (hi < 0 || clock < (starts[0] as number) || clock >= end) return -1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if ((starts[mid] as number) <= clock) lo = mid
      else hi = mid - 1
    }
    return runs[lo] as number
  }
}

function describe (item: ItemPlace): string {
  if (item.parentKey !== null) return 'no origin, same parent and key'
  const id = (ref: RefId | null): string => ref === null ? 'none' : `${ref.client}:${ref.clock}`
  return `origin ${id(item.origin)}, right origin ${id(item.rightOrigin)}`
}
