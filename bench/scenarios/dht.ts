/**
 * DHT put and get in a network of P peers in one process (TCP loopback).
 *
 * The P peers are `nodePeer`s (kad-dht with Kadmium's protocol, validators
 * and selectors, `network: 'local'`); each dials 3 random earlier ones,
 * then every peer looks itself up once so that routing tables fill. Both
 * systems run on these same peers, so they share the kad-dht
 * configuration, routing tables and connections.
 *
 * A round picks a writer W and a reader R (different peers, rotating):
 *
 * - Kadmium put: W opens the database, then `insert(record, { durability:
 *   { replicas: 1 } })`, timed until it resolves. That is one kad-dht put
 *   awaited, no read: the record's head, signed by W and carrying W's full
 *   state inline up to 16 KiB (larger states add block puts) — the head
 *   carries the record's liveness (a delete puts a tombstone head), so the
 *   collection index's head is not awaited (Kadmium's DHT servers merge
 *   each author's newest head into what they hold instead of replacing
 *   it). It resolves at its first `PUT_VALUE` acknowledgement (after the
 *   closest-peers lookup) while the rest of the put goes on untimed. The
 *   insert also schedules the background puts every write gets (the
 *   record's, skipped as put already, and the index's), held back until
 *   the durable put resolved. W then closes the database (so that no peer
 *   can hand R the record by gossip or catch-up; the close lets the rest
 *   of the puts, and the index's background put, finish untimed).
 * - Kadmium get: R opens the database (it does not hold the record) and
 *   `get(id)` is timed: a local miss, then the record's head is read from
 *   the DHT (resolving at the first replica's valid head, inline or then
 *   its block; the lookup goes on untimed, merging what later replicas
 *   add), applied, and the record marked live in R's index.
 * - Raw put: W's `dht.put(key, value)` drained, with a value of the size of
 *   the record's Yjs state under a Kadmium block key (same validator).
 * - Raw get: R's `dht.get(key)` until its `VALUE` event (what libp2p's
 *   `contentRouting.get` returns).
 *
 * Before each timed operation the peer's own DHT queries (discovery and
 * manifest puts of a database just opened) are waited out. Hops: kad-dht
 * query events the initiating peer saw during the operation — requests
 * sent (`SEND_QUERY`) and responses (`PEER_RESPONSE`) summed over every
 * kad-dht call it made.
 * @module
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createDatabase } from '@kadmium/core'
import type { NodePeer } from '@kadmium/node'
import { COLLECTION, DB_NAME, encodeRecord, todo, todoSchema } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { connect, DhtProbe, dhtQuiet, QUIET_REPLICATION, randomTopology, watchdog, withSandbox, type DhtTally } from '../lib/net.ts'
import { findRow, fmt, target, valueRow, type ResultRow } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { median } from '../lib/stats.ts'
import { QUICK_WATCHDOG_MS } from '../lib/budget.ts'

const OP_MS = 30_000
const K_PUT = 'put: insert, durability replicas 1'
const K_GET = 'get: get(id) on a peer without it'
const B_PUT = 'put: raw kad-dht put'
const B_GET = 'get: raw kad-dht get → VALUE'

/** One round of one system. */
interface DhtRound {
  readonly putMs: number
  readonly getMs: number
  readonly put: DhtTally
  readonly get: DhtTally
}

interface Node {
  readonly peer: NodePeer
  readonly probe: DhtProbe
}

/**
 * The DHT namespace of Kadmium's blocks: a block's key is
 * `/kadmium-block/<hex SHA-256 of its bytes>` (docs/protocol.md, "DHT
 * records"). Written out here, as the wire format it is: the bench uses
 * Kadmium only through its API, and the raw puts must go under block keys
 * so that the peers' DHT validators (Kadmium's) accept them.
 */
const BLOCK_NAMESPACE = 'kadmium-block'

/** The kad-dht key of a Kadmium block holding `value`. */
function blockKey (value: Uint8Array): Uint8Array {
  return new TextEncoder().encode(`/${BLOCK_NAMESPACE}/${createHash('sha256').update(value).digest('hex')}`)
}

