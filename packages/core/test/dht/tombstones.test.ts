/**
 * Deleted records in the DHT: a head with the deleted marker (a tombstone)
 * wins over every state, from whichever replica and whenever it arrives;
 * only an author allowed to write can delete; the marker is sealed in an
 * encrypted database; heads of the format before the marker are refused.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { decode, encode } from 'cborg'
import type { LateEvent, RejectedEvent, RepairedEvent } from '../../src/dht/dht-store.ts'
import { encodeHead, headEntries, headParts, parseHead, TOMBSTONE, verifyHead } from '../../src/dht/head.ts'
import { BLOCK_NS, HEAD_NS, headKey } from '../../src/dht/dht-keys.ts'
import { putValue } from '../../src/dht/kad-calls.ts'
import { dhtValidators } from '../../src/dht/validators.ts'
import { deriveSecret } from '../../src/crypto/secret.ts'
import { UnauthorizedWriterError } from '../../src/errors.ts'
import { bytesEqual } from '../../src/util/hash.ts'
import { signedBytes } from '../../src/access/identity.ts'
import { waitFor } from '../helpers/wait.ts'
import { edit, fieldsOf } from './states.ts'
import type { ReplicaSecurity } from '../../src/access/replica-security.ts'
import { dhtFixture } from './fixture.ts'
import { connectAll, gated, newSecurity, readHeads, readValue, type DhtNode } from './helpers.ts'

const ADDRESS = 'tombstones-test-database'

describe('tombstones in the DHT', { timeout: 30_000 }, () => {
  const { mesh, storeOn, extraNode } = dhtFixture(ADDRESS, 5)
  /** The one server that validates nothing (a careless or hostile peer), joined to the mesh. */
  let careless: Promise<DhtNode> | undefined
  const carelessNode = async (): Promise<DhtNode> => await (careless ??= (async () => {
    const node = await extraNode({ validators: { [BLOCK_NS]: () => {}, [HEAD_NS]: () => {} } })
    await connectAll([...mesh, node])
    return node
  })())
  /** A node that holds what its store puts, alone, before it joins the mesh (it then answers "later" when gated). */
  const loner = async (): Promise<DhtNode> => await extraNode()

  test('a tombstone wins over every state, a later head of another author\'s too; a read tells deleted from not found', async () => {
    const [alice, bob] = [await newSecurity(), await newSecurity()]
    const base = edit({ title: 'milk' })
    const a = storeOn(mesh[0] as DhtNode, alice)
    // (Without `replicas`, a put resolves once it reached every closest peer.)
    assert.ok(await a.putRecord('todos', 'milk', base) >= 2)
    assert.ok(await a.putRecord('todos', 'milk', TOMBSTONE) >= 2)
    // Bob missed the delete: his head, newer, holds an edit of the live record.
    assert.ok(await storeOn(mesh[1] as DhtNode, bob).putRecord('todos', 'milk', edit({ done: true }, base)) >= 2)
    const key = headKey(ADDRESS, 'todos', 'milk')
    const heads = await readHeads(key, await readValue(mesh[2] as DhtNode, key))
    assert.deepEqual(heads.map((h) => h.deleted === true).sort(), [false, true], 'servers keep Alice\'s tombstone (her newest head) beside Bob\'s head')

    const reader = storeOn(mesh[3] as DhtNode, await newSecurity())
    assert.equal(await reader.getRecordContent('todos', 'milk'), TOMBSTONE)
    assert.equal(await reader.getRecord('todos', 'milk'), undefined)
    assert.equal(await reader.getRecordContent('todos', 'milk', { complete: true }), TOMBSTONE, 'every replica merged: still deleted')
    assert.equal(await reader.getRecordContent('todos', 'never-written'), undefined, 'not found is not deleted')
  })

  test('a tombstone only a later replica holds arrives as a late event; after a deleted answer, later states change nothing', async () => {
    const [alice, bob] = [await newSecurity(), await newSecurity()]
    const base = edit({ title: 'bread' })
    assert.ok(await storeOn(mesh[0] as DhtNode, alice).putRecord('todos', 'bread', base) >= 1)
    const bobs = await loner()
    assert.equal(await storeOn(bobs, bob).putRecord('todos', 'bread', TOMBSTONE), 0)
    await connectAll([...mesh, bobs])
    const { holder, open } = gated(mesh[4] as DhtNode, { getFrom: bobs.peerId })
    const reader = storeOn(holder, await newSecurity())
    const late: LateEvent[] = []
    reader.on('late', (e) => late.push(e))
    assert.deepEqual(fieldsOf(await reader.getRecord('todos', 'bread')), { title: 'bread' }, 'the first replicas\' state')
    open()
    await waitFor(() => late.length > 0, 'the later tombstone')
    assert.equal(late.at(-1)?.deleted, true)
    assert.equal(late.at(-1)?.id, 'bread')

    // The other way round: the first replicas hold a tombstone, a later one a state.
    const carol = await newSecurity()
    assert.ok(await storeOn(mesh[1] as DhtNode, alice).putRecord('todos', 'jam', TOMBSTONE) >= 1)
    const carols = await loner()
    assert.equal(await storeOn(carols, carol).putRecord('todos', 'jam', edit({ title: 'jam' })), 0)
    await connectAll([...mesh, carols])
    const second = gated(mesh[2] as DhtNode, { getFrom: carols.peerId })
    const reader2 = storeOn(second.holder, await newSecurity())
    const late2: LateEvent[] = []
    reader2.on('late', (e) => late2.push(e))
    assert.equal(await reader2.getRecordContent('todos', 'jam'), TOMBSTONE)
    second.open()
    await reader2.flush()
    assert.deepEqual(late2, [], 'a deleted record stays deleted')
  })

  test('a forged tombstone is refused by honest servers and skipped by readers; a non-writer\'s tombstone is ignored', async () => {
    const writer = await newSecurity()
    const mallory = await newSecurity()
    const key = headKey(ADDRESS, 'todos', 'salt')
    await storeOn(mesh[0] as DhtNode, writer).putRecord('todos', 'salt', edit({ title: 'salt' }))

    // Mallory's tombstone claiming the writer's key: its signature does not verify.
    const mine = decode(await encodeHead(key, { parts: [], deleted: true }, mallory.signer)) as Record<string, unknown>
    const forged = encode({ ...mine, k: writer.signer.publicKey })
    await assert.rejects(verifyHead(key, forged), { name: 'SignatureError' })
    // A careless peer (it validates nothing) stores it; honest servers do not.
    assert.equal(await putValue((await carelessNode()).services.dht, key, forged, AbortSignal.timeout(5000)), 0, 'no honest server takes it')
    // A reader's kad-dht refuses the careless peer's value (its validator checks every head): the record stays.
    const rejected: RejectedEvent[] = []
    const reader = storeOn(mesh[3] as DhtNode, await newSecurity())
    reader.on('rejected', (e) => rejected.push(e))
    assert.deepEqual(fieldsOf(await reader.getRecord('todos', 'salt', { complete: true, readRepair: false })), { title: 'salt' })
    assert.ok(rejected.some((e) => /^SignatureError: /.test(e.reason)), 'the forged tombstone is reported')

    // Mallory's own tombstone, well signed, in a database only the writer may write.
    assert.ok(await storeOn(mesh[1] as DhtNode, mallory).putRecord('todos', 'salt', TOMBSTONE) >= 1, 'servers cannot tell who may write')
    const onlyWriter: ReplicaSecurity = {
      ...writer,
      access: { restricted: true, check: (author) => { if (!bytesEqual(author, writer.signer.publicKey)) throw new UnauthorizedWriterError('not a writer') } }
    }
    const member = storeOn(mesh[2] as DhtNode, onlyWriter)
    const refused: RejectedEvent[] = []
    member.on('rejected', (e) => refused.push(e))
    assert.deepEqual(fieldsOf(await member.getRecord('todos', 'salt', { complete: true })), { title: 'salt' }, 'the record is not deleted')
    assert.ok(refused.some((e) => e.reason.startsWith('UnauthorizedWriterError:')), 'the non-writer\'s tombstone is reported')
  })

  test('in an encrypted database the marker is sealed: servers and outsiders cannot tell a deleted record', async () => {
    const secret = await deriveSecret({ key: crypto.getRandomValues(new Uint8Array(32)) }, new Uint8Array(0))
    const sealed: ReplicaSecurity = { ...await newSecurity(), sealer: secret }
    const s = storeOn(mesh[3] as DhtNode, sealed)
    await s.putRecord('todos', 'secret', edit({ title: 'secret' }), { replicas: 1 })
    await s.putRecord('todos', 'secret', TOMBSTONE, { replicas: 1 })
    const key = headKey(ADDRESS, 'todos', 'secret')
    const [entry] = headEntries(await readValue(mesh[3] as DhtNode, key))
    const head = parseHead(entry as Uint8Array)
    assert.equal(head.sealed, true)
    await assert.rejects(headParts(key, head), { name: 'MalformedUpdateError' }, 'without the key, nothing opens')
    assert.equal((await headParts(key, head, secret)).deleted, true, 'with it, the marker')
    const member = storeOn(mesh[4] as DhtNode, { ...await newSecurity(), sealer: secret })
    assert.equal(await member.getRecordContent('todos', 'secret'), TOMBSTONE)
  })

  test('read repair of a deleted record among many authors: a tombstone of the reader\'s own when none is among the newest heads', async () => {
    const key = headKey(ADDRESS, 'todos', 'crowded')
    await storeOn(mesh[0] as DhtNode, await newSecurity()).putRecord('todos', 'crowded', TOMBSTONE)
    // 8 authors who missed the delete write after it: the tombstone is the oldest head, the first that servers evict.
    for (let i = 0; i < 8; i++) await storeOn(mesh[i % mesh.length] as DhtNode, await newSecurity()).putRecord('todos', 'crowded', edit({ [`by${i}`]: i }))
    const reader = storeOn(mesh[1] as DhtNode, await newSecurity())
    const repaired: RepairedEvent[] = []
    reader.on('repaired', (e) => repaired.push(e))
    assert.equal(await reader.getRecordContent('todos', 'crowded', { complete: true }), TOMBSTONE)
    assert.equal(repaired.length, 1, 'a tombstone of the reader\'s was put')
    const heads = await readHeads(key, await readValue(mesh[2] as DhtNode, key))
    assert.equal(heads.length, 10)
    assert.equal(heads.filter((h) => h.deleted === true).length, 2, 'the first tombstone, and the reader\'s, newest')
    await reader.getRecordContent('todos', 'crowded', { complete: true })
    assert.equal(repaired.length, 1, 'the next read repairs nothing')
  })

  test('heads of format 3 (before the deleted marker) are refused with MalformedUpdateError', async () => {
    const author = await newSecurity()
    const key = headKey(ADDRESS, 'todos', 'old')
    // A v3 head as a Kadmium peer of the previous format signed it: payload [parts, inline], domain 'kadmium/head/3'.
    const t = Date.now()
    const p = encode([[], edit({ title: 'old' })])
    const time = new Uint8Array(8)
    new DataView(time.buffer).setBigUint64(0, BigInt(t))
    const s = await author.signer.sign(signedBytes('kadmium/head/3', key, time, p))
    const v3 = encode({ v: 3, k: author.signer.publicKey, t, s, p })
    assert.throws(() => parseHead(v3), { name: 'MalformedUpdateError' })
    await assert.rejects(verifyHead(key, v3), { name: 'MalformedUpdateError' })
    await assert.rejects(async () => { await dhtValidators[HEAD_NS]?.(key, v3) }, { name: 'MalformedUpdateError' })
    const v3Set = encode({ v: 3, h: [v3] })
    await assert.rejects(async () => { await dhtValidators[HEAD_NS]?.(key, v3Set) }, { name: 'MalformedUpdateError' })
    assert.throws(() => headEntries(v3Set), { name: 'MalformedUpdateError' })
    assert.equal(await putValue((await carelessNode()).services.dht, key, v3, AbortSignal.timeout(5000)), 0, 'no honest server stores it')
    // A reader skips it, and says why.
    const reader = storeOn(mesh[1] as DhtNode, await newSecurity())
    const rejected: RejectedEvent[] = []
    reader.on('rejected', (e) => rejected.push(e))
    assert.equal(await reader.getRecordContent('todos', 'old', { complete: true }), undefined)
    assert.ok(rejected.some((e) => /^MalformedUpdateError: /.test(e.reason)), 'the old head is reported')
  })
})
