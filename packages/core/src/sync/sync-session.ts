import type { Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { RemoteRecord, Replica } from '../replica/replica.ts'
import type { Digest } from '../store/digest.ts'
import { MalformedMessageError, SyncError } from '../errors.ts'
import { encode } from 'cborg'
import { concatBytes } from '../util/bytes.ts'
import { bytesEqual } from '../util/hash.ts'
import type { WriteAccess } from '../access/write-access.ts'
import { signedBytes, verifySignature, type Signer } from '../access/identity.ts'
import {
  decodeBigPart, decodeItems, decodeSyncMessage, DIGEST_CHUNK, encodeSyncMessage, MAX_BIG_UPDATE_BYTES, MAX_SYNC_MESSAGE_BYTES,
  TARGET_SYNC_MESSAGE_BYTES, type SyncItem, type SyncMessage
} from './sync-messages.ts'

/** Who signs a session's messages, whose signatures it checks, and who may write. */
export interface SessionSecurity {
  /** The database address (covered by signatures). */
  readonly address: string
  /** Signs what this side sends. */
  readonly signer: Signer
  /** The session peer's raw Ed25519 public key (from its authenticated connection). */
  readonly peerKey: Uint8Array
  /** The nonce this side sent: the peer signs with it. */
  readonly mine: Uint8Array
  /** The nonce the peer sent: this side signs with it. */
  readonly theirs: Uint8Array
  /** Who may write: the peer's updates are applied only where it may. */
  readonly access: WriteAccess
}

/** Options of a session. */
export interface SessionOptions {
  /** Longest wait for the peer's next message. @default 30000 */
  readonly idleTimeout?: number
  /** Called as updates arrive: how many of the peer's announced total were applied. */
  readonly onProgress?: (done: number, total: number) => void
  /** Called for each update of the peer that could not be applied (it is skipped). */
  readonly onRejected?: (reason: string) => void
  /**
   * The peer said it holds nothing of the database: this side sends no
   * digests (the peer has nothing to compare them with) and plans at
   * once, everything, without waiting for the peer's.
   */
  readonly peerHoldsNothing?: boolean
}

/** What a session did. */
export interface SessionResult {
  /** Update sets sent to the peer. */
  readonly sent: number
  /** Update sets received from the peer. */
  readonly received: number
}

/**
 * What the peer holds of one of our collections. Only what matters for
 * sending is kept — which of our records it has the same, and the state
 * vectors of those it has otherwise — so a peer cannot make this side
 * hold more than its own records' worth, whatever it announces.
 */
interface TheirState {
  index?: Digest
  /** Our records the peer holds as we do. */
  readonly same: Set<string>
  /** Our records the peer holds otherwise: its state vector of each. */
  readonly differing: Map<string, Uint8Array>
}

const EMPTY_STATE_VECTOR = new Uint8Array([0])
/** Digest entries one peer may announce at most (a digest message counts as at least 64). */
const MAX_DIGEST_ENTRIES = 1_000_000
const MIN_DIGEST_COST = 64

/** Opens a length-prefixed message stream with Kadmium's limits. */
export function messages (stream: Stream): LengthPrefixedStream<Stream> {
  return lpStream(stream, { maxDataLength: MAX_SYNC_MESSAGE_BYTES, maxBufferSize: 4 * MAX_SYNC_MESSAGE_BYTES })
}

/** Reads one message, waiting at most `idleTimeout`. */
export async function readMessage (lp: LengthPrefixedStream<Stream>, idleTimeout: number): Promise<SyncMessage> {
  let bytes
  try {
    bytes = await lp.read({ signal: AbortSignal.timeout(idleTimeout) })
  } catch (cause) {
    throw new SyncError(`reading from the peer failed: ${(cause as Error).message}`, { cause })
  }
  return decodeSyncMessage(bytes.subarray())
}

/** Writes one message. */
export async function writeMessage (lp: LengthPrefixedStream<Stream>, message: SyncMessage): Promise<void> {
  await lp.write(encodeSyncMessage(message))
}

/**
 * Runs the symmetric part of a catch-up session, after the hello: both
 * sides send digests of everything they hold, then each sends the other
 * only what it lacks — the collection index first, then whole records it
 * does not have (read from storage without building documents) and diffs
 * against its state vector for records that differ. Three message rounds
 * whatever the number of records.
 */
export async function runSession (
  lp: LengthPrefixedStream<Stream>, source: Replica, security: SessionSecurity, options: SessionOptions = {}
): Promise<SessionResult> {
  const idle = options.idleTimeout ?? 30_000
  let resolveTheirs!: (state: Map<string, TheirState>) => void
  let rejectTheirs!: (error: Error) => void
  const theirs = new Promise<Map<string, TheirState>>((resolve, reject) => {
    resolveTheirs = resolve
    rejectTheirs = reject
  })
  theirs.catch(() => {})
  const send = async (): Promise<number> => {
    if (options.peerHoldsNothing === true) {
      await writeMessage(lp, { t: 'D' })
      return sendUpdates(new SignedWriter(lp, security), source, new Map())
    }
    await sendDigests(lp, source)
    return sendUpdates(new SignedWriter(lp, security), source, await theirs)
  }
  const receive = async (): Promise<number> => {
    try {
      resolveTheirs(await receiveDigests(lp, idle, source))
    } catch (error) {
      rejectTheirs(error as Error)
      throw error
    }
    return receiveUpdates(lp, source, idle, security, options)
  }
  const [sent, received] = await Promise.all([send(), receive()])
  return { sent, received }
}

async function sendDigests (lp: LengthPrefixedStream<Stream>, source: Replica): Promise<void> {
  for (const c of await source.collections()) {
    const index = await source.indexDigest(c)
    const records = [...(await source.digests(c))]
    for (let i = 0; i === 0 || i < records.length; i += DIGEST_CHUNK) {
      await writeMessage(lp, { t: 'd', c, ...(i === 0 ? { i: index } : {}), r: records.slice(i, i + DIGEST_CHUNK) })
    }
  }
  await writeMessage(lp, { t: 'D' })
}

async function receiveDigests (lp: LengthPrefixedStream<Stream>, idle: number, source: Replica): Promise<Map<string, TheirState>> {
  const state = new Map<string, TheirState>()
  const ours = new Set(await source.collections())
  const mine = new Map<string, ReadonlyMap<string, Digest>>()
  let entries = 0
  for (;;) {
    const m = await readMessage(lp, idle)
    if (m.t === 'D') return state
    if (m.t === 'e') throw new SyncError(`the peer refused: ${m.reason}`)
    if (m.t !== 'd') throw new MalformedMessageError(`expected a digest, got "${m.t}"`)
    entries += Math.max(MIN_DIGEST_COST, m.r.length)
    if (entries > MAX_DIGEST_ENTRIES) throw new MalformedMessageError('the peer announced too many records')
    // A collection this side does not hold: nothing to send for it, nothing to keep.
    if (!ours.has(m.c)) continue
    let col = state.get(m.c)
    if (col === undefined) state.set(m.c, col = { same: new Set(), differing: new Map() })
    if (m.i !== undefined) col.index = m.i
    let digests = mine.get(m.c)
    if (digests === undefined) mine.set(m.c, digests = await source.digests(m.c))
    for (const [id, digest] of m.r) {
      const own = digests.get(id)
      if (own === undefined) continue
      if (bytesEqual(own.hash, digest.hash)) col.same.add(id)
      else col.differing.set(id, digest.sv.slice())
    }
  }
}

async function sendUpdates (out: SignedWriter, source: Replica, theirs: Map<string, TheirState>): Promise<number> {
  // First decide what to send, so that the peer can show progress.
  const plans: Array<{ c: string, missing: string[], differing: Array<[string, Uint8Array]>, index: Uint8Array | undefined }> = []
  let total = 0
  for (const c of await source.collections()) {
    const their = theirs.get(c)
    const missing: string[] = []
    const differing: Array<[string, Uint8Array]> = []
    for (const id of (await source.digests(c)).keys()) {
      if (their?.same.has(id) === true) continue
      const sv = their?.differing.get(id)
      if (sv === undefined) missing.push(id)
      else differing.push([id, sv])
    }
    const myIndex = await source.indexDigest(c)
    const index = their?.index !== undefined && bytesEqual(their.index.hash, myIndex.hash) ? undefined : their?.index?.sv ?? EMPTY_STATE_VECTOR
    plans.push({ c, missing, differing, index })
    total += missing.length + differing.length + (index === undefined ? 0 : 1)
  }
  await writeMessage(out.lp, { t: 'p', n: total })
  const batcher = new Batcher(out)
  // Indexes first: a record the index lists shows as soon as its data lands, so a peer that
  // catches up on many records shows them as they come, not all at the end.
  for (const { c, index } of plans) {
    if (index !== undefined) await batcher.add([c, null, [await source.indexDiff(c, index)]])
  }
  for (const { c, missing, differing } of plans) {
    if (missing.length > 0) {
      for await (const [id, updates] of source.storedUpdates(c, new Set(missing))) await batcher.add([c, id, updates])
    }
    for (const [id, sv] of differing) {
      const diff = await source.recordDiff(c, id, sv)
      await batcher.add([c, id, diff === undefined ? [] : [diff]])
    }
  }
  await batcher.flush()
  await writeMessage(out.lp, { t: 'x' })
  return total
}

const DOMAIN = 'kadmium/sync/2'
const encoder = new TextEncoder()

/** The bytes a signed session message's signature covers. */
function covered (security: SessionSecurity, nonce: Uint8Array, counter: number, t: 'u' | 'b', y: Uint8Array): Uint8Array {
  return signedBytes(DOMAIN, encoder.encode(security.address), nonce, encoder.encode(`${counter}:${t}`), y)
}

/** Writes this side's signed messages, numbering them. */
class SignedWriter {
  readonly lp: LengthPrefixedStream<Stream>
  readonly #security: SessionSecurity
  #counter = 0
  constructor (lp: LengthPrefixedStream<Stream>, security: SessionSecurity) {
    this.lp = lp
    this.#security = security
  }

  async write (t: 'u' | 'b', payload: unknown): Promise<void> {
    const y = encode(payload)
    const s = await this.#security.signer.sign(covered(this.#security, this.#security.theirs, this.#counter++, t, y))
    await writeMessage(this.lp, { t, y, s })
  }
}

/** Checks the peer's signed messages in order. */
class SignedReader {
  readonly #security: SessionSecurity
  #counter = 0
  constructor (security: SessionSecurity) {
    this.#security = security
  }

  /** @throws {SignatureError} the message is not the peer's next one */
  async verify (t: 'u' | 'b', y: Uint8Array, s: Uint8Array): Promise<void> {
    await verifySignature(this.#security.peerKey, covered(this.#security, this.#security.mine, this.#counter++, t, y), s)
  }
}

/** Size of the first updates message: small, so that the peer starts applying while the next ones are read. */
const FIRST_MESSAGE_BYTES = 16 * 1024

/**
 * Packs items into messages, the first of about FIRST_MESSAGE_BYTES, each
 * next one twice as large up to TARGET_SYNC_MESSAGE_BYTES (the receiver
 * applies one while this side reads and sends the next); splits updates
 * too large for one.
 */
class Batcher {
  readonly #out: SignedWriter
  #items: SyncItem[] = []
  #size = 0
  #target = FIRST_MESSAGE_BYTES
  constructor (out: SignedWriter) {
    this.#out = out
  }

  async add (item: SyncItem): Promise<void> {
    const [c, id, updates] = item
    const size = updates.reduce((n, u) => n + u.length + 8, 64)
    if (size > TARGET_SYNC_MESSAGE_BYTES) {
      await this.flush()
      for (const update of updates) {
        const n = Math.max(1, Math.ceil(update.length / TARGET_SYNC_MESSAGE_BYTES))
        for (let k = 0; k < n; k++) {
          await this.#out.write('b', [c, id, k, n, update.subarray(k * TARGET_SYNC_MESSAGE_BYTES, (k + 1) * TARGET_SYNC_MESSAGE_BYTES)])
        }
      }
      return
    }
    if (this.#size + size > this.#target) await this.flush()
    this.#items.push(item)
    this.#size += size
  }

  async flush (): Promise<void> {
    if (this.#items.length === 0) return
    const x = this.#items
    this.#items = []
    this.#size = 0
    this.#target = Math.min(this.#target * 2, TARGET_SYNC_MESSAGE_BYTES)
    await this.#out.write('u', x)
  }
}

async function receiveUpdates (
  lp: LengthPrefixedStream<Stream>, source: Replica, idle: number, security: SessionSecurity, options: SessionOptions
): Promise<number> {
  const signed = new SignedReader(security)
  let parts = 0
  let received = 0
  const first = await readMessage(lp, idle)
  if (first.t !== 'p') throw new MalformedMessageError(`expected a plan, got "${first.t}"`)
  const total = first.n
  let done = 0
  let big: { c: string, id: string | null, n: number, parts: Uint8Array[], size: number } | undefined
  const storing: Array<Promise<void>> = []
  const apply = async (items: readonly SyncItem[]): Promise<void> => {
    const one = async ([c, id, updates]: SyncItem): Promise<void> => {
      try {
        security.access.check(security.peerKey, c)
      } catch (error) {
        options.onRejected?.(`${(error as Error).name}: ${(error as Error).message}`)
        return
      }
      for (const update of updates) {
        try {
          await source.apply(id === null ? { collection: c, target: 'index', update } : { collection: c, target: 'record', id, update })
        } catch (error) {
          options.onRejected?.(`${(error as Error).name}: ${(error as Error).message}`)
        }
      }
    }
    // Parts that decide who may write (the access list) first: they decide whether the peer's records may be applied.
    for (const item of items) if (source.decides(item[0])) await one(item)
    // Then indexes: records they list show as their data lands (and a tombstone spares applying a deleted record).
    for (const item of items) if (item[1] === null && !source.decides(item[0])) await one(item)
    // Then records, many at once by collection (those new here are stored in one batch).
    const byCollection = new Map<string, RemoteRecord[]>()
    for (const [c, id, updates] of items) {
      if (id === null || source.decides(c)) continue
      let list = byCollection.get(c)
      if (list === undefined) byCollection.set(c, list = [])
      list.push([id, updates])
    }
    await Promise.all([...byCollection].map(async ([c, records]) => {
      try {
        security.access.check(security.peerKey, c)
        const applied = await source.applyRecords(c, records)
        for (const { error } of applied.refused) options.onRejected?.(`${error.name}: ${error.message}`)
        // Stored while the next records are applied; the session ends once all are.
        storing.push(applied.stored.catch((error: Error) => { options.onRejected?.(`${error.name}: ${error.message}`) }))
      } catch (error) {
        options.onRejected?.(`${(error as Error).name}: ${(error as Error).message}`)
      }
    }))
    done += items.length
    options.onProgress?.(Math.min(done, total), total)
  }
  options.onProgress?.(0, total)
  for (;;) {
    const m = await readMessage(lp, idle)
    if (m.t === 'x') break
    if (m.t === 'u') {
      await signed.verify('u', m.y, m.s)
      const x = decodeItems(m.y)
      // A record whose stored updates are large arrives as several items, so allow some slack;
      // a message counts as one item at least, so that empty ones cannot go on for ever.
      received += Math.max(1, x.length)
      if (received > total * 4 + 1000) throw new MalformedMessageError('the peer sent far more than it announced')
      await apply(x)
    } else if (m.t === 'b') {
      await signed.verify('b', m.y, m.s)
      const b = decodeBigPart(m.y)
      if (++parts > (total * 4 + 1000) * 64) throw new MalformedMessageError('the peer sent far more than it announced')
      if (b.k === 0) big = { c: b.c, id: b.id, n: b.n, parts: [], size: 0 }
      if (big === undefined || big.c !== b.c || big.id !== b.id || big.n !== b.n || big.parts.length !== b.k) {
        throw new MalformedMessageError('big-update parts out of order')
      }
      big.parts.push(b.part)
      big.size += b.part.length
      if (big.size > MAX_BIG_UPDATE_BYTES) throw new MalformedMessageError('a big update exceeds the limit')
      if (big.parts.length === big.n) {
        const whole = concatBytes(big.parts)
        const finished = big
        big = undefined
        await apply([[finished.c, finished.id, [whole]]])
      }
    } else {
      throw new MalformedMessageError(`unexpected "${m.t}" while receiving updates`)
    }
  }
  await Promise.all(storing)
  return done
}
