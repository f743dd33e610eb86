/**
 * One read of a record's heads that answers with the first replicas and
 * merges the rest as they come. A head with the deleted marker (a
 * tombstone) wins over every state: the record reads as deleted. kad-dht's lookup hands over each replica's
 * value as it answers; the read answers once a value with a valid head has
 * arrived (with whatever else arrived by then), its states fetched and
 * merged, while the lookup goes on: heads that arrive later and add
 * something are merged and handed over (`onLater`), and once the lookup
 * ended the whole read is there for read repair.
 * @module
 */
import { fetchedStates, fetchStates, HeadGatherer, type FetchedStates, type HeadRead, type HeadReadContext } from './head-read.ts'
import { mergeStates } from './merge.ts'
import { streamValues } from './kad-calls.ts'

/** A Yjs update that holds nothing: the state of a read that found tombstones only. */
const EMPTY_STATE = new Uint8Array([0, 0])

/** Options of {@link readRecord}. */
export interface RecordReadOptions {
  /** Answer only once the lookup ended, with every replica's heads merged (no `onLater` then). */
  readonly complete: boolean
  /**
   * Heads that arrived after the answer added something to it: `state` is
   * everything merged so far (a full Yjs update); `deleted`, whether a
   * tombstone is among the heads now (after which nothing more is handed
   * over; `state` is empty then). Called one at a time.
   */
  readonly onLater: (state: Uint8Array, deleted: boolean) => void
}

/** What a whole read found: its heads and states, and their merge. */
export interface MergedRead {
  readonly read: HeadRead
  /** Every head's states merged (a full Yjs update); an empty one when a head is a tombstone. */
  readonly state: Uint8Array
  /** Ids of the states that are not Yjs updates (left out, reported). */
  readonly rejected: ReadonlySet<string>
  /** Whether a head is a tombstone: the record was deleted (whatever the states). */
  readonly deleted: boolean
}

/** What {@link readRecord} answers. */
export interface RecordAnswer {
  /** The merged state of the heads found when it answered; `undefined` if none (or none of their states, and no tombstone) was found. */
  readonly state: Uint8Array | undefined
  /** Whether a head found when it answered is a tombstone (the record was deleted). */
  readonly deleted: boolean
  /**
   * Resolves once the lookup ended and the heads that came later were
   * merged (and handed over): the whole read, or `undefined` if it found
   * no state. Rejects if the lookup failed.
   */
  readonly rest: Promise<MergedRead | undefined>
}

/**
 * Reads the record under `hk`: every replica's value, flattened to the
 * newest well-signed head of each author allowed to write `collection`,
 * their states fetched (checked against their hashes, under one byte
 * budget) and merged through a fresh `Y.Doc`.
 *
 * It answers as soon as a value with a valid head arrived — or when the
 * lookup ended without one: `state` is then `undefined` — unless
 * `complete`. If the heads found first name no state that could be
 * fetched and merged (and none is a tombstone), it waits for the whole
 * lookup instead.
 */
export async function readRecord (
  ctx: HeadReadContext, hk: Uint8Array, collection: string, signal: () => AbortSignal, options: RecordReadOptions
): Promise<RecordAnswer> {
  const gatherer = new HeadGatherer(ctx, hk, collection)
  const merger = new Merger(ctx, gatherer, signal)
  const firstHead = Promise.withResolvers<void>()
  let answered: Uint8Array | undefined
  let deleted = false
  let answering = true
  // Values are gathered one at a time, in the order they arrive; after the answer, each that brought a newer head is merged too.
  let work = Promise.resolve()
  let failure: { error: unknown } | undefined
  const later = async (): Promise<void> => {
    const merged = await merger.merge()
    // Once deleted, nothing a later head holds matters.
    if (merged === undefined || answered === undefined || !merged.grew || deleted) return
    if (!merged.deleted && !mergeStates(answered, [merged.state]).changed) return
    answered = merged.state
    deleted = merged.deleted
    options.onLater(merged.state, merged.deleted)
  }
  const onRefused = (reason: string, from: string): void => { ctx.reject(`${reason} (a head from peer ${from})`) }
  const lookup = streamValues(ctx.dht, hk, signal(), (value) => {
    work = work.then(async () => {
      if (!await gatherer.add(value)) return
      firstHead.resolve()
      if (!answering) await later()
    }).catch((error: unknown) => { failure ??= { error } })
  }, { learnPick: true, onRefused })
  // Resolves once the lookup ended and every value it handed over was gathered.
  const ended = lookup.then(async () => {
    await work
    if (failure !== undefined) throw failure.error
  })
  ended.catch(() => {}) // read through `rest`, or through the answer below

  if (!options.complete) await Promise.race([firstHead.promise, ended])
  else await ended
  await work // the values that arrived by then
  let merged = await merger.merge()
  if (merged === undefined && !options.complete) {
    await ended
    merged = await merger.merge()
  }
  answered = merged?.state
  deleted = merged?.deleted ?? false
  answering = false
  const rest = (async () => {
    await ended
    await later() // heads gathered while the answer was being merged
    return await merger.merge()
  })()
  return { state: answered, deleted, rest }
}

/** Merges the states of the heads gathered so far, fetching those not fetched yet; each refused state is reported once. */
class Merger {
  readonly #ctx: HeadReadContext
  readonly #gatherer: HeadGatherer
  readonly #signal: () => AbortSignal
  readonly #states: FetchedStates
  readonly #reported = new Set<string>()
  #last: { readonly key: string, readonly merged: MergedRead | undefined } | undefined

  constructor (ctx: HeadReadContext, gatherer: HeadGatherer, signal: () => AbortSignal) {
    this.#ctx = ctx
    this.#gatherer = gatherer
    this.#signal = signal
    this.#states = fetchedStates(ctx.maxRecordBytes)
  }

  /**
   * The merge of every gathered head's states, or `undefined` when none
   * could be fetched and merged and no head is a tombstone; `grew`:
   * whether it merged states (or a tombstone) the previous call had not.
   */
  async merge (): Promise<(MergedRead & { readonly grew: boolean }) | undefined> {
    const heads = await this.#gatherer.heads()
    // A tombstone wins over every state: none needs fetching then.
    const deleted = heads.some((h) => h.head.deleted === true)
    if (!deleted) await fetchStates(this.#ctx, heads, this.#signal, this.#states)
    const { fetched } = this.#states
    const ids = deleted ? [] : [...new Set(heads.flatMap((h) => h.states))].filter((id) => fetched.has(id)).sort()
    const key = deleted ? 'deleted' : ids.join(',')
    const read = { heads, disagreed: this.#gatherer.disagreed, ...this.#states }
    if (this.#last?.key === key) {
      const last = this.#last.merged
      return last === undefined ? undefined : { ...last, read, grew: false }
    }
    let merged: MergedRead | undefined
    if (deleted) merged = { read, state: EMPTY_STATE, rejected: new Set(), deleted }
    if (ids.length > 0) {
      const result = mergeStates(undefined, ids.map((id) => fetched.get(id) as Uint8Array))
      const rejected = new Set(result.rejected.map((i) => ids[i] as string))
      for (const id of rejected) {
        if (this.#reported.has(id)) continue
        this.#reported.add(id)
        this.#ctx.reject(`MalformedUpdateError: state ${id} is not a Yjs update`)
      }
      if (rejected.size < ids.length) merged = { read, state: result.state, rejected, deleted }
    }
    this.#last = { key, merged }
    return merged === undefined ? undefined : { ...merged, grew: true }
  }
}
