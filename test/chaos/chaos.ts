/**
 * A seeded chaos run: random writes on random peers (inserts, updates,
 * concurrent edits of one record's fields and text, deletes, and in a
 * restricted database grants and revocations), while the network is
 * partitioned and healed, peers restart abruptly, and gossip messages are
 * dropped, delayed, duplicated and reordered. Then: heal, wait for quiet,
 * and check that every replica holds the same records (JSON and Yjs state
 * vectors) and that every acknowledged write is there.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { newKey, type MessageFaults, type Op, type OpResult, type Snapshot } from './chaos-node.ts'
import { InProcessPeer, ProcessPeer, type ChaosPeer } from './peers.ts'
import { seeded, type Random } from './random.ts'

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  readonly seed: number
  readonly peers: number
  readonly ops: number
  /** Peers in this process (memory transport, memory storage) or each in its own (TCP, LevelDB, SIGKILL). */
  readonly mode: 'memory' | 'processes'
  /** A restricted database: peer 0 owns it and grants and revokes the others. */
  readonly restricted: boolean
  /** @default {@link DEFAULT_FAULTS} */
  readonly faults?: MessageFaults
  /** Longest wait for the replicas to agree once healed (ms). @default 120000 */
  readonly quietTimeoutMs?: number
  /** Progress lines. */
  readonly log?: (line: string) => void
}

/** What a run did and found. */
export interface ChaosReport {
  readonly seed: number
  readonly options: string
  readonly ops: number
  readonly acknowledged: number
  /** Operations refused, by error name (expected ones: a record not there yet, a writer not granted). */
  readonly refused: Readonly<Record<string, number>>
  readonly partitions: number
  readonly restarts: number
  /** Time from the heal to agreement (ms). */
  readonly quietMs: number
  readonly ms: number
  /** What went wrong; empty: the run passed. */
  readonly problems: readonly string[]
}

/** Gossip faults of a run: 5% dropped, 10% delayed up to 300 ms (reordered), 5% duplicated. */
export const DEFAULT_FAULTS: MessageFaults = Object.freeze({ drop: 0.05, delay: 0.1, duplicate: 0.05, maxDelayMs: 300 })

/**
 * Errors an operation may meet without a bug: the record has not arrived
 * (or was deleted), the peer may not write, or the peer was killed while
 * the operation ran (`Crashed`, or the database closing under it).
 */
const EXPECTED = new Set(['NotFoundError', 'RecordDeletedError', 'UnauthorizedWriterError', 'ValidationError', 'Crashed', 'DatabaseClosedError', 'DurabilityError'])

/** Longest any one step may take (ms) before the run reports it as hung: a hang guard, not a timing. */
const STEP_BOUND_MS = 60_000

