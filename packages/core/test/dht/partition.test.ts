import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import * as Y from 'yjs'
import { DhtStore, type RepairedEvent } from '../../src/dht/dht-store.ts'
import { headKey } from '../../src/dht/dht-keys.ts'
import { getValues } from '../../src/dht/kad-calls.ts'
import type { ReplicaSecurity } from '../../src/access/replica-security.ts'
import { connectAll, createDhtNode, createMesh, newSecurity, readHeads, stopAll, testSecurity, type DhtNode } from './helpers.ts'

const ADDRESS = 'partition-test-database'

describe('replicas that disagree', { timeout: 30_000 }, () => {
  const nodes: DhtNode[] = []
  const stores: DhtStore[] = []
  const store = (node: DhtNode, security: ReplicaSecurity = testSecurity): DhtStore => {
    const s = new DhtStore(node.services.dht, ADDRESS, { queryTimeout: 5000 }, security)
    stores.push(s)
    return s
  }

  after(async () => {
    await Promise.all(stores.map(async (s) => { await s.stop() }))
    await stopAll(nodes)
  })

  test('two partitions edit one record; after they heal, a read merges both and repairs every replica', async () => {
    const [alice, bob] = [await newSecurity(), await newSecurity()]
    const left = await createMesh(3)
    const right = await createMesh(3)
    nodes.push(...left, ...right)

    // One record, edited on both sides while they cannot see each other.
    const base = new Y.Doc()
    base.getMap('fields').set('title', 'milk')
    base.getText('notes').insert(0, 'buy')
    const baseState = Y.encodeStateAsUpdate(base)
    const p = new Y.Doc()
    const q = new Y.Doc()
    Y.applyUpdate(p, baseState)
    Y.applyUpdate(q, baseState)
    p.getMap('fields').set('done', true)
    p.getText('notes').insert(3, ' oat')
    q.getMap('fields').set('priority', 2)
    q.getText('notes').insert(0, 'please ')
    await Promise.all([
      store(left[0] as DhtNode, alice).putRecord('todos', 'milk', Y.encodeStateAsUpdate(p)),
      store(right[0] as DhtNode, bob).putRecord('todos', 'milk', Y.encodeStateAsUpdate(q))
    ])

    await connectAll([...left, ...right])
    const key = headKey(ADDRESS, 'todos', 'milk')
    const before = await getValues(left[1]!.services.dht, key, AbortSignal.timeout(5000))
    assert.ok(before.length >= 2, 'the healed network holds two different heads')

    const reader = store(right[2] as DhtNode)
    const repaired: RepairedEvent[] = []
    reader.on('repaired', (e) => repaired.push(e))
    const started = performance.now()
    const state = await reader.getRecord('todos', 'milk', { complete: true })
    console.log(`# get merging 2 heads + read repair, 6 peers: ${(performance.now() - started).toFixed(0)} ms`)
    assert.ok(state !== undefined)
    const merged = new Y.Doc()
    Y.applyUpdate(merged, state)
    assert.deepEqual(merged.getMap('fields').toJSON(), { title: 'milk', done: true, priority: 2 })
    assert.equal(merged.getText('notes').toJSON(), 'please buy oat')
    assert.equal(repaired.length, 1)
    assert.equal(repaired[0]?.heads, 2)

    // Every peer now finds one value: the set of both authors' heads (the reader signed nothing).
    for (const node of nodes) {
      const values = await getValues(node.services.dht, key, AbortSignal.timeout(5000))
      assert.equal(values.length, 1, 'one value everywhere')
      const heads = await readHeads(key, values[0] as Uint8Array)
      assert.deepEqual(heads.map((h) => h.author).sort(compare), [alice.signer.publicKey, bob.signer.publicKey].sort(compare))
    }
    // And a read that finds agreeing replicas writes nothing.
    assert.ok(await store(left[2] as DhtNode).getRecord('todos', 'milk', { complete: true }) !== undefined)
    assert.equal(repaired.length, 1)
  })

  test("a peer's own copy of a head counts: kad-dht's get does not overwrite it, and the store merges it in", async () => {
    const mesh = await createMesh(3)
    const lone = await createDhtNode()
    nodes.push(...mesh, lone)
    const state = (fields: Record<string, unknown>): Uint8Array => {
      const doc = new Y.Doc()
      for (const [k, v] of Object.entries(fields)) doc.getMap('fields').set(k, v)
      return Y.encodeStateAsUpdate(doc)
    }
    // The lone peer's head is only in its own datastore; the mesh holds another author's.
    const [mine, theirs] = [await newSecurity(), await newSecurity()]
    assert.equal(await store(lone, mine).putRecord('notes', 'n1', state({ mine: 1 })), 0)
    assert.ok(await store(mesh[0] as DhtNode, theirs).putRecord('notes', 'n1', state({ theirs: 2 })) >= 1)
    await connectAll([...mesh, lone])
    // A plain look from a mesh peer (no read repair) overwrites nothing.
    const key = headKey(ADDRESS, 'notes', 'n1')
    assert.equal((await getValues(mesh[1]!.services.dht, key, AbortSignal.timeout(5000))).length, 2)
    assert.equal((await getValues(mesh[2]!.services.dht, key, AbortSignal.timeout(5000))).length, 2)

    const merged = new Y.Doc()
    Y.applyUpdate(merged, await store(lone, mine).getRecord('notes', 'n1', { complete: true }) ?? new Uint8Array())
    assert.deepEqual(merged.getMap('fields').toJSON(), { mine: 1, theirs: 2 })
    for (const node of [...mesh, lone]) {
      assert.equal((await getValues(node.services.dht, key, AbortSignal.timeout(5000))).length, 1, 'one value everywhere (both heads)')
    }
  })
})

function compare (a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}
