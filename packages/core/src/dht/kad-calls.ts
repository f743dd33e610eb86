/**
 * The three kad-dht calls the DHT store makes, with kad-dht 16's events
 * turned into plain results: a put's acknowledgements (as they come, and
 * in all), every replica's value of a get (as they come), and the first
 * acceptable value of a get.
 *
 * kad-dht's `put` never throws when replication fails, and its `get` hands
 * only the selector's pick to the caller (after overwriting the replicas
 * that differ with it): these facts are dealt with here.
 * @module
 */
import type { KadDHT, QueryEvent, SingleKadDHT } from '@libp2p/kad-dht'
import type { PeerId } from '@libp2p/interface'
import { bytesEqual, sha256, toHex } from '../util/hash.ts'
import { takeRefusal } from './validators.ts'

/** Called for each value a peer served that kad-dht's validator refused (and dropped). */
export type OnRefused = (reason: string, from: string) => void

/** Reports a value the validator refused, with the validator's reason when known. */
function refused (event: QueryEvent, key: Uint8Array, onRefused: OnRefused | undefined): void {
  if (onRefused === undefined || event.name !== 'QUERY_ERROR' || !/invalid record/.test(event.error.message)) return
  onRefused(takeRefusal(key) ?? 'MalformedUpdateError: a value failed validation', event.from.toString())
}

/** Errors of a query that mean the peer could not be reached. */
const UNREACHABLE = new Set(['NoValidAddressesError', 'DialError', 'ConnectionFailedError', 'TimeoutError', 'AbortError'])

/**
 * Drops a peer that a query of ours could not reach from kad-dht's routing
 * table, as go-libp2p's DHT does. kad-dht keeps a peer that left until a
 * full bucket pings it, and once libp2p forgets its addresses (an hour),
 * a lookup that meets it waits for a dial that looks the peer up in the
 * DHT, up to the dial timeout: long enough to fail every put whose closest
 * peers include it. A peer that comes back is added again when it connects.
 */
export function forgetUnreachable (dht: KadDHT, event: QueryEvent, signal: AbortSignal): void {
  if (event.name !== 'QUERY_ERROR' || signal.aborted || !UNREACHABLE.has(event.error.name)) return
  // (kad-dht 16's routing table has `remove`, though its public type names `size` only.)
  const table = (dht as Partial<SingleKadDHT> as { routingTable?: { remove?: (peer: PeerId) => Promise<void> } }).routingTable
  if (typeof table?.remove === 'function') table.remove(event.from).catch(() => {})
}

/** A put under way (see {@link startPut}). */
export interface PutProgress {
  /**
   * Resolves with the acknowledgements so far as soon as `need` distinct
   * peers acknowledged, or, when the put ended short of that, with all of
   * them; rejects if the put failed before either.
   */
  readonly reached: Promise<number>
  /** Resolves with every acknowledgement once the whole put ended (a timeout or abort ends it too); rejects if it failed. */
  readonly done: Promise<number>
}

/**
 * Starts putting `value` under `key` (stored locally, then sent to the
 * closest peers the lookup finds, 3 at a time). An acknowledgement is a
 * `PUT_VALUE` response echoing the same value, counted once per peer.
 * `reached` tells when `need` peers acknowledged while the rest of the put
 * goes on; `done` when it ended. A timeout or abort ends the put early: the
 * acknowledgements so far count.
 * @param need acknowledgements that resolve `reached` early @default Infinity (the whole put)
 */
