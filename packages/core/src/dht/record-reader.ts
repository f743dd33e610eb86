/**
 * How a DHT store reads a record: every replica's heads merged (see
 * `record-read.ts`), answering with the first replicas' while the lookup
 * goes on (later heads reported as `late` events), then read repair.
 * @module
 */
import { TOMBSTONE, type RecordContent } from './head.ts'
import type { GetRecordOptions, RecordRef } from './dht-store-types.ts'
import { repairRead } from './read-repair.ts'
import { readRecord, type MergedRead } from './record-read.ts'
import { recordKey, type RecordContext } from './record-context.ts'

const EMPTY = new Uint8Array(0)

/** Reads records (the DHT store's `getRecord` and `getRecordContent`). */
export class RecordReader {
  readonly #ctx: RecordContext

  constructor (ctx: RecordContext) {
    this.#ctx = ctx
  }

  /**
   * {@link getRecord}, telling a deleted record apart: resolves with the
   * merged state, `TOMBSTONE` when a head found is a tombstone, or
   * `undefined` when nothing was found in time.
   * @throws {DatabaseClosedError} the store was stopped
   */
  async getRecordContent (collection: string, id: string | null, options: GetRecordOptions = {}): Promise<RecordContent | undefined> {
    this.#ctx.checkOpen()
    const ref = { collection, id }
    const complete = options.complete === true
    return await this.#ctx.lock.run(recordKey(ref), async () => {
      const signal = this.#ctx.signals(options)
      const hk = await this.#ctx.headKey(collection, id)
      const writes = this.#ctx.writes
      const answer = await readRecord(this.#ctx.readContext(ref), hk, collection, signal, {
        complete,
        onLater: (state, deleted) => { if (!this.#ctx.stopped) this.#ctx.emit('late', { ...ref, state, deleted }) }
      })
      const rest = answer.rest.then(async (read) => {
        // With `complete`, this read still holds the record's lock (it awaits the repair).
        if (read !== undefined && options.readRepair !== false) await this.#repair(ref, hk, read, { writes, locked: complete }, signal)
      })
      this.#ctx.background.track(rest)
      if (complete) {
        await rest.catch(() => {})
        this.#ctx.checkRunning(options)
        const read = await answer.rest
        return read?.deleted === true ? TOMBSTONE : read?.state
      }
      this.#ctx.checkRunning(options)
      return answer.deleted ? TOMBSTONE : answer.state
    })
  }

  /**
   * Read repair after a whole read (see {@link getRecord} and
   * `read-repair.ts`). `writes`: this store's head count when the read
   * began — a head of ours written since holds state the read may not
   * have seen, so no merged head is put then. `locked`: the caller holds
   * the record's lock (else a merged head's write takes it).
   */
  async #repair (
    ref: RecordRef, hk: Uint8Array, merged: MergedRead, { writes, locked }: { readonly writes: number, readonly locked: boolean }, signal: () => AbortSignal
  ): Promise<void> {
    if (this.#ctx.stopped) return
    try {
      const acknowledged = await repairRead({
        dht: this.#ctx.dht,
        author: this.#ctx.security?.signer.publicKey ?? EMPTY,
        mayWrite: this.#ctx.mayWrite(ref.collection),
        wroteSince: () => this.#ctx.writes !== writes,
        write: async (key, content, others, sig) => await this.#ctx.write(key, content, others, sig),
        locked: async (work) => locked ? await work() : await this.#ctx.lock.run(recordKey(ref), work)
      }, hk, merged, signal)
      if (acknowledged !== undefined) this.#ctx.emit('repaired', { ...ref, heads: merged.read.heads.length, acknowledged })
    } catch {
      // A failed repair does not fail the read: the next read tries again.
    }
  }
}
