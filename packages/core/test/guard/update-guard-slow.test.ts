import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { createDatabase, memoryStorage } from '@kadmium/core'
import { checkUpdate } from '../../src/guard/update-guard.ts'
import { manyClientsMapFamily, mapFamily, splitFamily } from '../../src/testing/hostile-updates.ts'
import { Todo } from '../helpers/schemas.ts'
import { prng, seedFromEnv } from '../helpers/random.ts'
import { randomEdit } from '../helpers/random-docs.ts'

// Crafted updates that are well-formed but make Yjs's conflict resolution
// (Item.integrate) quadratic, and honest multi-client updates that must pass.
// How long refusing them takes, what raw Yjs pays applying them, and how fast
// Yjs applies the largest update of this kind the guard accepts are measured
// by the `guard` benchmark scenario (bench/scenarios/guard.ts), not asserted
// here: a busy machine makes any time limit flaky. Both build the updates
// with src/testing/hostile-updates.ts.

/** A section header: `structs` structs of `client` from `clock`. */
function section (e: encoding.Encoder, structs: number, client: number, clock: number): void {
  encoding.writeVarUint(e, structs)
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, clock)
}

function refused (update: Uint8Array, why: RegExp): void {
  assert.throws(() => checkUpdate(update), (error: Error) => {
    assert.equal(error.name, 'MalformedUpdateError')
    assert.match(error.message, why)
    return true
  })
}

const SIZES = [6 * 1024, 64 * 1024, 512 * 1024, 3 * 1024 * 1024]

describe('crafted updates that make Yjs quadratic are refused', () => {
  test('appends of one client that each split another client\'s item further left (6 KB to 3 MiB)', () => {
    for (const size of SIZES) refused(splitFamily(Math.floor(size / 6)), /appends item .* not to the right/)
  })

  test('the same with the split item written as a chain of one-clock items', () => {
    for (const size of SIZES) refused(splitFamily(Math.floor(size / 11), true), /appends item .* not to the right/)
  })

  test('one client writing many values of one map key without origin (6 KB to 3 MiB)', () => {
    for (const size of SIZES) refused(mapFamily(Math.floor(size / 8)), /writes 3 items at the same place/)
  })

  test('many clients writing one map key without origin, integrated in the slowest order (64 KB to 3 MiB)', () => {
    for (const size of SIZES.slice(1)) refused(manyClientsMapFamily(Math.floor(size / 18)), /pairs of items of different clients claim the same place/)
    // At the default limit (~700 clients on one key) the update passes (and Yjs stays fast on it: bench/scenarios/guard.ts).
    const atLimit = manyClientsMapFamily(700)
    checkUpdate(atLimit)
    Y.applyUpdate(new Y.Doc(), atLimit)
  })

  test('one client writing the same origin and right origin twice', () => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 2)
    section(e, 2, 9, 0)
    for (let i = 0; i < 2; i++) {
      encoding.writeUint8(e, 0xc0 | 8)
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 0)
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 1)
      encoding.writeUint8(e, 126)
    }
    section(e, 1, 1, 0)
    encoding.writeUint8(e, 4)
    encoding.writeVarUint(e, 1)
    encoding.writeVarString(e, 't')
    encoding.writeVarString(e, 'ab')
    encoding.writeVarUint(e, 0)
    refused(encoding.toUint8Array(e), /client 9 writes 2 items at the same place/)
  })

  test('offered as a peer\'s update to a database (64 KB of each family): MalformedUpdateError, stored data unchanged', async () => {
    const storage = memoryStorage()
    const db = await createDatabase({ name: 'guard', storage })
    const todos = db.collection('todos', { schema: Todo })
    const id = await todos.insert({ title: 'keep', done: false })
    const dump = async (): Promise<string> => {
      const out: string[] = []
      for await (const [key, value] of storage.scan('')) out.push(`${key}=${Buffer.from(value).toString('hex')}`)
      return out.join('\n')
    }
    const before = await dump()
    const size = 64 * 1024
    const crafted = [splitFamily(Math.floor(size / 6)), splitFamily(Math.floor(size / 11), true), mapFamily(Math.floor(size / 8)), manyClientsMapFamily(Math.floor(size / 18))]
    for (const update of crafted) {
      for (const target of ['record', 'index'] as const) {
        await assert.rejects(db.applyRemoteUpdate({ collection: 'todos', target, id, update }), { name: 'MalformedUpdateError' })
      }
    }
    assert.equal(await dump(), before)
    assert.deepEqual(await todos.get(id), { id, title: 'keep', done: false })
    await db.close()
  })
})

// --- honest multi-client updates ---------------------------------------------

function sync (docs: Y.Doc[]): void {
  const merged = Y.mergeUpdates(docs.map((d) => Y.encodeStateAsUpdate(d)))
  for (const d of docs) Y.applyUpdate(d, merged)
}

function accepted (update: Uint8Array, what: string): void {
  assert.doesNotThrow(() => checkUpdate(update), what)
}

