/**
 * Writing one author's head of a record: its state inline in the head when
 * small, else as blocks first, then the signed, dated head — each put able
 * to resolve at a number of acknowledgements while the rest goes on.
 * @module
 */
import type { KadDHT } from '@libp2p/kad-dht'
import { InvalidArgumentError } from '../errors.ts'
import type { ReplicaSecurity } from '../access/replica-security.ts'
import { startPart } from './blocks.ts'
import { encodeHead, isTombstone, MAX_INLINE_BYTES, parseHead, type Head, type RecordContent, type SignedHead } from './head.ts'
import { headSet } from './head-set.ts'
import { startPut } from './kad-calls.ts'

/** What writing a head needs of the DHT store. */
export interface HeadWriteContext {
  readonly dht: KadDHT
  /** Who signs (and, in an encrypted database, seals); without it nothing can be written. */
  readonly security: ReplicaSecurity | undefined
  /** The database address as bytes: the aad of sealed states. */
  readonly aad: Uint8Array
  readonly blockConcurrency: number
}

/** A head written: its acknowledgements when the write resolved, and the whole write's. */
export interface WrittenHead {
  /** The fewest acknowledgements of the head and the blocks when it resolved. */
  readonly acknowledged: number
  /** The fewest acknowledgements of the head and blocks once every put ended (rejects if one failed). */
  readonly rest: Promise<number>
}

/**
 * Stores `state` (inline in the head when small, else as blocks), then
 * puts the author's head naming it — or, for `TOMBSTONE`, puts the
 * author's head with the deleted marker (no state, no blocks) — with `others` (other authors' heads,
 * for a repair) in one head set. With `need`, it resolves once each block
 * and then the head reached `need` acknowledgements (or their puts ended
 * short of them); the rest of the puts go on.
 * @param rests the rest of the write is pushed here as soon as it starts, so that the caller can track it even when the write then fails
 * @throws {InvalidArgumentError} no security (no signer)
 */
export async function writeHead (
  ctx: HeadWriteContext, hk: Uint8Array, state: RecordContent, others: readonly SignedHead[], signal: () => AbortSignal,
  need?: number, rests: Array<Promise<number>> = []
): Promise<WrittenHead> {
  const security = ctx.security
  if (security === undefined) throw new InvalidArgumentError('writing records needs the database\'s security (a signer)')
  const sealer = security.sealer
  const bytes = isTombstone(state) ? undefined : sealer === undefined ? state : await sealer.seal(state, ctx.aad)
  let blocks = Infinity
  let blocksRest = Promise.resolve(Infinity)
  let head: Head = bytes === undefined ? { parts: [], deleted: true } : { parts: [], inline: bytes }
  if (bytes !== undefined && bytes.length > MAX_INLINE_BYTES) {
    const progress = await startPart(ctx.dht, bytes, { signal, concurrency: ctx.blockConcurrency, need })
    head = { parts: [progress.part] }
    blocks = progress.acknowledged
    blocksRest = progress.rest
    rests.push(blocksRest)
  }
  const mine = await encodeHead(hk, head, security.signer, sealer)
  const value = others.length === 0 ? mine : headSet([...others, parseHead(mine)])
  const put = startPut(ctx.dht, hk, value, signal(), need)
  const rest = Promise.all([blocksRest, put.done]).then((all) => Math.min(...all))
  rest.catch(() => {}) // the caller reads it (or, if the write fails below, tracks it through `rests`)
  rests.push(rest)
  return { acknowledged: Math.min(blocks, await put.reached), rest }
}