async function kadmiumRound (writer: Node, reader: Node, round: number): Promise<DhtRound> {
  const record = todo(10_000 + round)
  const w = await createDatabase({ name: DB_NAME, peer: writer.peer, replication: { ...QUIET_REPLICATION, closeTimeout: 1_000 } })
  let id: string
  let putMs: number
  let put: DhtTally
  try {
    const todos = w.collection(COLLECTION, { schema: todoSchema })
    await sleep(20)
    await dhtQuiet([writer.probe], 50)
    writer.probe.reset()
    const t0 = performance.now()
    id = await todos.insert(record, { durability: { replicas: 1, timeout: OP_MS } })
    putMs = performance.now() - t0
    put = writer.probe.reset()
  } finally {
    await w.close()
  }
  const r = await createDatabase({ name: DB_NAME, peer: reader.peer, replication: { ...QUIET_REPLICATION, dhtReadTimeout: OP_MS, closeTimeout: 1_000 } })
  try {
    const todos = r.collection(COLLECTION, { schema: todoSchema })
    if (await todos.get(id, { network: false }) !== undefined) throw new Error('the reader already holds the record')
    await sleep(20)
    await dhtQuiet([reader.probe], 50)
    reader.probe.reset()
    const t0 = performance.now()
    const row = await todos.get(id)
    const getMs = performance.now() - t0
    const get = reader.probe.reset()
    if (row?.title !== record.title) throw new Error(`the reader got ${JSON.stringify(row)} from the DHT`)
    return { putMs, getMs, put, get }
  } finally {
    await r.close()
  }
}

async function rawRound (writer: Node, reader: Node, size: number): Promise<DhtRound> {
  const value = crypto.getRandomValues(new Uint8Array(size))
  const key = blockKey(value)
  await dhtQuiet([writer.probe, reader.probe], 50)
  writer.probe.reset()
  let t0 = performance.now()
  let acknowledged = 0
  for await (const event of writer.peer.libp2p.services.dht.put(key, value, { signal: AbortSignal.timeout(OP_MS) })) {
    if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') acknowledged++
  }
  const putMs = performance.now() - t0
  const put = writer.probe.reset()
  if (acknowledged < 1) throw new Error('no peer acknowledged the raw put')
  reader.probe.reset()
  t0 = performance.now()
  let found: Uint8Array | undefined
  for await (const event of reader.peer.libp2p.services.dht.get(key, { signal: AbortSignal.timeout(OP_MS) })) {
    if (event.name === 'VALUE') {
      found = event.value
      break
    }
  }
  const getMs = performance.now() - t0
  const get = reader.probe.reset()
  if (found === undefined || Buffer.compare(found, value) !== 0) throw new Error('the raw get did not find the value')
  return { putMs, getMs, put, get }
}

/** Medians of the tallies' fields. */
function hops (list: readonly DhtTally[]): DhtTally {
  const m = (f: keyof DhtTally): number => median(list.map((t) => t[f]))
  return { calls: m('calls'), gets: m('gets'), puts: m('puts'), sent: m('sent'), responses: m('responses'), dials: m('dials'), errors: m('errors') }
}

function describe (t: DhtTally): string {
  return `${fmt(t.calls, 0)} kad-dht calls (${fmt(t.gets, 0)} get, ${fmt(t.puts, 0)} put), ${fmt(t.sent, 0)} requests, ${fmt(t.responses, 0)} responses`
}

