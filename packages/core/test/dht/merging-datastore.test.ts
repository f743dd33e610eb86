/**
 * The DHT server's merge rule, on the datastore wrapper alone: what kad-dht
 * stores under a head key after puts of heads and head sets, hostile ones
 * included.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Libp2pRecord } from '@libp2p/record'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import * as Y from 'yjs'
import { encodeHead, encodeHeadSet, headEntries, MAX_SET_HEADS, verifyHeadValue } from '../../src/dht/head.ts'
import { blockKey, headKey } from '../../src/dht/dht-keys.ts'
import { mergingDatastore } from '../../src/dht/merging-datastore.ts'
import { dhtValidators } from '../../src/dht/validators.ts'
import { HEAD_NS } from '../../src/dht/dht-keys.ts'
import { sha256, toHex } from '../../src/util/hash.ts'
import type { Signer } from '../../src/access/identity.ts'
import { forgeHead, newSecurity } from './helpers.ts'

const KEY = headKey('merging-datastore-test', 'todos', 'milk')
/** Where kad-dht 16 keeps the record of KEY (`/dht/record/<base32 of the key>`; any name under the prefix will do here). */
const DS_KEY = new Key('/dht/record/milk')

function state (fields: Record<string, unknown>): Uint8Array {
  const doc = new Y.Doc()
  for (const [k, v] of Object.entries(fields)) doc.getMap('fields').set(k, v)
  return Y.encodeStateAsUpdate(doc)
}

async function head (signer: Signer, fields: Record<string, unknown>, t?: number): Promise<Uint8Array> {
  return await encodeHead(KEY, { parts: [], inline: state(fields) }, signer, undefined, t)
}

/** kad-dht's record bytes of a value under KEY (as its PUT_VALUE handler stores them). */
function recordOf (value: Uint8Array, key = KEY): Uint8Array {
  return new Libp2pRecord(key, value, new Date()).serialize()
}

/** The value stored under DS_KEY, checked as kad-dht's validator would. */
async function stored (ds: ReturnType<typeof mergingDatastore>): Promise<Uint8Array> {
  const value = Libp2pRecord.deserialize(await ds.get(DS_KEY)).value
  await verifyHeadValue(KEY, value)
  return value
}

/** Byte strings as a set of hex (to compare sets of heads whatever their array type). */
function hexes (values: readonly Uint8Array[]): Set<string> {
  return new Set(values.map(toHex))
}

async function signers (n: number): Promise<Signer[]> {
  return await Promise.all(Array.from({ length: n }, async () => (await newSecurity()).signer))
}

