/**
 * Bytes on the wire per small write: what Kadmium's gossip envelope adds
 * to the bare Yjs update.
 *
 * Two `nodePeer`s on TCP 127.0.0.1 share a database (B subscribed, so A
 * really publishes). On A, the scenario records the Yjs updates the
 * database commits (its `update` events) and the gossipsub messages the
 * SDK publishes (it wraps A's `pubsub.publish`: the envelopes exactly as
 * sent). Each case is one write (or one tick of writes), repeated:
 *
 * - field update (done): `done` flipped;
 * - field update (title): `title` replaced by a string of the same length;
 * - insert: one record (its update and the collection index's, one envelope);
 * - 10 field updates, one tick: `done` of ten records (one envelope; bytes per update).
 *
 * The bare Yjs update is the same change on a plain `Y.Doc` (fields in a
 * `Y.Map`), what an app on raw Yjs would broadcast. The gossipsub frame is
 * the RPC gossipsub writes to a peer for the message (protobuf, with the
 * database's topic, no signature: `StrictNoSign`) plus its length prefix;
 * yamux (12 bytes a frame) and noise (18) come on top of any message.
 * @module
 */
import { RPC } from '@libp2p/gossipsub/message'
import { decode, encode } from 'cborg'
import * as Y from 'yjs'
import type { UpdateEvent } from '@kadmium/core'
import { BASELINE_ROOT, encodeRecord, insertConcurrently, todo, todos as makeTodos, type Todo } from '../lib/fixtures.ts'
import { connectPeers, openShared, startPeer, withCleanup } from '../lib/peers.ts'
import { findRow, target, valueRow, type ResultRow } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { median } from '../lib/stats.ts'
import { guard, sleep, until } from '../lib/wait.ts'
import { QUICK_WATCHDOG_MS } from '../lib/budget.ts'

/** One repetition of a case. */
interface Measured {
  /** Writes in the case. */
  readonly writes: number
  /** Bytes of the bare Yjs update(s) of the same change. */
  readonly bare: number
  /** Bytes of the Yjs updates Kadmium committed (record and index). */
  readonly yjs: number
  /** Bytes of the envelopes published. */
  readonly envelope: number
  readonly envelopes: number
  /** Bytes of the gossipsub frames (length prefix + RPC) carrying them. */
  readonly frame: number
}

interface Case {
  readonly name: string
  readonly writes: number
  /** Performs the write(s) on Kadmium; resolves the bare Yjs bytes of the same change. */
  readonly run: (rep: number) => Promise<number>
}

function varintLength (n: number): number {
  let length = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    length++
  }
  return length
}

/** The bytes gossipsub writes to a peer's stream for one published message. */
function frameBytes (topic: string, data: Uint8Array): number {
  const rpc = RPC.encode({ subscriptions: [], messages: [{ topic, data }] })
  return varintLength(rpc.length) + rpc.length
}

/**
 * The bytes of an envelope by part (format 2: `[2, author, signature,
 * body]`, body `[ts, seq, entries]`): the author key, the signature, time
 * and counter, and the entries split into the Yjs update(s) and the rest.
 */
function breakdown (envelope: Uint8Array): Record<string, number> {
  const outer = decode(envelope) as [number, Uint8Array, Uint8Array, Uint8Array]
  const [, author, signature, body] = outer
  const [ts, seq, entries] = decode(body) as [number, number, unknown[][]]
  const updates = entries.reduce((sum, entry) => sum + (entry[3] instanceof Uint8Array ? encode(entry[3]).length : 0), 0)
  const entriesBytes = encode(entries).length
  return {
    'author key': encode(author).length,
    signature: encode(signature).length,
    'ts + seq': encode(ts).length + encode(seq).length,
    'entries: Yjs update(s)': updates,
    'entries: collection, target, id, framing': entriesBytes - updates,
    'framing (version, array headers)': envelope.length - encode(author).length - encode(signature).length - encode(ts).length - encode(seq).length - entriesBytes
  }
}

