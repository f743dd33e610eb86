import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DurabilityError } from '../../src/errors.ts'
import type { DhtStore, DhtStoreOptions, RejectedEvent, RepairedEvent } from '../../src/dht/dht-store.ts'
import { encodeHead, encodeHeadSet, headEntries } from '../../src/dht/head.ts'
import { UnauthorizedWriterError } from '../../src/errors.ts'
import type { ReplicaSecurity } from '../../src/access/replica-security.ts'
import { bytesEqual } from '../../src/util/hash.ts'
import { BLOCK_NS, HEAD_NS, headKey } from '../../src/dht/dht-keys.ts'
import { getValues, putValue } from '../../src/dht/kad-calls.ts'
import { putPart } from '../../src/dht/blocks.ts'
import { sha256 } from '../../src/util/hash.ts'
import { waitFor } from '../helpers/wait.ts'
import { edit, fieldsOf } from './states.ts'
import { dhtFixture } from './fixture.ts'
import { connect, connectAll, counting, forgeHead, stopAll, newSecurity, readHeads, readValue, testSecurity, type DhtNode } from './helpers.ts'

const ADDRESS = 'records-test-database'

async function timed<T> (what: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now()
  const result = await fn()
  console.log(`# ${what}: ${(performance.now() - started).toFixed(0)} ms`)
  return result
}

