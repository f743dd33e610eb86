/**
 * Reading a record's heads from the DHT: every replica's value (one head,
 * or a head set), flattened to the newest head of each author that may
 * write, and the states those heads name (inline, or fetched as blocks).
 * Nothing from the network is trusted; what is refused is reported.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import { KadmiumError, RecordTooLargeError } from '../errors.ts'
import { bytesEqual, sha256, toHex } from '../hash.ts'
import type { ReplicaSecurity } from '../security/context.ts'
import { getPart, partId, type ByteBudget, type Part } from './blocks.ts'
import { headClock } from './head-clock.ts'
import { headEntries, headParts, verifyHead, type Head, type SignedHead } from './head.ts'
import { newerHead } from './head-set.ts'
import { mapLimit } from './map-limit.ts'
import { getValues } from './query.ts'

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
 * Reads every replica's value under `hk` (the local copy included), keeps
 * the newest well-signed head of each author allowed to write `collection`,
 * and fetches the states they name.
 */
export async function readHeads (ctx: HeadReadContext, hk: Uint8Array, collection: string, signal: () => AbortSignal): Promise<HeadRead> {
  const onRefused = (reason: string, from: string): void => { ctx.reject(`${reason} (a head from peer ${from})`) }
  // Kadmium servers merge kad-dht's "correction" into what they hold: one may go, to learn the local copy.
  const values = await getValues(ctx.dht, hk, signal(), { learnPick: true, onRefused })
  const newest = new Map<string, SignedHead>()
  const held: Array<Set<string>> = []
  for (const value of values) {
    let entries: Uint8Array[]
    try {
      entries = headEntries(value)
    } catch (error) {
      if (!(error instanceof KadmiumError)) throw error
      ctx.reject(`${error.name}: ${error.message} (a head refused)`)
      continue
    }
    const ids = new Set<string>()
    for (const entry of entries) {
      const signed = await checked(ctx, hk, entry, collection)
      if (signed === undefined) continue
      ids.add(entryId(signed))
      const author = toHex(signed.author)
      const before = newest.get(author)
      if (before === undefined || newerHead(signed, before)) newest.set(author, signed)
    }
    if (ids.size > 0) held.push(ids)
  }
  const me = ctx.security?.signer.publicKey
  const heads: FoundHead[] = []
  for (const signed of newest.values()) {
    // The next head of ours must be newer than any seen, or servers would keep this one.
    if (me !== undefined && bytesEqual(signed.author, me)) headClock.observe(signed.t)
    try {
      const head = await headParts(hk, signed, ctx.security?.sealer)
      const states = [...(head.inline === undefined ? [] : [partId([sha256(head.inline)])]), ...head.parts.map(partId)]
      heads.push({ signed, head, states })
    } catch (error) {
      if (!(error instanceof KadmiumError)) throw error
      ctx.reject(`${error.name}: ${error.message} (a head refused)`)
    }
  }
  const disagreed = held.some((ids) => [...newest.values()].some((h) => !ids.has(entryId(h))))
  return { heads, disagreed, ...await fetchStates(ctx, heads, signal) }
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

/** Fetches (and opens) every distinct state the heads name: inline ones at once, parts' blocks in parallel under one byte budget. */
async function fetchStates (ctx: HeadReadContext, heads: readonly FoundHead[], signal: () => AbortSignal): Promise<Pick<HeadRead, 'fetched' | 'unfetched' | 'dropped'>> {
  const fetched = new Map<string, Uint8Array>()
  const unfetched: string[] = []
  const dropped: string[] = []
  const sealer = ctx.security?.sealer
  const parts = new Map<string, Part>()
  for (const { head, states } of heads) {
    if (head.inline !== undefined) {
      const id = states[0] as string
      if (fetched.has(id) || dropped.includes(id)) continue
      try {
        fetched.set(id, sealer === undefined ? head.inline : await sealer.open(head.inline, ctx.aad))
      } catch (error) {
        if (!(error instanceof KadmiumError)) throw error
        ctx.reject(`DecryptionError: inline state ${id} does not open with this database's key`)
        dropped.push(id)
      }
    }
    for (const part of head.parts) parts.set(partId(part), part)
  }
  const budget: ByteBudget = { used: 0, limit: ctx.maxRecordBytes }
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
  return { fetched, unfetched, dropped }
}

/** A head's identity in a replica's value: the hash of its bytes. */
function entryId (head: SignedHead): string {
  return toHex(sha256(head.bytes))
}
