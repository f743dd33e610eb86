/**
 * Reading a record's heads from the DHT: every replica's value (one head,
 * or a head set), flattened, value by value as replicas answer, to the
 * newest head of each author that may write, and the states those heads
 * name (inline, or fetched as blocks). Nothing from the network is
 * trusted; what is refused is reported.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import { KadmiumError, RecordTooLargeError } from '../errors.ts'
import { bytesEqual, sha256, toHex } from '../util/hash.ts'
import type { ReplicaSecurity } from '../access/replica-security.ts'
import { getPart, partId, type ByteBudget, type Part } from './blocks.ts'
import { headClock } from './head-clock.ts'
import { headEntries, headParts, verifyHead, type Head, type SignedHead } from './head.ts'
import { newerHead } from './head-set.ts'
import { mapLimit } from './map-limit.ts'

/** One author's newest head found, opened. */
export interface FoundHead {
  readonly signed: SignedHead
  readonly head: Head
  /** Ids of the states it names: its inline state (named by its hash, like a one-block part) and its parts. */
  readonly states: readonly string[]
}

/** What one read of a head key found. */
export interface HeadRead {
  /** The newest head of each author that may write, opened; one head per author. */
  readonly heads: readonly FoundHead[]
  /** Whether some replica lacked one of `heads` (held none, or an older one, of an author). */
  readonly disagreed: boolean
  /** The states fetched (opened), by id. */
  readonly fetched: ReadonlyMap<string, Uint8Array>
  /** Ids of the parts whose blocks could not be found in time. */
  readonly unfetched: readonly string[]
  /** Ids of the states refused (too large, or not opening with the key). */
  readonly dropped: readonly string[]
}

/** What reading heads needs of the DHT store. */
export interface HeadReadContext {
  readonly dht: KadDHT
  readonly security: ReplicaSecurity | undefined
  /** The database address as bytes: the aad of sealed states. */
  readonly aad: Uint8Array
  readonly maxRecordBytes: number
  readonly blockConcurrency: number
  /** Reports something refused. */
  readonly reject: (reason: string) => void
}

/**
 * The heads of one read of a head key, gathered value by value as the
 * replicas answer: per author, the newest well-signed head of an author
 * allowed to write the collection (refused ones are reported and skipped).
 */
export class HeadGatherer {
  readonly #ctx: HeadReadContext
  readonly #hk: Uint8Array
  readonly #collection: string
  /** The newest head of each author (by hex key). */
  readonly #newest = new Map<string, SignedHead>()
  /** Per value that held a valid head: the ids of its valid heads. */
  readonly #held: Array<Set<string>> = []
  /** Heads opened, by entry id; `null`: refused (reported once). */
  readonly #opened = new Map<string, FoundHead | null>()

  constructor (ctx: HeadReadContext, hk: Uint8Array, collection: string) {
    this.#ctx = ctx
    this.#hk = hk
    this.#collection = collection
  }

  /** Authors whose heads were gathered. */
  get size (): number {
    return this.#newest.size
  }