describe('the merging datastore (a Kadmium DHT server)', () => {
  test('heads of different authors are kept side by side; one author\'s newer head replaces its older one', async () => {
    const [alice, bob] = await signers(2) as [Signer, Signer]
    const ds = mergingDatastore(new MemoryDatastore())
    const a1 = await head(alice, { a: 1 }, 10)
    const b1 = await head(bob, { b: 1 }, 5)
    await ds.put(DS_KEY, recordOf(a1))
    await ds.put(DS_KEY, recordOf(b1))
    assert.deepEqual(hexes(headEntries(await stored(ds))), hexes([a1, b1]))
    const a2 = await head(alice, { a: 2 }, 11)
    await ds.put(DS_KEY, recordOf(a2))
    assert.deepEqual(hexes(headEntries(await stored(ds))), hexes([a2, b1]))
    // An older head of alice's, put again later, changes nothing.
    await ds.put(DS_KEY, recordOf(a1))
    assert.deepEqual(hexes(headEntries(await stored(ds))), hexes([a2, b1]))
  })

  test('replicas holding the same heads hold the same bytes, whatever the order of the puts', async () => {
    const heads = await Promise.all((await signers(4)).map(async (s, i) => await head(s, { i })))
    const one = mergingDatastore(new MemoryDatastore())
    const two = mergingDatastore(new MemoryDatastore())
    for (const h of heads) await one.put(DS_KEY, recordOf(h))
    await two.put(DS_KEY, recordOf(encodeHeadSet([heads[3], heads[1]] as Uint8Array[])))
    for (const h of [heads[2], heads[0], heads[1]] as Uint8Array[]) await two.put(DS_KEY, recordOf(h))
    assert.equal(toHex(await stored(one)), toHex(await stored(two)))
  })

  test('concurrent puts of many authors are all kept', async () => {
    const heads = await Promise.all((await signers(8)).map(async (s, i) => await head(s, { i })))
    const ds = mergingDatastore(new MemoryDatastore())
    await Promise.all(heads.map(async (h) => await ds.put(DS_KEY, recordOf(h))))
    assert.equal(headEntries(await stored(ds)).length, 8)
  })

  test(`at most ${MAX_SET_HEADS} authors: the oldest head goes first`, async () => {
    const all = await signers(MAX_SET_HEADS + 2)
    const ds = mergingDatastore(new MemoryDatastore())
    const heads: Uint8Array[] = []
    for (const [i, s] of all.entries()) {
      heads.push(await head(s, { i }, 1000 + i))
      await ds.put(DS_KEY, recordOf(heads[i] as Uint8Array))
    }
    const kept = hexes(headEntries(await stored(ds)))
    assert.equal(kept.size, MAX_SET_HEADS)
    assert.ok(!kept.has(toHex(heads[0] as Uint8Array)) && !kept.has(toHex(heads[1] as Uint8Array)), 'the two oldest were evicted')
    assert.ok(kept.has(toHex(heads[MAX_SET_HEADS + 1] as Uint8Array)), 'the newest is kept')
  })

  test('hostile values never make it throw: a bad incoming value keeps the stored set, a bad stored one is replaced', async () => {
    const [alice, bob] = await signers(2) as [Signer, Signer]
    const a1 = await head(alice, { a: 1 })
    const ds = mergingDatastore(new MemoryDatastore())
    await ds.put(DS_KEY, recordOf(a1))
    const garbage = [
      new Uint8Array([0xff, 0x00, 0x13]),
      new Uint8Array(0),
      encodeHeadSet([]),
      encodeHeadSet([new Uint8Array([1, 2, 3])]),
      (await import('cborg')).encode({ v: 3, h: [1, 'x', null] }),
      (await import('cborg')).encode({ v: 3, h: 'not a list' }),
      (await import('cborg')).encode([1, 2, 3]),
      (await import('cborg')).encode({ __proto__: { length: 1 }, v: 3 })
    ]
    for (const value of garbage) {
      await ds.put(DS_KEY, recordOf(value))
      assert.deepEqual(hexes(headEntries(await stored(ds))), hexes([a1]))
    }
    // A set holding one bad head among good ones: the good ones are merged in, the bad one left out.
    const b1 = await head(bob, { b: 1 })
    await ds.put(DS_KEY, recordOf(encodeHeadSet([b1, new Uint8Array([9, 9, 9])])))
    assert.deepEqual(hexes(headEntries(await stored(ds))), hexes([a1, b1]))

    // Stored bytes that are not a record, or a record of garbage: replaced by the incoming head.
    const inner = new MemoryDatastore()
    const corrupt = mergingDatastore(inner)
    await inner.put(DS_KEY, new Uint8Array([1, 2, 3, 4]))
    await corrupt.put(DS_KEY, recordOf(a1))
    assert.deepEqual(hexes(headEntries(await stored(corrupt))), hexes([a1]))
    await inner.put(DS_KEY, recordOf(new Uint8Array([0xff])))
    await corrupt.put(DS_KEY, recordOf(b1))
    assert.deepEqual(hexes(headEntries(await stored(corrupt))), hexes([b1]))
    // Nothing well-formed on either side: the incoming bytes are stored as they are (the validator decides, not the merge).
    await inner.put(DS_KEY, recordOf(new Uint8Array([0xff])))
    await corrupt.put(DS_KEY, recordOf(new Uint8Array([0xfe])))
    assert.equal(toHex(Libp2pRecord.deserialize(await inner.get(DS_KEY)).value), 'fe')
    // Incoming bytes that are not a kad-dht record at all are stored as they are too.
    await corrupt.put(DS_KEY, new Uint8Array([7, 7]))
    assert.equal(toHex(await inner.get(DS_KEY)), '0707')
  })

  test('other keys and namespaces pass through unchanged; batches merge too', async () => {
    const [alice, bob] = await signers(2) as [Signer, Signer]
    const inner = new MemoryDatastore()
    const ds = mergingDatastore(inner)
    const block = new TextEncoder().encode('a block')
    const blockRecord = recordOf(block, blockKey(sha256(block)))
    await ds.put(DS_KEY, blockRecord)
    await ds.put(DS_KEY, blockRecord)
    assert.equal(toHex(await inner.get(DS_KEY)), toHex(blockRecord))
    await ds.put(new Key('/peers/x'), new Uint8Array([1]))
    assert.equal(toHex(await inner.get(new Key('/peers/x'))), '01')

    const a1 = await head(alice, { a: 1 })
    const b1 = await head(bob, { b: 1 })
    const batched = mergingDatastore(new MemoryDatastore())
    const batch = batched.batch()
    batch.put(DS_KEY, recordOf(a1))
    batch.put(DS_KEY, recordOf(b1))
    batch.put(new Key('/other'), new Uint8Array([2]))
    await batch.commit()
    assert.deepEqual(hexes(headEntries(await stored(batched))), hexes([a1, b1]))
    assert.equal(toHex(await batched.get(new Key('/other'))), '02')
  })
})

describe('the head validator', () => {
  const validate = dhtValidators[HEAD_NS] as (key: Uint8Array, value: Uint8Array) => Promise<void>

  test('accepts one head and head sets of distinct authors; refuses a set with a forged or garbled head, or an author twice', async () => {
    const [alice, bob] = await signers(2) as [Signer, Signer]
    const a1 = await head(alice, { a: 1 })
    const b1 = await head(bob, { b: 1 })
    await validate(KEY, a1)
    await validate(KEY, encodeHeadSet([a1, b1]))
    const forged = await forgeHead(KEY, state({ evil: true }), bob.publicKey)
    await assert.rejects(validate(KEY, encodeHeadSet([a1, forged])), { name: 'SignatureError' })
    await assert.rejects(validate(KEY, encodeHeadSet([a1, new Uint8Array([1, 2])])), { name: 'MalformedUpdateError' })
    await assert.rejects(validate(KEY, encodeHeadSet([a1, await head(alice, { a: 2 })])), { name: 'MalformedUpdateError' })
    await assert.rejects(validate(KEY, encodeHeadSet([])), { name: 'MalformedUpdateError' })
    const many = await Promise.all((await signers(MAX_SET_HEADS + 1)).map(async (s) => await head(s, {})))
    await assert.rejects(validate(KEY, encodeHeadSet(many)), { name: 'MalformedUpdateError' })
    // A head moved to another key, or re-dated, does not verify.
    await assert.rejects(validate(headKey('merging-datastore-test', 'todos', 'eggs'), a1), { name: 'SignatureError' })
    const { decode, encode } = await import('cborg')
    await assert.rejects(validate(KEY, encode({ ...(decode(a1) as object), t: 1 })), { name: 'SignatureError' })
  })
})
