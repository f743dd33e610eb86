import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as Y from 'yjs'
import { MAX_PART_BYTES, partId, splitBlocks } from '../../src/dht/blocks.ts'
import { DhtStore, type RejectedEvent } from '../../src/dht/dht-store.ts'
import { MAX_BLOCK_BYTES } from '../../src/dht/head.ts'
import { BLOCK_NS, blockKey, HEAD_NS } from '../../src/dht/dht-keys.ts'
import { putValue } from '../../src/dht/kad-calls.ts'
import { dhtValidators } from '../../src/dht/validators.ts'
import { sha256 } from '../../src/util/hash.ts'
import { connectAll, createDhtNode, createMesh, stopAll, testSecurity, type DhtNode } from './helpers.ts'

const ADDRESS = 'blocks-test-database'
const permissive = { [BLOCK_NS]: () => {}, [HEAD_NS]: () => {} }

function bytes (length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

describe('blocks', { timeout: 30_000 }, () => {
  let honest: DhtNode[] = []
  /** Keeps whatever it is given and serves it (its validators accept anything). */
  let rogue: DhtNode
  /** An honest peer whose kad-dht checks nothing: the DHT store's own checks are all that stand. */
  let careless: DhtNode
  const stores: DhtStore[] = []
  const store = (node: DhtNode): DhtStore => {
    const s = new DhtStore(node.services.dht, ADDRESS, { queryTimeout: 5000 }, testSecurity)
    stores.push(s)
    return s
  }

  before(async () => {
    honest = await createMesh(4)
    rogue = await createDhtNode({ validators: permissive })
    careless = await createDhtNode({ validators: permissive })
    await connectAll([...honest, rogue, careless])
  })

  after(async () => {
    await Promise.all(stores.map(async (s) => { await s.stop() }))
    await stopAll([...honest, rogue, careless])
  })

  test('an update is cut into blocks of at most MAX_BLOCK_BYTES', () => {
    assert.equal(splitBlocks(new Uint8Array(0)).length, 1)
    assert.equal(splitBlocks(new Uint8Array(MAX_BLOCK_BYTES)).length, 1)
    const blocks = splitBlocks(new Uint8Array(2 * MAX_BLOCK_BYTES + 1))
    assert.deepEqual(blocks.map((b) => b.length), [MAX_BLOCK_BYTES, MAX_BLOCK_BYTES, 1])
    assert.throws(() => splitBlocks(new Uint8Array(MAX_PART_BYTES + 1)), { name: 'RecordTooLargeError' })
  })

  test('blocks put on one peer are read back on another, checked against their hashes', async () => {
    const update = bytes(2 * MAX_BLOCK_BYTES + 100, 1)
    const started = performance.now()
    const { part, acknowledged } = await store(honest[0] as DhtNode).putUpdate(update)
    const putMs = performance.now() - started
    assert.equal(part.length, 3)
    assert.ok(acknowledged >= 1, `acknowledged by ${acknowledged}`)
    const at = performance.now()
    const back = await store(honest[3] as DhtNode).getPart(part)
    console.log(`# 2 MiB update: put ${putMs.toFixed(0)} ms (${acknowledged} peers), get ${(performance.now() - at).toFixed(0)} ms`)
    assert.deepEqual(back, update)
  })

  test('a block that is not found makes the part undefined', async () => {
    const missing = sha256(bytes(100, 2))
    assert.equal(await store(honest[1] as DhtNode).getPart([missing], { timeout: 5000 }), undefined)
  })

  test('the block validator refuses bytes that do not match their key, or too many', async () => {
    const validate = dhtValidators[BLOCK_NS] as (k: Uint8Array, v: Uint8Array) => Promise<void>
    const good = bytes(1000, 3)
    const key = blockKey(sha256(good))
    await validate(key, good)
    const bad = good.slice()
    bad[0] = (bad[0] as number) ^ 1
    await assert.rejects(validate(key, bad), { name: 'MalformedUpdateError' })
    const big = new Uint8Array(MAX_BLOCK_BYTES + 1)
    await assert.rejects(validate(blockKey(sha256(big)), big), { name: 'MalformedUpdateError' })
  })

  test('honest peers refuse a block whose bytes do not match its key', async () => {
    const claimed = bytes(500, 4)
    const forged = bytes(500, 5)
    const acknowledged = await putValue(rogue.services.dht, blockKey(sha256(claimed)), forged, AbortSignal.timeout(5000))
    // Only the careless peer (whose kad-dht checks nothing) may have taken it.
    assert.ok(acknowledged <= 1, `${acknowledged} peers took a forged block`)
    for (const node of honest) {
      assert.equal(await new DhtStore(node.services.dht, ADDRESS).getPart([sha256(claimed)], { timeout: 5000 }), undefined)
    }
  })

  test('the store checks every block itself: forged bytes served to a careless kad-dht are refused and reported', async () => {
    const claimed = bytes(700, 6)
    const forged = bytes(700, 7)
    await putValue(rogue.services.dht, blockKey(sha256(claimed)), forged, AbortSignal.timeout(5000))
    const reader = store(careless)
    const rejected: RejectedEvent[] = []
    reader.on('rejected', (e) => rejected.push(e))
    assert.equal(await reader.getPart([sha256(claimed)]), undefined)
    assert.ok(rejected.some((e) => /do not match/.test(e.reason)), 'the forged block is reported')
  })

  test('a 5 MiB record round-trips through six blocks', async () => {
    const doc = new Y.Doc()
    doc.getMap('fields').set('blob', bytes(5 * 1024 * 1024, 8))
    doc.getMap('fields').set('title', 'big')
    const state = Y.encodeStateAsUpdate(doc)
    const writer = store(honest[0] as DhtNode)
    let started = performance.now()
    const acknowledged = await writer.putRecord('files', 'big', state)
    const putMs = performance.now() - started
    started = performance.now()
    const back = await store(honest[2] as DhtNode).getRecord('files', 'big')
    console.log(`# 5 MiB record: put ${putMs.toFixed(0)} ms (${acknowledged} peers), get ${(performance.now() - started).toFixed(0)} ms`)
    assert.ok(back !== undefined)
    const read = new Y.Doc()
    Y.applyUpdate(read, back)
    assert.equal(read.getMap('fields').get('title'), 'big')
    assert.deepEqual(read.getMap('fields').get('blob'), doc.getMap('fields').get('blob'))
    assert.equal(splitBlocks(state).length, 6)
  })

  test('part ids tell parts apart', () => {
    const a = [sha256(bytes(10, 9))]
    const b = [sha256(bytes(10, 10))]
    assert.notEqual(partId(a), partId(b))
    assert.equal(partId(a), partId([a[0] as Uint8Array]))
  })
})