describe('DHT records', { timeout: 30_000 }, () => {
  const { mesh: servers, extra, storeOn, extraNode } = dhtFixture(ADDRESS, 5)
  const store = (node: DhtNode, options: DhtStoreOptions = {}): DhtStore => storeOn(node, testSecurity, options)

  test('a record put by A is read by C, which never talked to A (A is gone by then)', async () => {
    const a = await extraNode()
    await connect(a, servers[0] as DhtNode)
    const acknowledged = await timed('put, writer knows 1 of 5 peers', async () =>
      await store(a).putRecord('todos', 'milk', edit({ title: 'milk', done: false })))
    assert.ok(acknowledged >= 1)
    await a.stop()
    const c = await extraNode()
    await connect(c, servers[4] as DhtNode)
    assert.equal(c.getConnections(a.peerId).length, 0)
    const state = await timed('get, reader knows 1 of 5 peers', async () => await store(c).getRecord('todos', 'milk'))
    assert.deepEqual(fieldsOf(state), { title: 'milk', done: false })
  })

  test('a collection index (id null) is a record of its own', async () => {
    const s = store(servers[1] as DhtNode)
    await s.putRecord('todos', null, edit({ milk: true }))
    await s.putRecord('todos', 'index', edit({ other: true }))
    assert.deepEqual(fieldsOf(await store(servers[2] as DhtNode).getRecord('todos', null)), { milk: true })
    assert.equal(await store(servers[2] as DhtNode).getRecord('notes', null), undefined)
  })

  test('two writers who never met put one record, neither reading first: a third peer gets both writers\' fields', async () => {
    const base = edit({ title: 'bread' })
    const a = await extraNode()
    const b = await extraNode()
    await connect(a, servers[0] as DhtNode)
    await connect(b, servers[4] as DhtNode)
    const reads = { a: 0, b: 0 }
    const pa = storeOn(counting(a, () => { reads.a++ }), await newSecurity())
    const pb = storeOn(counting(b, () => { reads.b++ }), await newSecurity())
    await timed('put without read, writer knows 1 of 5 peers', async () => await pa.putRecord('todos', 'bread', edit({ done: true }, base)))
    await pb.putRecord('todos', 'bread', edit({ priority: 2 }, base))
    assert.deepEqual(reads, { a: 0, b: 0 }, 'no put read the DHT')
    await stopAll([a, b])
    extra.splice(extra.indexOf(a), 1)
    extra.splice(extra.indexOf(b), 1)
    const r = store(servers[2] as DhtNode)
    const state = await timed('get of 2 authors\' heads, 5 peers', async () => await r.getRecord('todos', 'bread', { complete: true }))
    assert.deepEqual(fieldsOf(state), { title: 'bread', done: true, priority: 2 })
    // Each writer's put reached the servers its lookup found (on a loaded machine a lookup can miss one);
    // the read put both heads back on every replica that answered with one of them.
    const key = headKey(ADDRESS, 'todos', 'bread')
    let holders = 0
    for (const node of servers) {
      const value = await readValue(node, key).catch(() => undefined)
      if (value === undefined) continue
      holders++
      assert.equal((await readHeads(key, value)).length, 2, 'a replica holds both writers\' heads')
    }
    assert.ok(holders >= 3, `${holders} of 5 servers hold the record`)
    const repaired: RepairedEvent[] = []
    const again = store(servers[4] as DhtNode)
    again.on('repaired', (e) => repaired.push(e))
    assert.deepEqual(fieldsOf(await again.getRecord('todos', 'bread', { complete: true })), { title: 'bread', done: true, priority: 2 })
    assert.equal(repaired.length, 0, 'every replica holds both heads: nothing to repair')
  })

  test('one author\'s newer head replaces its older one on the servers; an older one put again does not', async () => {
    const author = await newSecurity()
    const s = storeOn(servers[1] as DhtNode, author)
    const key = headKey(ADDRESS, 'todos', 'jam')
    const v1 = edit({ title: 'jam' })
    const old = await encodeHead(key, { parts: [], inline: v1 }, author.signer, undefined, 1000)
    await s.putRecord('todos', 'jam', v1)
    await s.putRecord('todos', 'jam', edit({ done: true }, v1))
    assert.ok(await putValue(servers[3]!.services.dht, key, old, AbortSignal.timeout(5000)) >= 1, 'servers took the stale head (the validator accepts it)')
    const values = await getValues(servers[0]!.services.dht, key, AbortSignal.timeout(5000))
    assert.equal(values.length, 1, 'every replica holds the same')
    const heads = await readHeads(key, values[0] as Uint8Array)
    assert.equal(heads.length, 1, 'one head per author')
    assert.deepEqual(fieldsOf(heads[0]?.inline), { title: 'jam', done: true })
    assert.deepEqual(fieldsOf(await store(servers[2] as DhtNode).getRecord('todos', 'jam')), { title: 'jam', done: true })
  })

  test('a head set holding a forged head is refused whole by honest servers; a careless one\'s reader skips the forged head', async () => {
    const permissive = { [BLOCK_NS]: () => {}, [HEAD_NS]: () => {} }
    const rogue = await extraNode({ validators: permissive, plain: true })
    const careless = await extraNode({ validators: permissive })
    await connectAll([...servers, rogue, careless])
    const writer = await newSecurity()
    const key = headKey(ADDRESS, 'todos', 'honey')
    await storeOn(servers[0] as DhtNode, writer).putRecord('todos', 'honey', edit({ title: 'honey' }))
    const real = (await readValue(servers[1] as DhtNode, key))
    const forged = await forgeHead(key, edit({ title: 'stolen' }), writer.signer.publicKey)
    const set = encodeHeadSet([...headEntries(real), forged])
    assert.equal(await putValue(rogue.services.dht, key, set, AbortSignal.timeout(5000)), 1, 'only the careless peer took it')
    const reader = store(servers[2] as DhtNode)
    assert.deepEqual(fieldsOf(await reader.getRecord('todos', 'honey')), { title: 'honey' })
    for (const node of servers) assert.deepEqual(await readValue(node, key), real, 'honest servers keep what they held')
    const rejected: RejectedEvent[] = []
    const carelessReader = store(careless)
    carelessReader.on('rejected', (e) => rejected.push(e))
    assert.deepEqual(fieldsOf(await carelessReader.getRecord('todos', 'honey', { readRepair: false })), { title: 'honey' })
    // The careless peer's own copy may come after the read answered: it is reported then.
    await waitFor(() => rejected.some((e) => /^SignatureError: .*\(a head refused\)/.test(e.reason)), 'the forged head to be reported')
    await stopAll([rogue, careless])
    extra.splice(extra.indexOf(rogue), 1)
    extra.splice(extra.indexOf(careless), 1)
  })

  test('a head by an author who may not write is stored by servers (they cannot tell) but ignored by readers', async () => {
    const writer = await newSecurity()
    const mallory = await newSecurity()
    const onlyWriter: ReplicaSecurity = { ...writer, access: { restricted: true, check: (author) => { if (!bytesEqual(author, writer.signer.publicKey)) throw new UnauthorizedWriterError('not a writer') } } }
    await storeOn(servers[0] as DhtNode, writer).putRecord('todos', 'salt', edit({ title: 'salt' }))
    await storeOn(servers[1] as DhtNode, mallory).putRecord('todos', 'salt', edit({ title: 'pepper', evil: true }))
    const key = headKey(ADDRESS, 'todos', 'salt')
    assert.equal((await readHeads(key, await readValue(servers[2] as DhtNode, key))).length, 2, 'servers hold both heads')
    const reader = storeOn(servers[3] as DhtNode, onlyWriter)
    const rejected: RejectedEvent[] = []
    reader.on('rejected', (e) => rejected.push(e))
    assert.deepEqual(fieldsOf(await reader.getRecord('todos', 'salt')), { title: 'salt' })
    assert.ok(rejected.some((e) => e.reason.startsWith('UnauthorizedWriterError:')), 'the non-writer\'s head is reported')
  })

  test('read repair: none when one head holds everything; a merged head when none does among many authors', async () => {
    const key = headKey(ADDRESS, 'todos', 'many')
    // 8 authors: each one's state holds the previous ones' (they synced), the last holds everything.
    let state = edit({ title: 'many' })
    for (let i = 0; i < 8; i++) {
      state = edit({ [`by${i}`]: i }, state)
      await storeOn(servers[i % servers.length] as DhtNode, await newSecurity()).putRecord('todos', 'many', state)
    }
    const reader = store(servers[0] as DhtNode)
    const repaired: RepairedEvent[] = []
    reader.on('repaired', (e) => repaired.push(e))
    assert.equal(Object.keys(fieldsOf(await reader.getRecord('todos', 'many', { complete: true })) as object).length, 9)
    assert.equal(repaired.length, 0, 'the newest head held everything')
    // A 9th author who never saw the others: now no head holds everything.
    await storeOn(servers[1] as DhtNode, await newSecurity()).putRecord('todos', 'many', edit({ alone: true }))
    assert.equal(Object.keys(fieldsOf(await reader.getRecord('todos', 'many', { complete: true })) as object).length, 10)
    assert.equal(repaired.length, 1, 'a merged head was put')
    assert.equal(repaired[0]?.heads, 9)
    const heads = await readHeads(key, await readValue(servers[2] as DhtNode, key))
    assert.equal(heads.length, 10, 'the reader\'s merged head joined the nine')
    // The merged head holds everything: the next read repairs nothing.
    await reader.getRecord('todos', 'many', { complete: true })
    assert.equal(repaired.length, 1)
  })

  test('durability: enough peers acknowledge; a lone peer rejects with DurabilityError', async () => {
    const acknowledged = await timed('put with replicas: 3, 5 peers', async () =>
      await store(servers[2] as DhtNode).putRecord('todos', 'durable', edit({ title: 'durable' }), { replicas: 3, timeout: 10_000 }))
    assert.ok(acknowledged >= 3, `${acknowledged} peers acknowledged`)

    const lone = await extraNode()
    const s = store(lone)
    const error = await timed('lone put with replicas: 3', async () =>
      await s.putRecord('todos', 'alone', edit({ title: 'alone' }), { replicas: 3, timeout: 5000 }).then(() => undefined, (e: unknown) => e))
    assert.ok(error instanceof DurabilityError)
    assert.equal(error.name, 'DurabilityError')
    assert.equal(error.acknowledged, 0)
    assert.equal(error.wanted, 3)
    // Without `replicas` a lone peer's put resolves, and reads its own copy back.
    assert.equal(await s.putRecord('todos', 'alone', edit({ title: 'alone' })), 0)
    assert.deepEqual(fieldsOf(await timed('lone get', async () => await s.getRecord('todos', 'alone'))), { title: 'alone' })
  })

  test('malformed heads and parts from the network are skipped and reported, not fatal', async () => {
    const permissive = { [BLOCK_NS]: () => {}, [HEAD_NS]: () => {} }
    const rogue = await extraNode({ validators: permissive, plain: true })
    const careless = await extraNode({ validators: permissive })
    await connectAll([...servers, rogue, careless])
    const key = headKey(ADDRESS, 'todos', 'eggs')
    await store(servers[0] as DhtNode).putRecord('todos', 'eggs', edit({ title: 'eggs' }))
    // A head that does not decode: honest peers refuse it, the rogue keeps and serves it.
    assert.ok(await putValue(rogue.services.dht, key, new Uint8Array([0xff, 0x00, 0x13]), AbortSignal.timeout(5000)) <= 1)
    const honestReader = store(servers[1] as DhtNode)
    assert.deepEqual(fieldsOf(await honestReader.getRecord('todos', 'eggs')), { title: 'eggs' })
    // A kad-dht that checks nothing hands it over: the store refuses it itself.
    const carelessReader = store(careless)
    const rejected: RejectedEvent[] = []
    carelessReader.on('rejected', (e) => rejected.push(e))
    assert.deepEqual(fieldsOf(await carelessReader.getRecord('todos', 'eggs', { readRepair: false })), { title: 'eggs' })
    await waitFor(() => rejected.some((e) => /^MalformedUpdateError: .*\(a head refused\)/.test(e.reason) && e.id === 'eggs'), 'the malformed head to be reported')

    // Another author's well-formed head naming a block that is not a Yjs update, and a block nobody
    // has, put by a peer while it was alone (so that only it holds the head), which then joins.
    const loner = await extraNode({ validators: permissive })
    const junk = await putPart(loner.services.dht, new TextEncoder().encode('not a yjs update'), { signal: () => AbortSignal.timeout(5000), concurrency: 2 })
    const missing = [sha256(new TextEncoder().encode('never stored'))]
    const mallory = await newSecurity()
    assert.equal(await putValue(loner.services.dht, key, await encodeHead(key, { parts: [junk.part, missing] }, mallory.signer), AbortSignal.timeout(5000)), 0)
    await connectAll([...servers, loner])
    const reader = store(servers[2] as DhtNode)
    const reports: RejectedEvent[] = []
    const repairs: RepairedEvent[] = []
    reader.on('rejected', (e) => reports.push(e))
    reader.on('repaired', (e) => repairs.push(e))
    assert.deepEqual(fieldsOf(await reader.getRecord('todos', 'eggs', { complete: true })), { title: 'eggs' })
    assert.ok(reports.some((e) => /not a Yjs update/.test(e.reason)), 'the junk part is reported')
    assert.ok(reports.some((e) => /^NotFoundError: /.test(e.reason)), 'the missing part is reported')
    assert.equal(repairs.length, 1, 'the disagreeing replicas were repaired')
    // The repair put both authors' heads back as they were (the reader signed nothing): every honest
    // replica, and the loner, now holds both; the missing part stays named (its blocks may come back).
    for (const node of [servers[3] as DhtNode, loner]) {
      const heads = await readHeads(key, await readValue(node, key))
      assert.deepEqual(heads.map((h) => h.parts.length).sort(), [0, 2])
      assert.deepEqual(heads.find((h) => h.parts.length === 2)?.parts[1], missing)
    }
    await stopAll([rogue, careless, loner])
  })

  test('the background queue coalesces schedules of one record and bounds concurrency', async () => {
    const s = store(servers[3] as DhtNode, { concurrency: 2, queueReplicas: 1 })
    const published: string[] = []
    s.on('published', (e) => published.push(String(e.id)))
    let loads = 0
    for (let i = 0; i < 10; i++) {
      s.schedule('todos', 'queued', async () => {
        loads++
        return edit({ title: 'queued', version: i })
      })
    }
    await timed('flush of one coalesced record', async () => { await s.flush() })
    assert.equal(loads, 1)
    assert.deepEqual(published, ['queued'])
    assert.deepEqual(fieldsOf(await store(servers[0] as DhtNode).getRecord('todos', 'queued')), { title: 'queued', version: 9 })

    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    let inFlight = 0
    let most = 0
    for (let i = 0; i < 6; i++) {
      s.schedule('todos', `many-${i}`, async () => {
        most = Math.max(most, ++inFlight)
        await gate
        inFlight--
        return edit({ n: i })
      })
    }
    assert.equal(s.pending, 6)
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(inFlight, 2)
    release()
    await timed('flush of 6 records, 2 at once', async () => { await s.flush() })
    assert.equal(most, 2)
    assert.equal(published.length, 7)
  })

  test('a lone peer: queued puts that no peer acknowledges are retried, then given up; republishing re-puts', async () => {
    const lone = await extraNode()
    const strict = store(lone, { queueReplicas: 1, retryDelay: 10, maxAttempts: 3 })
    const failed: Array<number | undefined> = []
    strict.on('failed', (e) => {
      assert.equal(e.id, 'offline')
      assert.equal((e.error as Error).name, 'DurabilityError')
      failed.push(e.retryIn)
    })
    strict.schedule('todos', 'offline', async () => edit({ title: 'offline' }))
    await strict.flush()
    assert.deepEqual(failed, [10, 20, undefined])

    const relaxed = store(lone, { queueReplicas: 0, republishInterval: 30 })
    let loads = 0
    relaxed.schedule('todos', 'local', async () => {
      loads++
      return edit({ title: 'local' })
    })
    await waitFor(() => loads >= 3, 'two republishes')
    await relaxed.stop()
    assert.deepEqual(fieldsOf(await strict.getRecord('todos', 'local')), { title: 'local' })
  })

  test('calls after stop reject with DatabaseClosedError; stop ends in-flight queries', async () => {
    const s = store(servers[4] as DhtNode)
    const pending = s.getRecord('todos', 'never-put')
    await s.stop()
    await assert.rejects(pending, { name: 'DatabaseClosedError' })
    await assert.rejects(s.putRecord('todos', 'x', edit({ a: 1 })), { name: 'DatabaseClosedError' })
    s.schedule('todos', 'x', async () => edit({ a: 1 }))
    assert.equal(s.pending, 0)
  })
})
