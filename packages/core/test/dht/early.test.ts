/**
 * Puts and reads that answer early: a put with `replicas` resolves at its
 * N-th acknowledgement while the rest goes on; a read answers with the
 * first replicas and merges what later ones hold.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { CompletedEvent, LateEvent, RepairedEvent } from '../../src/dht/dht-store.ts'
import { headKey } from '../../src/dht/dht-keys.ts'
import { waitFor } from '../helpers/wait.ts'
import { edit, fieldsOf } from './states.ts'
import { dhtFixture } from './fixture.ts'
import { connectAll, createDhtNode, gated, newSecurity, readHeads, readValue, type DhtNode } from './helpers.ts'

const ADDRESS = 'early-test-database'

describe('answers that do not wait for the whole DHT', { timeout: 30_000 }, () => {
  const { mesh, extra, storeOn } = dhtFixture(ADDRESS, 6)

  test('a put with replicas: 1 resolves at the first acknowledgement; the rest reaches every peer afterwards', async () => {
    const { holder, open } = gated(mesh[0] as DhtNode, { putAfterFirstAck: true })
    const s = storeOn(holder, await newSecurity())
    const completed: CompletedEvent[] = []
    s.on('completed', (e) => completed.push(e))
    // The rest of the put stalls until the gate opens: the call must not wait for it.
    const acknowledged = await s.putRecord('todos', 'early', edit({ title: 'early' }), { replicas: 1, timeout: 10_000 })
    assert.equal(acknowledged, 1)
    assert.equal(s.pending, 1, 'the rest of the put is under way')
    assert.equal(completed.length, 0)
    open()
    await s.flush()
    assert.equal(s.pending, 0)
    assert.equal(completed.length, 1)
    assert.equal(completed[0]?.acknowledged, mesh.length - 1, 'every other peer acknowledged in the end')
    assert.equal(completed[0]?.error, undefined)
    const key = headKey(ADDRESS, 'todos', 'early')
    for (const node of mesh) assert.equal((await readHeads(key, await readValue(node, key))).length, 1, 'every peer holds the head')
  })

  test('without replicas a put resolves once the whole put ended; more replicas than peers still rejects', async () => {
    const s = storeOn(mesh[1] as DhtNode, await newSecurity())
    assert.equal(await s.putRecord('todos', 'whole', edit({ title: 'whole' })), mesh.length - 1)
    assert.equal(s.pending, 0)
    await assert.rejects(s.putRecord('todos', 'too-many', edit({ title: 'x' }), { replicas: mesh.length + 2, timeout: 5000 }), { name: 'DurabilityError' })
  })

  test('stop during the rest of a put ends it: no unhandled rejection, no completed event, nothing pending', async () => {
    const { holder } = gated(mesh[2] as DhtNode, { putAfterFirstAck: true })
    const s = storeOn(holder, await newSecurity())
    const completed: CompletedEvent[] = []
    s.on('completed', (e) => completed.push(e))
    assert.equal(await s.putRecord('todos', 'stopped', edit({ title: 'stopped' }), { replicas: 1 }), 1)
    assert.equal(s.pending, 1)
    await s.stop() // the gate never opens: only the abort ends the rest
    assert.equal(s.pending, 0)
    assert.deepEqual(completed, [])
  })

  test('a read answers with the first replicas; a head only a later replica holds arrives as a late event, then repairs the others', async () => {
    const [alice, bob] = [await newSecurity(), await newSecurity()]
    const base = edit({ title: 'bread' })
    assert.ok(await storeOn(mesh[0] as DhtNode, alice).putRecord('todos', 'bread', edit({ done: false }, base)) >= 1)
    // Bob writes while alone (only his own node holds his head), then joins: his node answers "later".
    const loner = await createDhtNode()
    extra.push(loner)
    assert.equal(await storeOn(loner, bob).putRecord('todos', 'bread', edit({ priority: 2 }, base)), 0)
    await connectAll([...mesh, loner])

    const { holder, open } = gated(mesh[3] as DhtNode, { getFrom: loner.peerId })
    const reader = storeOn(holder, await newSecurity())
    const late: LateEvent[] = []
    const repaired: RepairedEvent[] = []
    reader.on('late', (e) => late.push(e))
    reader.on('repaired', (e) => repaired.push(e))
    assert.deepEqual(fieldsOf(await reader.getRecord('todos', 'bread')), { title: 'bread', done: false }, 'the first replicas\' state')
    assert.equal(late.length, 0)
    open()
    await waitFor(() => late.length > 0, 'the later head to be merged')
    assert.equal(late[0]?.id, 'bread')
    assert.deepEqual(fieldsOf(late.at(-1)?.state), { title: 'bread', done: false, priority: 2 })
    await reader.flush()
    assert.equal(repaired.length, 1, 'the replicas that lacked a head were repaired')
    const key = headKey(ADDRESS, 'todos', 'bread')
    for (const node of [...mesh, loner]) assert.equal((await readHeads(key, await readValue(node, key))).length, 2, 'both heads everywhere')
  })

  test('a read of a record no replica holds resolves undefined once the lookup ended', async () => {
    const s = storeOn(mesh[4] as DhtNode, await newSecurity())
    const late: LateEvent[] = []
    s.on('late', (e) => late.push(e))
    assert.equal(await s.getRecord('todos', 'nowhere'), undefined)
    await s.flush()
    assert.deepEqual(late, [])
  })

  test('stop during a read\'s background lookup ends it cleanly', async () => {
    const [carol, dave] = [await newSecurity(), await newSecurity()]
    await storeOn(mesh[0] as DhtNode, carol).putRecord('todos', 'cut', edit({ title: 'cut' }))
    const loner = await createDhtNode()
    extra.push(loner)
    await storeOn(loner, dave).putRecord('todos', 'cut', edit({ more: true }))
    await connectAll([...mesh, loner])
    const { holder } = gated(mesh[5] as DhtNode, { getFrom: loner.peerId })
    const reader = storeOn(holder, await newSecurity())
    const late: LateEvent[] = []
    reader.on('late', (e) => late.push(e))
    assert.deepEqual(fieldsOf(await reader.getRecord('todos', 'cut')), { title: 'cut' })
    await reader.stop() // the held answer never comes: the abort ends the lookup
    assert.deepEqual(late, [])
  })
})
