/**
 * What the DHT store's puts and reads of records share: the kad-dht
 * service, the database address and security, the options, one lock per
 * record, the signals that bound each query (and end them all at stop),
 * the background work that outlives a call, and the head key of a record.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import type { ReplicaSecurity } from '../access/replica-security.ts'
import { DatabaseClosedError, RecordTooLargeError } from '../errors.ts'
import { toHex } from '../util/hash.ts'
import { KeyedLock } from '../util/lock.ts'
import { BackgroundWork } from './background.ts'
import { headKey, HEAD_NS } from './dht-keys.ts'
import type { DhtOperationOptions, DhtStoreEvents, DhtStoreOptions, RecordRef } from './dht-store-types.ts'
import { isTombstone, type RecordContent, type SignedHead } from './head.ts'
import type { HeadReadContext } from './head-read.ts'
import { writeHead, type WrittenHead } from './head-write.ts'

/** Emits one of the DHT store's events. */
export type DhtEmit = <K extends keyof DhtStoreEvents>(type: K, detail: DhtStoreEvents[K]) => void

/** The state a DHT store's record puts and reads share. */
export class RecordContext {
  readonly dht: KadDHT
  readonly address: string
  readonly options: Required<DhtStoreOptions>
  readonly security: ReplicaSecurity | undefined
  /** The database address as bytes: sealed blocks and heads are bound to it. */
  readonly aad: Uint8Array
  readonly emit: DhtEmit
  /** Aborts every query at stop. */
  readonly controller = new AbortController()
  /** One put or read of a record at a time. */
  readonly lock = new KeyedLock()
  /** Work that outlives the call that started it: the rest of early-resolved puts, of reads (later heads, repair). */
  readonly background = new BackgroundWork()
  /** Early-resolved puts whose rest is still going. */
  remainders = 0
  /** Heads of this store's author written so far (a read's compaction is skipped if one was written meanwhile). */
  writes = 0
  stopped = false

  constructor (dht: KadDHT, address: string, options: Required<DhtStoreOptions>, security: ReplicaSecurity | undefined, emit: DhtEmit) {
    this.dht = dht
    this.address = address
    this.options = options
    this.security = security
    this.aad = new TextEncoder().encode(address)
    this.emit = emit
  }

  /** A factory of signals for each query: the query timeout, the operation's timeout and signal, and `stop`. */
  signals (options: DhtOperationOptions): () => AbortSignal {
    const parents = [this.controller.signal]
    if (options.signal !== undefined) parents.push(options.signal)
    if (options.timeout !== undefined) parents.push(AbortSignal.timeout(options.timeout))
    return () => AbortSignal.any([...parents, AbortSignal.timeout(this.options.queryTimeout)])
  }

  /** The DHT key of a record's head: in an encrypted database a keyed pseudonym, so storing peers cannot tell names. */
  async headKey (collection: string, id: string | null): Promise<Uint8Array> {
    const namer = this.security?.namer
    if (namer === undefined) return headKey(this.address, collection, id)
    const name = await namer.name('head', this.address, collection, id ?? '\u0000index')
    return new TextEncoder().encode(`/${HEAD_NS}/${toHex(name)}`)
  }

  /** Whether this peer's heads for the collection would be accepted (read repair needs it). */
  mayWrite (collection: string): boolean {
    if (this.security === undefined) return false
    try {
      this.security.access.check(this.security.signer.publicKey, collection)
      return true
    } catch {
      return false
    }
  }

  /** {@link writeHead} with this store's signer, counting this author's heads written. */
  async write (
    hk: Uint8Array, state: RecordContent, others: readonly SignedHead[], signal: () => AbortSignal, need?: number, rests?: Array<Promise<number>>
  ): Promise<WrittenHead> {
    this.writes++
    const ctx = { dht: this.dht, security: this.security, aad: this.aad, blockConcurrency: this.options.blockConcurrency }
    return await writeHead(ctx, hk, state, others, signal, need, rests)
  }

  readContext (ref: RecordRef): HeadReadContext {
    return {
      dht: this.dht,
      security: this.security,
      aad: this.aad,
      maxRecordBytes: this.options.maxRecordBytes,
      blockConcurrency: this.options.blockConcurrency,
      reject: (reason) => { this.reject(ref, reason) }
    }
  }

  checkSize (state: RecordContent): void {
    if (!isTombstone(state) && state.length > this.options.maxRecordBytes) throw new RecordTooLargeError(state.length, this.options.maxRecordBytes)
  }

  checkOpen (): void {
    if (this.stopped) throw new DatabaseClosedError()
  }

  /** Between the steps of an operation: stop and the caller's abort end it. */
  checkRunning (options: DhtOperationOptions): void {
    this.checkOpen()
    options.signal?.throwIfAborted()
  }

  blockOptions (options: DhtOperationOptions): { signal: () => AbortSignal, concurrency: number } {
    return { signal: this.signals(options), concurrency: this.options.blockConcurrency }
  }

  reject (ref: RecordRef, reason: string): void {
    this.emit('rejected', { ...ref, reason })
  }
}

/** The lock's, queue's and caches' key of a record. */
export function recordKey (ref: RecordRef): string {
  return JSON.stringify([ref.collection, ref.id])
}

/** The record a {@link recordKey} names. */
export function parseRecordKey (key: string): RecordRef {
  const [collection, id] = JSON.parse(key) as [string, string | null]
  return { collection, id }
}