  /** Whether some replica's value lacked one of the newest heads (held none, or an older one, of an author). */
  get disagreed (): boolean {
    const newest = [...this.#newest.values()].map(entryId)
    return this.#held.some((ids) => newest.some((id) => !ids.has(id)))
  }

  /**
   * Adds one replica's value (one head, or a head set).
   * @returns whether it brought a head newer than those gathered (a new author, or an author's newer head)
   */
  async add (value: Uint8Array): Promise<boolean> {
    const ctx = this.#ctx
    let entries: Uint8Array[]
    try {
      entries = headEntries(value)
    } catch (error) {
      if (!(error instanceof KadmiumError)) throw error
      ctx.reject(`${error.name}: ${error.message} (a head refused)`)
      return false
    }
    const me = ctx.security?.signer.publicKey
    const ids = new Set<string>()
    let newer = false
    for (const entry of entries) {
      const signed = await checked(ctx, this.#hk, entry, this.#collection)
      if (signed === undefined) continue
      ids.add(entryId(signed))
      // The next head of ours must be newer than any seen, or servers would keep this one.
      if (me !== undefined && bytesEqual(signed.author, me)) headClock.observe(signed.t)
      const author = toHex(signed.author)
      const before = this.#newest.get(author)
      if (before === undefined || newerHead(signed, before)) {
        this.#newest.set(author, signed)
        newer = true
      }
    }
    if (ids.size > 0) this.#held.push(ids)
    return newer
  }

  /** The newest head of each author, opened; a head that does not open is reported (once) and left out. */
  async heads (): Promise<FoundHead[]> {
    const heads: FoundHead[] = []
    for (const signed of [...this.#newest.values()]) {
      const id = entryId(signed)
      let found = this.#opened.get(id)
      if (found === undefined) {
        try {
          const head = await headParts(this.#hk, signed, this.#ctx.security?.sealer)
          const states = [...(head.inline === undefined ? [] : [partId([sha256(head.inline)])]), ...head.parts.map(partId)]
          found = { signed, head, states }
        } catch (error) {
          if (!(error instanceof KadmiumError)) throw error
          this.#ctx.reject(`${error.name}: ${error.message} (a head refused)`)
          found = null
        }
        this.#opened.set(id, found)
      }
      if (found !== null) heads.push(found)
    }
    return heads
  }
}

/** The states one read fetched so far, under one byte budget (see {@link fetchStates}). */
export interface FetchedStates {
  /** The states fetched (opened), by id. */
  readonly fetched: Map<string, Uint8Array>
  /** Ids of the parts whose blocks could not be found in time. */
  readonly unfetched: string[]
  /** Ids of the states refused (too large, or not opening with the key). */
  readonly dropped: string[]
  /** Bytes of blocks fetched for the record, and the most that may be. */
  readonly budget: ByteBudget
}

/** An empty {@link FetchedStates}, with a budget of `maxRecordBytes`. */
export function fetchedStates (maxRecordBytes: number): FetchedStates {
  return { fetched: new Map(), unfetched: [], dropped: [], budget: { used: 0, limit: maxRecordBytes } }
}

/** A head checked: well-formed, signed for `hk`, by an author that may write; `undefined` (reported) if not. */
async function checked (ctx: HeadReadContext, hk: Uint8Array, entry: Uint8Array, collection: string): Promise<SignedHead | undefined> {
  try {
    const signed = await verifyHead(hk, entry)
    ctx.security?.access.check(signed.author, collection)
    return signed
  } catch (error) {
    if (!(error instanceof KadmiumError)) throw error
    ctx.reject(`${error.name}: ${error.message} (a head refused)`)
    return undefined
  }
}

/**
 * Fetches (and opens) into `into` every distinct state the heads name that
 * it lacks (fetched, missing or dropped before): inline ones at once,
 * parts' blocks in parallel under `into`'s byte budget.
 */
export async function fetchStates (ctx: HeadReadContext, heads: readonly FoundHead[], signal: () => AbortSignal, into: FetchedStates): Promise<void> {
  const { fetched, unfetched, dropped, budget } = into
  const known = (id: string): boolean => fetched.has(id) || dropped.includes(id) || unfetched.includes(id)
  const sealer = ctx.security?.sealer
  const parts = new Map<string, Part>()
  for (const { head, states } of heads) {
    if (head.inline !== undefined) {
      const id = states[0] as string
      if (known(id)) continue
      try {
        fetched.set(id, sealer === undefined ? head.inline : await sealer.open(head.inline, ctx.aad))
      } catch (error) {
        if (!(error instanceof KadmiumError)) throw error
        ctx.reject(`DecryptionError: inline state ${id} does not open with this database's key`)
        dropped.push(id)
      }
    }
    for (const part of head.parts) {
      const id = partId(part)
      if (!known(id)) parts.set(id, part)
    }
  }
  const options = { signal, concurrency: ctx.blockConcurrency, budget, onReject: ctx.reject }
  // Every block is counted against the budget as it arrives, so parts can be fetched in parallel too.
  await mapLimit([...parts], ctx.blockConcurrency, async ([id, part]) => {
    try {
      const bytes = await getPart(ctx.dht, part, options)
      if (bytes === undefined) {
        unfetched.push(id)
        ctx.reject(`NotFoundError: the blocks of part ${id} were not found in time`)
        return
      }
      fetched.set(id, sealer === undefined ? bytes : await sealer.open(bytes, ctx.aad))
    } catch (error) {
      if (error instanceof KadmiumError && error.name === 'DecryptionError') {
        ctx.reject(`DecryptionError: part ${id} does not open with this database's key`)
      } else if (error instanceof RecordTooLargeError) {
        ctx.reject(`RecordTooLargeError: part ${id} exceeds the ${budget.limit} bytes fetched at most per record`)
      } else {
        throw error
      }
      dropped.push(id)
    }
  })
}

/** A head's identity in a replica's value: the hash of its bytes. */
function entryId (head: SignedHead): string {
  return toHex(sha256(head.bytes))
}