export function startPut (dht: KadDHT, key: Uint8Array, value: Uint8Array, signal: AbortSignal, need = Infinity): PutProgress {
  const acknowledged = new Set<string>()
  const early = Promise.withResolvers<number>()
  const done = (async () => {
    try {
      for await (const event of dht.put(key, value, { signal })) {
        forgetUnreachable(dht, event, signal)
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE' &&
          event.record !== undefined && bytesEqual(event.record.value, value)) {
          acknowledged.add(event.from.toString())
          if (acknowledged.size >= need) early.resolve(acknowledged.size)
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error
    }
    return acknowledged.size
  })()
  // The race handles `done`'s rejection: a failure after `reached` resolved is the caller's to read from `done`.
  return { reached: Promise.race([early.promise, done]), done }
}

/**
 * Puts `value` under `key` and resolves, once the whole put ended, with the
 * number of distinct peers that acknowledged it (see {@link startPut}).
 */
export async function putValue (dht: KadDHT, key: Uint8Array, value: Uint8Array, signal: AbortSignal): Promise<number> {
  return await startPut(dht, key, value, signal).done
}

/**
 * kad-dht 16's `get` ends with "correction" puts of its selector's pick to
 * every replica whose value differs: events on this path index. For CRDT
 * heads that would overwrite replicas with one of them, so the DHT store
 * stops the get there (see {@link getValues}).
 */
const CORRECTION_PATH = -1

/** Options of {@link getValues}. */
export interface GetValuesOptions {
  /**
   * Let kad-dht send its first correction, to learn its pick from the
   * echo: that is this peer's own copy when it has one (Kadmium's head
   * selector picks the first value, and kad-dht lists the local one first),
   * which no other event carries. The corrected replica's old value has
   * been seen by then. Only where a correction loses nothing: Kadmium's DHT
   * servers merge the heads it carries into theirs (`merging-datastore.ts`),
   * which plain kad-dht servers would replace. @default false
   */
  readonly learnPick?: boolean
  /** Told of each value kad-dht's validator refused. */
  readonly onRefused?: OnRefused
}

/**
 * Every distinct value the network holds under `key`, as far as one lookup
 * sees, handed to `onValue` as it arrives: each replica's value from the
 * `GET_VALUE` responses, and, when the replicas all agree (or with
 * `learnPick`), the value kad-dht picked, which includes the local copy.
 * kad-dht has already run the namespace's validator on each remote value.
 * Resolves once the lookup ended.
 *
 * The lookup is stopped before kad-dht's correction puts overwrite the
 * replicas that differ (after the first one, with `learnPick`). A timeout
 * or an abort ends it too (it resolves; the values seen were handed over).
 */
export async function streamValues (
  dht: KadDHT, key: Uint8Array, signal: AbortSignal, onValue: (value: Uint8Array) => void, options: GetValuesOptions = {}
): Promise<void> {
  const seen = new Set<string>()
  const add = (value: Uint8Array): void => {
    const id = toHex(sha256(value))
    if (seen.has(id)) return
    seen.add(id)
    onValue(value)
  }
  try {
    for await (const event of dht.get(key, { signal })) {
      refused(event, key, options.onRefused)
      forgetUnreachable(dht, event, signal)
      if (event.name === 'VALUE') {
        add(event.value)
      } else if (event.path.index === CORRECTION_PATH) {
        if (options.learnPick !== true) break
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE' && event.record !== undefined) {
          add(event.record.value)
          break
        }
      } else {
        const value = valueOf(event)
        if (value !== undefined) add(value)
      }
    }
  } catch (error) {
    if (!signal.aborted && !isCorrectionFailure(error)) throw error
  }
}

/** Every distinct value one lookup finds under `key`, once it ended (see {@link streamValues}). */
export async function getValues (dht: KadDHT, key: Uint8Array, signal: AbortSignal, options: GetValuesOptions = {}): Promise<Uint8Array[]> {
  const values: Uint8Array[] = []
  await streamValues(dht, key, signal, (value) => { values.push(value) }, options)
  return values
}

/**
 * The first value found under `key` that `accept` takes (it is called on
 * each value found, remote or the selector's pick); the lookup is cancelled
 * as soon as one is accepted, and before any correction put. `undefined` if
 * none was found in time.
 */
export async function getFirstValue (
  dht: KadDHT, key: Uint8Array, accept: (value: Uint8Array) => boolean, signal: AbortSignal, onRefused?: OnRefused
): Promise<Uint8Array | undefined> {
  try {
    for await (const event of dht.get(key, { signal })) {
      refused(event, key, onRefused)
      forgetUnreachable(dht, event, signal)
      if (event.name !== 'VALUE' && event.path.index === CORRECTION_PATH) break
      const value = valueOf(event)
      if (value !== undefined && accept(value)) return value
    }
  } catch (error) {
    if (!signal.aborted && !isCorrectionFailure(error)) throw error
  }
  return undefined
}

/** The record value an event of a get carries, if any. */
function valueOf (event: QueryEvent): Uint8Array | undefined {
  if (event.name === 'VALUE') return event.value
  if (event.name === 'PEER_RESPONSE' && event.messageName === 'GET_VALUE') return event.record?.value
  return undefined
}

/** kad-dht's get throws a `QueryError` when a replica refuses its correction put: that ends the lookup, not the read. */
function isCorrectionFailure (error: unknown): boolean {
  return error instanceof Error && error.name === 'QueryError'
}
