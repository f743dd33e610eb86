import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as Y from 'yjs'
import { DurabilityError } from '../../src/errors.ts'
import { DhtStore, type DhtStoreOptions, type RejectedEvent, type RemoteStateEvent, type RepairedEvent } from '../../src/dht/dht-store.ts'
import { encodeHead } from '../../src/dht/head.ts'
import { BLOCK_NS, HEAD_NS, headKey } from '../../src/dht/keys.ts'
import { getValues, putValue } from '../../src/dht/query.ts'
import { putPart } from '../../src/dht/blocks.ts'
import { sha256 } from '../../src/hash.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, connectAll, createDhtNode, createMesh, readHead, stopAll, testSecurity, type DhtNode } from './helpers.ts'

const ADDRESS = 'records-test-database'

/** A record's state with these fields, on top of `base`. */
function edit (fields: Record<string, unknown>, base?: Uint8Array): Uint8Array {
  const doc = new Y.Doc()
  if (base !== undefined) Y.applyUpdate(doc, base)
  doc.transact(() => {
    for (const [k, v] of Object.entries(fields)) doc.getMap('fields').set(k, v)
  })
  return Y.encodeStateAsUpdate(doc)
}

function fieldsOf (state: Uint8Array | undefined): unknown {
  assert.ok(state !== undefined, 'no state was found')
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc.getMap('fields').toJSON()
}

async function timed<T> (what: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now()
  const result = await fn()
  console.log(`# ${what}: ${(performance.now() - started).toFixed(0)} ms`)
  return result
}

describe('DHT records', { timeout: 30_000 }, () => {
  let servers: DhtNode[] = []
  const extra: DhtNode[] = []
  const stores: DhtStore[] = []
  const store = (node: DhtNode, options: DhtStoreOptions = {}): DhtStore => {
    const s = new DhtStore(node.services.dht, ADDRESS, { queryTimeout: 5000, ...options }, testSecurity)
    stores.push(s)
    return s
  }
  const extraNode = async (options: Parameters<typeof createDhtNode>[0] = {}): Promise<DhtNode> => {
    const node = await createDhtNode(options)
    extra.push(node)
    return node
  }

  before(async () => {
    servers = await createMesh(5)
  })

  after(async () => {
    await Promise.all(stores.map(async (s) => { await s.stop() }))
    await stopAll([...servers, ...extra])
  })

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

  test('a put merges what the DHT holds into one snapshot, and reports what the given state lacked', async () => {
    const base = edit({ title: 'bread' })
    const p = store(servers[0] as DhtNode)
    const q = store(servers[3] as DhtNode)
    await p.putRecord('todos', 'bread', edit({ done: true }, base))
    const remote: RemoteStateEvent[] = []
    q.on('remote', (e) => remote.push(e))
    await timed('read-merge-write put, 5 peers', async () => await q.putRecord('todos', 'bread', edit({ priority: 2 }, base)))
    assert.equal(remote.length, 1)
    assert.deepEqual(fieldsOf(remote[0]?.state), { title: 'bread', done: true, priority: 2 })
    const repaired: RepairedEvent[] = []
    const r = store(servers[4] as DhtNode)
    r.on('repaired', (e) => repaired.push(e))
    const state = await timed('get, 5 peers', async () => await r.getRecord('todos', 'bread'))
    assert.deepEqual(fieldsOf(state), { title: 'bread', done: true, priority: 2 })
    assert.equal(repaired.length, 0, 'the replicas agreed')
    const breadKey = headKey(ADDRESS, 'todos', 'bread')
    for (const value of await getValues(servers[1]!.services.dht, breadKey, AbortSignal.timeout(5000))) {
      const head = await readHead(breadKey, value)
      assert.equal(head.parts.length + (head.inline === undefined ? 0 : 1), 1, 'the head names one compacted state')
    }
    // Putting a state that holds everything reports nothing.
    await q.putRecord('todos', 'bread', state as Uint8Array)
    assert.equal(remote.length, 1)
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
    const rogue = await extraNode({ validators: permissive })
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
    assert.ok(rejected.some((e) => /^MalformedUpdateError: .*\(a head refused\)/.test(e.reason) && e.id === 'eggs'), 'the malformed head is reported')

    // A well-formed head naming a block that is not a Yjs update, and a block nobody has, put by a
    // peer while it was alone (so that it did not overwrite the honest replicas), which then joins.
    const loner = await extraNode({ validators: permissive })
    const junk = await putPart(loner.services.dht, new TextEncoder().encode('not a yjs update'), { signal: () => AbortSignal.timeout(5000), concurrency: 2 })
    const missing = [sha256(new TextEncoder().encode('never stored'))]
    assert.equal(await putValue(loner.services.dht, key, await encodeHead(key, { parts: [junk.part, missing] }, testSecurity.signer), AbortSignal.timeout(5000)), 0)
    await connectAll([...servers, loner])
    const reader = store(servers[2] as DhtNode)
    const reports: RejectedEvent[] = []
    const repairs: RepairedEvent[] = []
    reader.on('rejected', (e) => reports.push(e))
    reader.on('repaired', (e) => repairs.push(e))
    assert.deepEqual(fieldsOf(await reader.getRecord('todos', 'eggs')), { title: 'eggs' })
    assert.ok(reports.some((e) => /not a Yjs update/.test(e.reason)), 'the junk part is reported')
    assert.equal(repairs.length, 1, 'the disagreeing replicas were repaired')
    // The repaired head drops the junk part and keeps the one that could not be fetched (it may come back).
    const heads = await Promise.all((await getValues(servers[3]!.services.dht, key, AbortSignal.timeout(5000))).map(async (v) => readHead(key, v)))
    assert.ok(heads.length >= 1)
    for (const head of heads) {
      // The merged (small) state rides inline; the missing part is kept.
      assert.ok(head.inline !== undefined)
      assert.deepEqual(head.parts, [missing])
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
