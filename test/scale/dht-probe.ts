/**
 * What a scale peer measures of its DHT: lookups traced event by event
 * (for their hops and latency), and the records and provider entries its
 * DHT server holds.
 * @module
 */
import type { KadmiumLibp2p } from '@kadmium/core'
import type { Datastore } from 'interface-datastore'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { lookupHops, type LookupHops, type TraceEvent } from './measure.ts'

/** One traced lookup. */
export interface LookupResult {
  readonly kind: 'closest' | 'get'
  /** The whole walk (ms). */
  readonly ms: number
  /** `get`: ms to the first answer that carried the value. */
  readonly firstValueMs: number | undefined
  readonly hops: LookupHops
  /** `closest`: peers it ended with; `get`: answers that carried the value. */
  readonly found: number
  /** Set if the lookup failed or ran out of time. */
  readonly error?: string
}

/**
 * Walks the DHT for `key`: `closest` finds its k closest peers (what a
 * put or a provide starts with), `get` reads its value (kad-dht's whole
 * walk, as a Kadmium read does).
 */
export async function traceLookup (libp2p: KadmiumLibp2p, key: Uint8Array, kind: 'closest' | 'get', timeoutMs: number): Promise<LookupResult> {
  const dht = libp2p.services.dht
  const trace: TraceEvent[] = []
  const started = performance.now()
  let firstValueMs: number | undefined
  let found = 0
  let error: string | undefined
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    const events = kind === 'get' ? dht.get(key, { signal }) : dht.getClosestPeers(key, { signal })
    for await (const event of events) {
      if (event.name === 'SEND_QUERY') trace.push({ kind: 'send', to: event.to.toString() })
      else if (event.name === 'QUERY_ERROR') trace.push({ kind: 'error', from: event.from.toString() })
      else if (event.name === 'FINAL_PEER') found++
      else if (event.name === 'PEER_RESPONSE') {
        const value = event.record !== undefined
        if (value) {
          found++
          firstValueMs ??= performance.now() - started
        }
        trace.push({ kind: 'response', from: event.from.toString(), closer: event.closer.map((p) => p.id.toString()), value })
      }
    }
  } catch (caught) {
    error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)
  }
  return { kind, ms: performance.now() - started, firstValueMs, hops: lookupHops(trace), found, ...(error !== undefined ? { error } : {}) }
}

/** What a DHT server holds. */
export interface HeldRecords {
  /** Each record: its DHT key (hex) and the bytes stored under it (a Kadmium head set, a block, a manifest). */
  readonly records: ReadonlyArray<{ readonly key: string, readonly bytes: number }>
  /** Provider entries (one per database address and providing peer). */
  readonly providers: number
}

/** Where kad-dht keeps records and provider entries in libp2p's datastore (its default prefix). */
const RECORDS = '/dht/record/'
const PROVIDERS = '/dht/provider/'

/**
 * The records and provider entries this peer's DHT server holds, read
 * from libp2p's datastore — a measurement's look inside: libp2p keeps the
 * datastore among its components, which its `Libp2p` class exposes but
 * its public interface does not name.
 */
export async function heldRecords (libp2p: KadmiumLibp2p): Promise<HeldRecords> {
  const datastore = (libp2p as unknown as { components: { datastore: Datastore } }).components.datastore
  const records: Array<{ key: string, bytes: number }> = []
  for await (const { key, value } of datastore.query({ prefix: RECORDS })) {
    const encoded = key.toString().slice(RECORDS.length)
    records.push({ key: toString(fromString(encoded, 'base32'), 'hex'), bytes: value.byteLength })
  }
  let providers = 0
  for await (const _ of datastore.queryKeys({ prefix: PROVIDERS })) providers++
  return { records, providers }
}