describe('honest multi-client updates pass', () => {
  test('60 clients set the same map keys concurrently, offline: events, merges, snapshots', () => {
    const docs = Array.from({ length: 60 }, (_, i) => { const d = new Y.Doc(); d.clientID = 1000 + i; return d })
    const events: Uint8Array[] = []
    for (const d of docs) d.on('update', (u: Uint8Array) => events.push(u))
    for (const [i, d] of docs.entries()) {
      const m = d.getMap<unknown>('m')
      m.set('title', `t${i}`)
      m.set('title', `again ${i}`)
      m.set('status', i)
      const nested = new Y.Map<unknown>()
      m.set('fields', nested)
      nested.set('x', i)
      nested.set('x', i + 1)
    }
    accepted(Y.mergeUpdates(events), 'merge of every event')
    sync(docs)
    for (const d of docs.slice(0, 5)) accepted(Y.encodeStateAsUpdate(d), 'snapshot')
    // second round: everyone sets the same keys again (now with origins), concurrently
    for (const [i, d] of docs.entries()) d.getMap('m').set('title', `round 2 ${i}`)
    accepted(Y.mergeUpdates(docs.map((d) => Y.encodeStateAsUpdate(d))), 'second round')
    sync(docs)
    accepted(Y.encodeStateAsUpdate(docs[0] as Y.Doc), 'final snapshot')
  })

  test('50 clients editing one text and list offline (inserts at the same places, appends, deletes), merged and snapshotted', () => {
    const random = prng(seedFromEnv())
    const base = new Y.Doc()
    base.getText('t').insert(0, 'the quick brown fox jumps over the lazy dog')
    base.getArray('a').insert(0, [1, 2, 3])
    const start = Y.encodeStateAsUpdate(base)
    const docs = Array.from({ length: 50 }, () => { const d = new Y.Doc(); Y.applyUpdate(d, start); return d })
    for (let round = 0; round < 3; round++) {
      for (const [i, d] of docs.entries()) {
        const t = d.getText('t')
        const a = d.getArray<unknown>('a')
        t.insert(4, `[${i}]`) // everyone at the same place
        for (let c = 0; c < 5; c++) t.insert(t.length, String.fromCharCode(97 + c)) // appends
        t.insert(0, 'x') // reverse typing at the start
        t.insert(0, 'y')
        a.push([i])
        a.insert(0, [i])
        if (t.length > 20) t.delete(10, 5)
        for (let k = 0; k < 3; k++) randomEdit(d, random)
      }
      accepted(Y.mergeUpdates(docs.map((d) => Y.encodeStateAsUpdate(d, Y.encodeStateVector(base)))), `round ${round}: merged diffs`)
      sync(docs)
      accepted(Y.encodeStateAsUpdate(docs[0] as Y.Doc), `round ${round}: snapshot`)
    }
  })

  test('big pastes and deletes in Y.Text, two clients typing backwards at the same place', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    const ea: Uint8Array[] = []
    a.on('update', (u: Uint8Array) => ea.push(u))
    a.getText('t').insert(0, 'p'.repeat(200_000))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    for (let i = 0; i < 500; i++) {
      a.getText('t').insert(100, 'a') // always at the same index: each new item before the previous
      b.getText('t').insert(100, 'b')
    }
    a.getText('t').delete(1000, 150_000)
    b.getText('t').insert(50_000, 'q'.repeat(10_000))
    accepted(Y.mergeUpdates(ea), 'a\'s events')
    accepted(Y.mergeUpdates([Y.encodeStateAsUpdate(a), Y.encodeStateAsUpdate(b)]), 'merge')
    sync([a, b])
    accepted(Y.encodeStateAsUpdate(b), 'snapshot')
  })

  test('a client that keeps writing to a deleted, garbage-collected map and array', () => {
    const doc = new Y.Doc()
    const events: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => events.push(u))
    const outer = doc.getMap<unknown>('m')
    const inner = new Y.Map<unknown>()
    const list = new Y.Array<unknown>()
    outer.set('inner', inner)
    outer.set('list', list)
    inner.set('k', 1)
    list.insert(0, [1])
    outer.delete('inner')
    outer.delete('list')
    inner.set('k', 2) // Yjs emptied the map: no origin again
    inner.set('k', 3)
    list.insert(0, [2])
    list.insert(0, [3])
    accepted(Y.mergeUpdates(events), 'merge of its events')
    accepted(Y.encodeStateAsUpdate(doc), 'snapshot')
  })

  test('the honest twin of appends into another client\'s item in the receiving document: a bulk update of many records in reverse order', () => {
    // Client A sets one field of 1,000 maps in one transaction (clocks A:0..999, one per map).
    const a = new Y.Doc()
    const maps = Array.from({ length: 1000 }, (_, i) => { const m = new Y.Map<unknown>(); a.getMap('records').set(`r${i}`, m); return m })
    a.transact(() => { for (const m of maps) m.set('status', 'new') })
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const before = Y.encodeStateVector(b)
    // B updates them in reverse: appends after A:999, A:998, ... with no right origin,
    // the same bytes as crafted appends into one long item of A — which the guard cannot tell apart.
    b.transact(() => { for (let i = 999; i >= 0; i--) (b.getMap('records').get(`r${i}`) as Y.Map<unknown>).set('status', 'done') })
    accepted(Y.encodeStateAsUpdate(b, before), 'B\'s update')
  })
})
