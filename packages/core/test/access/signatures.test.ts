/**
 * Signed envelopes, heads and access operations: what verifies, what does
 * not, and what it costs on the wire.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { encode } from 'cborg'
import * as Y from 'yjs'
import { MalformedMessageError, SignatureError, UnauthorizedWriterError } from '@kadmium/core'
import { decodeEnvelope, encodeEnvelope, openEnvelope } from '../../src/sync/envelope.ts'
import { encodeHead, headParts, verifyHead } from '../../src/dht/head.ts'
import { dhtValidators } from '../../src/dht/validators.ts'
import { HEAD_NS, headKey } from '../../src/dht/dht-keys.ts'
import { AccessList } from '../../src/access/access-list.ts'
import { signerOf, type Signer } from '../../src/access/identity.ts'
import { ReplayFilter, replayKey } from '../../src/sync/replay.ts'
import { databaseAddress } from '../../src/manifest/address.ts'

const alice = signerOf(await generateKeyPair('Ed25519'))
const mallory = signerOf(await generateKeyPair('Ed25519'))
const ADDRESS = databaseAddress('signatures-test')
const OTHER = databaseAddress('another-database')

function smallUpdate (): Uint8Array {
  const doc = new Y.Doc({ guid: 'x' })
  doc.getMap('fields').set('done', true)
  return Y.encodeStateAsUpdate(doc)
}

const entry = { collection: 'todos', target: 'record' as const, id: '01JDZ8Q4W5N7K3M2P9R6T8V0XY', update: smallUpdate() }

describe('envelopes', () => {
  test('round-trip: the author is known, the entries intact', async () => {
    const bytes = await encodeEnvelope([entry], alice, { address: ADDRESS })
    const envelope = await openEnvelope(decodeEnvelope(bytes), { address: ADDRESS })
    assert.equal(envelope.from, alice.id)
    assert.deepEqual(envelope.entries, [entry])
  })

  test('overhead of a one-field update is at most 150 bytes plus the 64-byte signature', async () => {
    const bytes = await encodeEnvelope([entry], alice, { address: ADDRESS })
    const overhead = bytes.length - entry.update.length
    console.log(`# envelope ${bytes.length} B for a ${entry.update.length} B update: overhead ${overhead} B (${overhead - 64} B without the signature)`)
    assert.ok(overhead - 64 <= 150, `overhead ${overhead - 64} B without the signature`)
  })

  test('an envelope moved to another database does not verify', async () => {
    const bytes = await encodeEnvelope([entry], alice, { address: ADDRESS })
    await assert.rejects(openEnvelope(decodeEnvelope(bytes), { address: OTHER }), SignatureError)
  })

  test('a tampered body, a forged author or a borrowed signature does not verify', async () => {
    const bytes = await encodeEnvelope([entry], alice, { address: ADDRESS })
    const raw = decodeEnvelope(bytes)
    const body = raw.body.slice()
    body[body.length - 1] = (body[body.length - 1] as number) ^ 1
    const tampered = encode([2, raw.author, raw.signature, body])
    await assert.rejects(openEnvelope(decodeEnvelope(tampered), { address: ADDRESS }), SignatureError)
    const forged = encode([2, mallory.publicKey, raw.signature, raw.body])
    await assert.rejects(openEnvelope(decodeEnvelope(forged), { address: ADDRESS }), SignatureError)
    const other = decodeEnvelope(await encodeEnvelope([{ ...entry, id: 'another' }], alice, { address: ADDRESS }))
    const borrowed = encode([2, alice.publicKey, raw.signature, other.body])
    await assert.rejects(openEnvelope(decodeEnvelope(borrowed), { address: ADDRESS }), SignatureError)
  })

  test('unsigned and malformed envelopes are refused by shape', async () => {
    assert.throws(() => decodeEnvelope(encode({ b: encode({ v: 1 }) })), MalformedMessageError)
    assert.throws(() => decodeEnvelope(encode([2, alice.publicKey, new Uint8Array(10), new Uint8Array(1)])), MalformedMessageError)
    assert.throws(() => decodeEnvelope(new Uint8Array([0xff, 0x00])), MalformedMessageError)
  })

  test('stale and replayed envelopes are told apart from fresh ones; only a remembered (genuine) one makes a replay', () => {
    const filter = new ReplayFilter(60_000)
    const now = Date.now()
    const key = replayKey(alice.publicKey, now, 1)
    assert.equal(filter.check(key, now, now), 'fresh')
    // Checked but not remembered (its signature did not verify): the same key is still fresh.
    assert.equal(filter.check(key, now, now), 'fresh')
    filter.remember(key, now)
    assert.equal(filter.check(key, now, now), 'replay')
    assert.equal(filter.check(replayKey(alice.publicKey, now, 2), now, now), 'fresh')
    assert.equal(filter.check(replayKey(mallory.publicKey, now, 1), now, now), 'fresh')
    assert.equal(filter.check(replayKey(alice.publicKey, now - 61_000, 3), now - 61_000, now), 'stale')
    assert.equal(filter.check(replayKey(alice.publicKey, now + 61_000, 4), now + 61_000, now), 'stale')
  })
})

describe('heads', () => {
  const key = headKey(ADDRESS, 'todos', 'milk')
  const parts = [[new Uint8Array(32).fill(1)]]

  test('a signed head verifies for its key and names its author', async () => {
    const bytes = await encodeHead(key, { parts }, alice)
    const signed = await verifyHead(key, bytes)
    assert.deepEqual(signed.author, alice.publicKey)
    assert.deepEqual((await headParts(key, signed)).parts, parts)
  })

  test('the DHT validator refuses a head under another key, and an unsigned one', async () => {
    const bytes = await encodeHead(key, { parts }, alice)
    const validate = dhtValidators[HEAD_NS] as (k: Uint8Array, v: Uint8Array) => Promise<void>
    await validate(key, bytes)
    await assert.rejects(validate(headKey(ADDRESS, 'todos', 'eggs'), bytes), SignatureError)
    await assert.rejects(validate(key, encode({ v: 1, parts })))
    const decoded = (await import('cborg')).decode(bytes) as Record<string, unknown>
    await assert.rejects(validate(key, encode({ ...decoded, k: mallory.publicKey })), SignatureError)
    assert.ok(new TextDecoder().decode(key).startsWith(`/${HEAD_NS}/`))
  })
})

describe('the access list', () => {
  async function ops (owner: Signer): Promise<{ list: AccessList, bytes: Uint8Array[] }> {
    const list = new AccessList(ADDRESS, [owner.publicKey])
    const w = mallory.publicKey
    const bytes = [
      await list.sign(owner, 'grant', w, 1000),
      await list.sign(owner, 'revoke', w, 2000),
      await list.sign(owner, 'grant', w, 3000),
      await list.sign(owner, 'revoke', w, 3000)
    ]
    return { list, bytes }
  }

  test('every order of arrival gives the same writers; a revocation wins a tie', async () => {
    const { bytes } = await ops(alice)
    for (const order of [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]]) {
      const list = new AccessList(ADDRESS, [alice.publicKey])
      for (const i of order) await list.add(bytes[i] as Uint8Array)
      assert.equal(list.mayWrite(mallory.publicKey), false, `order ${order.join()}`)
    }
    const list = new AccessList(ADDRESS, [alice.publicKey])
    for (const b of bytes.slice(0, 3)) await list.add(b)
    assert.equal(list.mayWrite(mallory.publicKey), true)
    assert.deepEqual(new Set(list.writers()), new Set([alice.id, mallory.id]))
  })

  test('operations signed by a non-owner, for another database, or tampered are refused', async () => {
    const list = new AccessList(ADDRESS, [alice.publicKey])
    const selfGrant = await list.sign(mallory, 'grant', mallory.publicKey, 1)
    await assert.rejects(list.add(selfGrant), UnauthorizedWriterError)
    const elsewhere = await new AccessList(OTHER, [alice.publicKey]).sign(alice, 'grant', mallory.publicKey, 1)
    await assert.rejects(list.add(elsewhere), SignatureError)
    const good = await list.sign(alice, 'grant', mallory.publicKey, 1)
    const bad = good.slice()
    bad[10] = (bad[10] as number) ^ 1
    await assert.rejects(list.add(bad), (e: Error) => e instanceof SignatureError || e instanceof MalformedMessageError)
    await assert.rejects(list.add(new Uint8Array([1, 2, 3])), MalformedMessageError)
    assert.equal(list.mayWrite(mallory.publicKey), false)
    assert.throws(() => { list.check(mallory.publicKey, 'todos') }, UnauthorizedWriterError)
    list.check(mallory.publicKey, '$access')
  })
})
