/**
 * How a DHT store puts a record's state: its blocks (unless inline), then
 * this author's signed head, without reading first; retried while fewer
 * peers than asked acknowledged; resolving early at the `replicas`-th
 * acknowledgement while the rest of the put goes on in the background; a
 * state the queue just put skipped.
 * @module
 */
import { DurabilityError } from '../errors.ts'
import { sha256, toHex } from '../util/hash.ts'
import { pause } from './background.ts'
import type { PutRecordOptions, RecordRef } from './dht-store-types.ts'
import { isTombstone, type RecordContent } from './head.ts'
import { mergeStates } from './merge.ts'
import type { PutQueue } from './put-queue.ts'
import { recordKey, type RecordContext } from './record-context.ts'

const RETRY_PAUSE = 100

/** Puts records' states (the DHT store's `putRecord` and its queue's runs). */
export class RecordWriter {
  readonly #ctx: RecordContext
  readonly #queue: Pick<PutQueue<unknown>, 'recent' | 'putDone'>

  /** @param queue where each key's last put is remembered */
  constructor (ctx: RecordContext, queue: Pick<PutQueue<unknown>, 'recent' | 'putDone'>) {
    this.#ctx = ctx
    this.#queue = queue
  }

  /**
   * `DhtStore.putRecord`, with at most `attempts` puts when fewer than
   * `replicas` peers acknowledge (the queue retries on its own). `early`:
   * resolve at the `replicas`-th acknowledgement (else at the end of the
   * put). `fresh`: skip the put when this store put the same state lately
   * with enough acknowledgements (a queued put right after a durable one).
   */
  async put (
    collection: string, id: string | null, state: RecordContent | (() => Promise<RecordContent>), options: PutRecordOptions, attempts: number,
    { early = false, fresh = false }: { readonly early?: boolean, readonly fresh?: boolean }
  ): Promise<number> {
    this.#ctx.checkOpen()
    if (typeof state !== 'function') this.#ctx.checkSize(state)
    const ref = { collection, id }
    return await this.#ctx.lock.run(recordKey(ref), async () => {
      const signal = this.#ctx.signals(options)
      const bytes = typeof state === 'function' ? await state() : state
      this.#ctx.checkRunning(options)
      this.#ctx.checkSize(bytes)
      const key = recordKey(ref)
      const hash = isTombstone(bytes) ? 'deleted' : toHex(sha256(bytes))
      const last = this.#queue.recent(key)
      if (fresh && last !== undefined && last.hash === hash && last.acknowledged >= (options.replicas ?? 0) && this.#ctx.options.clock.now() - last.at < this.#ctx.options.republishInterval / 2) {
        // The same state was put lately (a write's durable put, then its background one): nothing to add.
        return last.acknowledged
      }
      if (!isTombstone(bytes)) mergeStates(bytes, []) // throws MalformedUpdateError when it does not decode
      const hk = await this.#ctx.headKey(collection, id)
      const need = early && options.replicas !== undefined && options.replicas >= 1 ? options.replicas : undefined
      const rests: Array<Promise<number>> = []
      let acknowledged = 0
      try {
        for (let attempt = 0; attempt === 0 || (options.replicas !== undefined && acknowledged < options.replicas && attempt < attempts); attempt++) {
          // A peer that just joined finds few peers in its first lookup (its routing table is still
          // filling): a put that fell short of `replicas` is tried again, while time remains.
          if (attempt > 0) {
            await pause(RETRY_PAUSE * attempt, signal())
            this.#ctx.checkRunning(options)
          }
          const written = await this.#ctx.write(hk, bytes, [], signal, need, rests)
          acknowledged = Math.max(acknowledged, written.acknowledged)
        }
        this.#ctx.checkRunning(options)
        if (options.replicas !== undefined && acknowledged < options.replicas) {
          throw new DurabilityError(acknowledged, options.replicas)
        }
      } finally {
        this.#finishPut(ref, rests, need !== undefined && acknowledged >= need)
      }
      this.#queue.putDone(key, { hash, at: this.#ctx.options.clock.now(), acknowledged })
      return acknowledged
    })
  }

  /**
   * Tracks the rest of a put's writes (`stop` awaits them); `resolvedEarly`:
   * the put resolved before they ended, so they count in `pending` and
   * their end is a `completed` event.
   */
  #finishPut (ref: RecordRef, rests: ReadonlyArray<Promise<number>>, resolvedEarly: boolean): void {
    if (resolvedEarly) this.#ctx.remainders++
    this.#ctx.background.track((async () => {
      const settled = await Promise.allSettled(rests)
      if (resolvedEarly) this.#ctx.remainders--
      if (!resolvedEarly || this.#ctx.stopped) return
      const acknowledged = Math.max(0, ...settled.flatMap((r) => r.status === 'fulfilled' ? [r.value] : []))
      const last = settled.at(-1)
      this.#ctx.emit('completed', { ...ref, acknowledged, ...(last?.status === 'rejected' ? { error: last.reason as unknown } : {}) })
    })())
  }
}