/** `promise`, or a rejection naming `what` once {@link STEP_BOUND_MS} passed. */
async function bounded<T> (promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`hung: ${what} took over ${STEP_BOUND_MS} ms`)) }, STEP_BOUND_MS)
  })
  try {
    return await Promise.race([promise, guard])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs one chaos run; the report's `problems` are empty when every check held. */
export async function runChaos (options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now()
  const log = options.log ?? (() => {})
  const random = seeded(options.seed)
  const faultSeeds = random.fork()
  const keys = await Promise.all(Array.from({ length: options.peers }, async () => await newKey()))
  const ids = keys.map((key) => peerIdFromPrivateKey(privateKeyFromProtobuf(key)).toString())
  const owner = options.restricted ? ids[0] : undefined
  const faults = options.faults ?? DEFAULT_FAULTS
  const root = options.mode === 'processes' ? await mkdtemp(join(tmpdir(), 'kadmium-chaos-')) : undefined
  const describe = `--seed ${options.seed} --peers ${options.peers} --ops ${options.ops} --mode ${options.mode}${options.restricted ? ' --restricted' : ''}`
  log(`chaos ${describe}`)
  const peers: ChaosPeer[] = []
  const problems: string[] = []
  const refused: Record<string, number> = {}
  let acknowledged = 0
  let partitions = 0
  let restarts = 0
  let quietMs = 0
  try {
    for (let i = 0; i < options.peers; i++) {
      const setup = { owner, faults, seed: Math.floor(faultSeeds() * 2 ** 31) }
      peers.push(root === undefined
        ? await InProcessPeer.start(i, keys[i] as Uint8Array, setup)
        : await ProcessPeer.start(i, keys[i] as Uint8Array, root, setup))
    }
    await connectAll(peers)
    const model = new Model(ids, owner)
    const cuts = new Set<string>()
    for (let done = 0; done < options.ops;) {
      const batch = Math.min(1 + random.int(4), options.ops - done)
      const planned = Array.from({ length: batch }, () => model.plan(random))
      const running = planned.map(async ({ peer, op }): Promise<OpResult> => await bounded((peers[peer] as ChaosPeer).apply(op), `peer ${peer} ${op.kind} ${JSON.stringify(op)}`)
        .catch((error: unknown) => String(error).includes('hung:')
          ? { ok: false, error: 'Hung', message: String(error) }
          : { ok: false, error: 'Crashed', message: String(error) }))
      // Now and then a peer is killed while the batch runs: what it acknowledged before must survive.
      if (random.chance(0.05)) {
        const victim = random.pick(peers)
        restarts++
        await new Promise((resolve) => setTimeout(resolve, random.int(30)))
        log(`op ${done}: kill and restart peer ${victim.index} during a batch`)
        await bounded(victim.restart(peers.filter((p) => cuts.has(pair(p, victim))).map((p) => p.id)), `restarting peer ${victim.index}`)
        await bounded(connectAll(peers, cuts), 'connecting')
      }
      const results = await Promise.all(running)
      planned.forEach(({ peer, op }, i) => {
        const result = results[i] as OpResult
        if (result.ok) {
          acknowledged++
          model.acknowledged(peer, op, result)
        } else {
          refused[result.error] = (refused[result.error] ?? 0) + 1
          if (!EXPECTED.has(result.error)) problems.push(`peer ${peer} ${op.kind}: unexpected ${result.error}: ${result.message}`)
        }
      })
      done += batch
      // Faults between batches.
      if (cuts.size === 0 && random.chance(0.06)) {
        partitions++
        const side = new Set(peers.filter(() => random.chance(0.5)).map((p) => p.index))
        // Both sides have a peer.
        if (side.size === 0) side.add(0)
        if (side.size === peers.length) side.delete(0)
        for (const a of peers) {
          for (const b of peers) {
            if (a.index < b.index && side.has(a.index) !== side.has(b.index)) {
              cuts.add(`${a.index}:${b.index}`)
              await bounded(Promise.all([a.cut(b.id), b.cut(a.id)]), `cutting ${a.index} from ${b.index}`)
            }
          }
        }
        log(`op ${done}: partition {${[...side].join(',')}} | rest`)
      } else if (cuts.size > 0 && random.chance(0.12)) {
        await healAll(peers, cuts)
        await bounded(connectAll(peers), 'connecting')
        log(`op ${done}: healed`)
      }
      if (random.chance(0.03)) {
        const victim = random.pick(peers)
        restarts++
        log(`op ${done}: kill and restart peer ${victim.index}`)
        await bounded(victim.restart(peers.filter((p) => cuts.has(pair(p, victim))).map((p) => p.id)), `restarting peer ${victim.index}`)
        await bounded(connectAll(peers, cuts), 'connecting')
      }
      if (done % 100 === 0 || done === options.ops) log(`op ${done}: ${acknowledged} acknowledged`)
    }
    // One peer is lost for good (never the owner): what it wrote durably must stay readable.
    const lost = options.peers >= 3 ? random.pick(peers.slice(1)) : undefined
    if (lost !== undefined) {
      log(`end: peer ${lost.index} is lost for good`)
      await bounded(lost.kill(), `killing peer ${lost.index}`)
    }
    const alive = peers.filter((p) => p !== lost)
    // Heal, then wait for every replica to agree.
    await healAll(peers, cuts)
    await bounded(connectAll(alive), 'connecting')
    const healed = Date.now()
    const judged = alive.filter((p) => !model.revokedAtEnd(p.id))
    const snapshots = await waitForQuiet(alive, judged, options.quietTimeoutMs ?? 120_000, log)
    quietMs = Date.now() - healed
    problems.push(...check(snapshots, model, judged, lost?.id))
    if (lost !== undefined) {
      const durable = model.durableInserts(lost.id)
      for (const p of judged) {
        const found = new Set(await p.read(durable))
        for (const id of durable) if (!found.has(id)) problems.push(`peer ${p.index} cannot read ${id}, written durably by the lost peer ${lost.index}`)
      }
      log(`end: ${durable.length} durable writes of the lost peer checked on ${judged.length} peers`)
    }
  } catch (error) {
    problems.push(`the run failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  } finally {
    for (const peer of peers) await peer.close().catch(() => {})
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  }
  const report = { seed: options.seed, options: describe, ops: options.ops, acknowledged, refused, partitions, restarts, quietMs, ms: Date.now() - started, problems }
  log(`chaos ${describe}: ${problems.length === 0 ? 'converged' : `${problems.length} problem(s)`}; ${acknowledged} acknowledged, ${partitions} partitions, ${restarts} restarts, quiet after ${quietMs} ms`)
  return report
}

function pair (a: ChaosPeer, b: ChaosPeer): string {
  return a.index < b.index ? `${a.index}:${b.index}` : `${b.index}:${a.index}`
}

/** Every peer dials every peer after it (but across `cuts`). */
async function connectAll (peers: readonly ChaosPeer[], cuts: ReadonlySet<string> = new Set()): Promise<void> {
  const addresses = new Map(await Promise.all(peers.map(async (p) => [p, await p.addresses()] as const)))
  const dials: Array<Promise<void>> = []
  for (const a of peers) {
    for (const b of peers) {
      if (a.index < b.index && !cuts.has(pair(a, b))) dials.push(a.dial(addresses.get(b) ?? []))
    }
  }
  await Promise.all(dials)
}

async function healAll (peers: readonly ChaosPeer[], cuts: Set<string>): Promise<void> {
  for (const key of cuts) {
    const [a, b] = key.split(':').map((i) => peers[Number(i)] as ChaosPeer) as [ChaosPeer, ChaosPeer]
    await Promise.all([a.heal(b.id), b.heal(a.id)])
  }
  cuts.clear()
}

/** Catches every peer up with the others until the judged replicas agree; returns their snapshots. */
async function waitForQuiet (peers: readonly ChaosPeer[], judged: readonly ChaosPeer[], timeoutMs: number, log: (line: string) => void): Promise<Map<{ index: number }, Snapshot>> {
  const deadline = Date.now() + timeoutMs
  for (let round = 1; ; round++) {
    await bounded(connectAll(peers), 'connecting')
    await Promise.all(peers.map(async (p) => { await bounded(p.sync(), `peer ${p.index} sync`) }))
    const snapshots = new Map<{ index: number }, Snapshot>()
    for (const p of judged) snapshots.set(p, await bounded(p.snapshot(), `peer ${p.index} snapshot`))
    const differing = disagreement(snapshots)
    if (differing === undefined) return snapshots
    if (Date.now() > deadline) {
      log(`not quiet after ${round} rounds: ${differing}`)
      return snapshots
    }
  }
}

/** How the snapshots differ, if they do (the first difference found). */
export function disagreement (snapshots: ReadonlyMap<{ readonly index: number }, Snapshot>): string | undefined {
  const [first, ...rest] = [...snapshots]
  if (first === undefined) return undefined
  const [p0, s0] = first
  for (const [p, s] of rest) {
    const ids = new Set([...Object.keys(s0.records), ...Object.keys(s.records)])
    for (const id of ids) {
      if (s0.records[id] !== s.records[id]) return `record ${id}: peer ${p0.index} ${s0.records[id] ?? 'missing'} / peer ${p.index} ${s.records[id] ?? 'missing'}`
      if (JSON.stringify(s0.vectors[id]) !== JSON.stringify(s.vectors[id])) return `record ${id}: state vectors differ between peers ${p0.index} and ${p.index}`
    }
    if (s0.writers.join() !== s.writers.join()) return `writers differ between peers ${p0.index} and ${p.index}`
  }
  return undefined
}

/**
 * The final checks: agreement, and every acknowledged write present — but
 * those of the peer lost for good (`lost`): what it wrote only locally
 * went with it (its durable writes are checked apart).
 */
function check (snapshots: ReadonlyMap<{ readonly index: number }, Snapshot>, model: Model, judged: readonly ChaosPeer[], lost: string | undefined): string[] {
  const problems: string[] = []
  const differing = disagreement(snapshots)
  if (differing !== undefined) problems.push(`replicas disagree: ${differing}`)
  for (const p of judged) {
    const s = snapshots.get(p)
    if (s === undefined) continue
    for (const { id, by } of model.insertedIds()) {
      if (by !== lost && !model.deleteTried(id) && s.records[id] === undefined) problems.push(`peer ${p.index} lacks record ${id}, acknowledged and never deleted`)
    }
    for (const { id, client, clock, by } of model.marks()) {
      if (by === lost || model.everRevoked(by) || s.records[id] === undefined) continue
      const held = s.vectors[id]?.[String(client)] ?? 0
      if (held < clock) problems.push(`peer ${p.index} lacks an acknowledged write to ${id} (client ${client} clock ${clock}, holds ${held})`)
    }
  }
  return problems
}

/** What the run did, to plan operations and to know what must hold at the end. */
class Model {
  readonly #ids: readonly string[]
  readonly #owner: string | undefined
  readonly #created: string[] = []
  /** Acknowledged inserts: id → who wrote it. */
  readonly #acknowledgedInserts = new Map<string, string>()
  readonly #deletesTried = new Set<string>()
  readonly #marks: Array<{ id: string, client: number, clock: number, by: string }> = []
  readonly #granted = new Set<string>()
  readonly #everRevoked = new Set<string>()
  /** Inserts acknowledged once a DHT peer held them. */
  readonly #durable: Array<{ id: string, by: string }> = []
  #next = 0

  constructor (ids: readonly string[], owner: string | undefined) {
    this.#ids = ids
    this.#owner = owner
  }

  /** The next operation, and the peer to run it. */
  plan (random: Random): { peer: number, op: Op } {
    const roll = random()
    // In a restricted database, mostly the owner and the writers granted (the others' writes fail locally).
    const writers = this.#owner === undefined ? [] : [0, ...this.#ids.flatMap((id, i) => this.#granted.has(id) ? [i] : [])]
    const peer = writers.length > 0 && random.chance(0.8) ? random.pick(writers) : random.int(this.#ids.length)
    // Mostly records whose insert resolved somewhere; sometimes any planned one (its insert may still be under way).
    const existing = (): string => this.#acknowledgedInserts.size > 0 && random.chance(0.9) ? random.pick([...this.#acknowledgedInserts.keys()]) : random.pick(this.#created)
    if (this.#owner !== undefined && roll < 0.08) {
      const writer = random.pick(this.#ids.slice(1))
      const op: Op = this.#granted.has(writer) && random.chance(0.6) ? { kind: 'revoke', writer } : { kind: 'grant', writer }
      return { peer: 0, op }
    }
    if (this.#created.length === 0 || roll < 0.3) {
      const id = `r${String(this.#next++).padStart(5, '0')}`
      this.#created.push(id)
      // Some writes wait for a DHT peer to hold them (`durability: { replicas: 1 }`).
      const durable = random.chance(0.3) ? { replicas: 1 } : {}
      return { peer, op: { kind: 'insert', id, title: `item ${id}`, n: random.int(1000), ...durable } }
    }
    if (roll < 0.6) return { peer, op: { kind: 'update', id: existing(), done: random.chance(0.5), n: random.int(1000) } }
    if (roll < 0.9) {
      const letters = 'abcdefghijklmnopqrstuvwxyz'
      return { peer, op: { kind: 'text', id: existing(), at: random(), insert: Array.from({ length: 1 + random.int(4) }, () => random.pick([...letters])).join(''), remove: random.int(3) } }
    }
    const id = existing()
    this.#deletesTried.add(id)
    return { peer, op: { kind: 'delete', id } }
  }

  /** An operation resolved. */
  acknowledged (peer: number, op: Op, result: Extract<OpResult, { ok: true }>): void {
    const by = this.#ids[peer] as string
    if (op.kind === 'insert') this.#acknowledgedInserts.set(op.id, by)
    if (op.kind === 'insert' && op.replicas !== undefined) this.#durable.push({ id: op.id, by })
    if (op.kind === 'grant') this.#granted.add(op.writer)
    if (op.kind === 'revoke') {
      this.#granted.delete(op.writer)
      this.#everRevoked.add(op.writer)
    }
    if (result.mark !== undefined && 'id' in op) this.#marks.push({ id: op.id, ...result.mark, by })
  }

  /** What `peer` inserted durably and nobody tried to delete (a delete makes `get` miss, rightly). */
  durableInserts (peer: string): string[] {
    if (this.#everRevoked.has(peer)) return []
    return this.#durable.filter((d) => d.by === peer && !this.#deletesTried.has(d.id)).map((d) => d.id)
  }

  insertedIds (): Array<{ id: string, by: string }> {
    return [...this.#acknowledgedInserts].map(([id, by]) => ({ id, by }))
  }

  deleteTried (id: string): boolean {
    return this.#deletesTried.has(id)
  }

  marks (): ReadonlyArray<{ id: string, client: number, clock: number, by: string }> {
    return this.#marks
  }

  /**
   * Whether a writer was revoked at some point: what it wrote may be
   * refused by the peers that knew first (not retroactive, by design), so
   * its acknowledged writes promise nothing beyond its own device.
   */
  everRevoked (peer: string): boolean {
    return this.#everRevoked.has(peer)
  }

  /** Whether a peer ends revoked: its own device keeps what no one else accepts (by design), so it is not judged. */
  revokedAtEnd (peer: string): boolean {
    return this.#everRevoked.has(peer) && !this.#granted.has(peer)
  }
}