/** A bare Y.Doc holding `record`; resolves the update a change to it makes. */
function bareUpdate (record: Todo, change: (map: Y.Map<unknown>) => void): number {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, encodeRecord(record))
  let bytes = 0
  doc.on('update', (update: Uint8Array) => { bytes += update.length })
  const map = doc.getMap<unknown>(BASELINE_ROOT)
  doc.transact(() => { change(map) })
  doc.destroy()
  return bytes
}

export const wire: Scenario = {
  name: 'wire',
  description: 'bytes on the wire per small write: Kadmium gossip envelope vs the bare Yjs update',
  async run ({ quick, rounds: roundsAsked, log }) {
    const disarm = guard(quick ? QUICK_WATCHDOG_MS : 600_000, 'wire')
    const reps = roundsAsked ?? (quick ? 3 : 50)
    const n = 100
    const result = await withCleanup(log, async (cleanup) => {
      const a = await startPeer('wire-a', cleanup)
      const b = await startPeer('wire-b', cleanup)
      const da = await openShared(a, cleanup)
      const dbB = await openShared(b, cleanup)
      const records = makeTodos(n)
      const ids = await insertConcurrently(da.todos, records)
      await connectPeers(b, a)
      await until(`${n} records on B`, async () => await dbB.todos.count() === n, 60_000)

      const pubsub = a.libp2p.services.pubsub
      const published: Array<{ topic: string, data: Uint8Array }> = []
      const publish = pubsub.publish.bind(pubsub)
      pubsub.publish = async (topic: string, data?: Uint8Array) => {
        if (data !== undefined) published.push({ topic, data })
        return publish(topic, data)
      }
      cleanup.add('unwrapping publish', async () => { pubsub.publish = publish })
      const committed: UpdateEvent[] = []
      const stopUpdates = da.db.on('update', (event) => { if (event.origin === 'local') committed.push(event) })
      cleanup.add('update listener', async () => { stopUpdates() })

      // B must be in A's mesh for the topic before publishes reach it (and before they are counted as sent to a peer).
      await until('B to be subscribed on A', () => pubsub.getSubscribers(`/kadmium/db/${da.db.address}`).length > 0, 30_000, 10)

      const current = new Map<string, Todo>(ids.map((id, i) => [id, records[i] as Todo]))
      const cases: Case[] = [
        {
          name: 'field update (done)',
          writes: 1,
          run: async (rep) => {
            const id = ids[rep % n] as string
            const before = current.get(id) as Todo
            await da.todos.update(id, (t) => { t.done = !t.done })
            current.set(id, { ...before, done: !before.done })
            return bareUpdate(before, (map) => { map.set('done', !before.done) })
          }
        },
        {
          name: 'field update (title)',
          writes: 1,
          run: async (rep) => {
            const id = ids[(rep * 7 + 3) % n] as string
            const before = current.get(id) as Todo
            const title = todo(n + rep).title
            await da.todos.update(id, (t) => { t.title = title })
            current.set(id, { ...before, title })
            return bareUpdate(before, (map) => { map.set('title', title) })
          }
        },
        {
          name: 'insert',
          writes: 1,
          run: async (rep) => {
            const record = todo(10 * n + rep)
            const id = await da.todos.insert(record)
            current.set(id, record)
            return encodeRecord(record).length
          }
        },
        {
          name: '10 field updates, one tick',
          writes: 10,
          run: async (rep) => {
            const batch = Array.from({ length: 10 }, (_, k) => ids[(rep * 10 + k) % n] as string)
            const befores = batch.map((id) => current.get(id) as Todo)
            await Promise.all(batch.map(async (id) => da.todos.update(id, (t) => { t.done = !t.done })))
            batch.forEach((id, k) => { current.set(id, { ...befores[k] as Todo, done: !(befores[k] as Todo).done }) })
            return befores.reduce((sum, before) => sum + bareUpdate(before, (map) => { map.set('done', !before.done) }), 0)
          }
        }
      ]

      const measured = new Map<string, Measured[]>()
      let sample: Uint8Array | undefined
      for (const kase of cases) {
        const list: Measured[] = []
        for (let rep = 0; rep < reps; rep++) {
          published.length = 0
          committed.length = 0
          const bare = await kase.run(rep)
          await until(`the envelope of "${kase.name}"`, () => published.length > 0, 10_000, 1)
          await sleep(5) // anything else the tick published
          const envelopes = published.filter((p) => p.topic.startsWith('/kadmium/db/'))
          sample ??= envelopes[0]?.data
          list.push({
            writes: kase.writes,
            bare,
            yjs: committed.reduce((sum, e) => sum + e.update.length, 0),
            envelope: envelopes.reduce((sum, p) => sum + p.data.length, 0),
            envelopes: envelopes.length,
            frame: envelopes.reduce((sum, p) => sum + frameBytes(p.topic, p.data), 0)
          })
        }
        measured.set(kase.name, list)
        const m = list[0] as Measured
        log(`wire: ${kase.name}: bare Yjs ${m.bare} B, Kadmium Yjs ${m.yjs} B, envelope ${m.envelope} B in ${m.envelopes} message(s), gossipsub frame ${m.frame} B`)
      }
      return { measured, address: da.db.address, peerId: a.peerId.toString(), topic: `/kadmium/db/${da.db.address}`, breakdown: sample === undefined ? {} : breakdown(sample) }
    })
    disarm()

    const rows: ResultRow[] = []
    const overheads: Record<string, number> = {}
    for (const [name, list] of result.measured) {
      const w = (list[0] as Measured).writes
      const per = (f: (m: Measured) => number): number[] => list.map((m) => f(m) / w)
      const bare = per((m) => m.bare)
      const overhead = per((m) => m.envelope - m.bare)
      overheads[name] = median(overhead)
      rows.push(
        valueRow(`${name}: bare Yjs`, 'baseline', w, 'bytes', 'lower', bare),
        valueRow(`${name}: Kadmium's Yjs`, 'kadmium', w, 'bytes', 'lower', per((m) => m.yjs), { case: `${name}: bare Yjs`, values: bare }),
        valueRow(`${name}: envelope`, 'kadmium', w, 'bytes', 'lower', per((m) => m.envelope), { case: `${name}: bare Yjs`, values: bare }),
        valueRow(`${name}: envelope − bare Yjs`, 'kadmium', w, 'bytes', 'lower', overhead),
        valueRow(`${name}: gossipsub frame`, 'kadmium', w, 'bytes', 'lower', per((m) => m.frame))
      )
    }
    const oneField = findRow(rows, 'field update (done): envelope − bare Yjs', 'kadmium', 1)?.summary.median
    return {
      params: { reps, records: n, overheadPerWrite: overheads, addressChars: result.address.length, peerIdChars: result.peerId.length, topicChars: result.topic.length, oneFieldEnvelopeBytes: result.breakdown },
      rows,
      targets: [
        // The 64-byte Ed25519 signature is allowed on top of the 150 bytes.
        target('envelope overhead ≤ 150 bytes plus signature (one-field update)', oneField === undefined ? undefined : oneField - 64, 150, 'lower', 'bytes')
      ],
      notes: [
        'Values are bytes per write (the 10-update case divides by 10). K/B: Kadmium ÷ bare Yjs update.',
        `The envelope (CBOR) carries the author's 32-byte key, a 64-byte Ed25519 signature (the target is checked without it), the time and a counter, and per update the collection, target and record id; the database address (${result.address.length} chars) is covered by the signature but not sent (the topic names it).`,
        `The gossipsub frame adds the topic (${result.topic.length} chars) and protobuf framing; an app on raw Yjs pays that too, with its own topic.`,
        `Where the bytes of a one-field update's envelope go (CBOR, key + value): ${Object.entries(result.breakdown).map(([k, v]) => `${k} ${v}`).join(', ')}.`
      ]
    }
  }
}