export const dht: Scenario = {
  name: 'dht',
  description: 'DHT put and get among P peers in one process: Kadmium insert (replicas: 1) and get(id) vs raw kad-dht put/get',
  async run ({ quick, rounds: roundsAsked, log }) {
    const size = quick ? 6 : 20
    const rounds = roundsAsked ?? (quick ? 3 : 9)
    const disarm = watchdog(quick ? QUICK_WATCHDOG_MS : 600_000, 'dht')
    try {
      return await withSandbox('dht', log, async (sandbox) => {
        log(`dht: starting ${size} peers`)
        const nodes: Node[] = []
        for (let i = 0; i < size; i++) {
          const peer = await sandbox.peer(`p${i}`)
          nodes.push({ peer, probe: new DhtProbe(peer.libp2p.services.dht) })
        }
        for (const [from, to] of randomTopology(size, 3, 7)) await connect((nodes[from] as Node).peer.libp2p, (nodes[to] as Node).peer.libp2p)
        // Fill the routing tables: every peer looks itself up.
        await Promise.all(nodes.map(async (n) => {
          for await (const _ of n.peer.libp2p.services.dht.getClosestPeers(n.peer.libp2p.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(OP_MS) })) { /* drain */ }
        }))
        await dhtQuiet(nodes.map((n) => n.probe), 200)
        const connections = nodes.map((n) => n.peer.libp2p.getConnections().length)
        log(`dht: connections per peer ${Math.min(...connections)}–${Math.max(...connections)}`)
        const valueSize = encodeRecord(todo(10_000)).length
        const pick = (round: number): [Node, Node] => {
          const w = ((2 * round) % size + size) % size
          return [nodes[w] as Node, nodes[(w + 1 + (round & 1)) % size] as Node]
        }
        const variants: Array<Variant<DhtRound>> = [
          { name: 'kadmium', run: async (round) => kadmiumRound(...pick(round), round) },
          { name: 'baseline', run: async (round) => rawRound(...pick(round), valueSize) }
        ]
        const results = await interleave(variants, {
          rounds,
          warmup: quick ? 0 : 1,
          onSample: (name, round, r) => { log(`dht: round ${round + 1}/${rounds} ${name}: put ${fmt(r.putMs)} ms (${r.put.responses} responses), get ${fmt(r.getMs)} ms (${r.get.responses} responses)`) }
        })
        const k = resultsOf(results, 'kadmium')
        const b = resultsOf(results, 'baseline')
        const putMs = (list: DhtRound[]): number[] => list.map((r) => r.putMs)
        const getMs = (list: DhtRound[]): number[] => list.map((r) => r.getMs)
        const rows: ResultRow[] = [
          valueRow(K_PUT, 'kadmium', size, 'ms', 'lower', putMs(k), { case: B_PUT, values: putMs(b) }),
          valueRow(B_PUT, 'baseline', size, 'ms', 'lower', putMs(b)),
          valueRow(K_GET, 'kadmium', size, 'ms', 'lower', getMs(k), { case: B_GET, values: getMs(b) }),
          valueRow(B_GET, 'baseline', size, 'ms', 'lower', getMs(b))
        ]
        const tallies = {
          kadmiumPut: hops(k.map((r) => r.put)),
          kadmiumGet: hops(k.map((r) => r.get)),
          rawPut: hops(b.map((r) => r.put)),
          rawGet: hops(b.map((r) => r.get))
        }
        return {
          params: { peers: size, rounds, valueBytes: valueSize, connectionsPerPeer: { min: Math.min(...connections), max: Math.max(...connections) }, hopsMedian: tallies },
          rows,
          targets: [
            target(`DHT put ≤ 1.5× raw kad-dht (${size} peers)`, findRow(rows, K_PUT, 'kadmium', size)?.ratio?.median, 1.5, 'lower', '×'),
            target(`DHT get ≤ 1.5× raw kad-dht (${size} peers)`, findRow(rows, K_GET, 'kadmium', size)?.ratio?.median, 1.5, 'lower', '×')
          ],
          notes: [
            `${size} peers, each dialed 3 random earlier ones, routing tables filled by a self-lookup (connections per peer ${Math.min(...connections)}–${Math.max(...connections)}). Both systems on the same peers; writer and reader rotate.`,
            `Hops, medians per operation (initiating peer's kad-dht events): Kadmium put ${describe(tallies.kadmiumPut)}; raw put ${describe(tallies.rawPut)}; Kadmium get ${describe(tallies.kadmiumGet)}; raw get ${describe(tallies.rawGet)}.`,
            'Kadmium\'s put is one kad-dht put awaited, no read: the record\'s head (its state inline up to 16 KiB — larger ones add block puts; the head carries the record\'s liveness, a delete puts a tombstone; Kadmium\'s DHT servers merge each author\'s head into what they hold). The collection index\'s head follows in the background queue (held back until the durable put resolved), untimed; the insert\'s background put of the same record finds it put already. The raw put is one kad-dht put.',
            'Kadmium\'s durable put resolves at the N-th acknowledgement (here the 1st, after its closest-peers lookup; the rest of the put goes on untimed), while the raw put is drained (every PUT_VALUE). Kadmium\'s get reads only the record\'s head and resolves at the first replica\'s valid head (the lookup goes on untimed, merging what later replicas add), while the raw get stops at its first VALUE event, which kad-dht emits only after the whole lookup.',
            `Raw values: ${valueSize} random bytes (the size of the record as a Yjs update) under a Kadmium block key.`
          ]
        }
      })
    } finally {
      disarm()
    }
  }
}
