/**
 * Hostile gossip: a raw peer publishes on a database's topic what no
 * honest peer would. Each time the honest peer keeps running, its records
 * are unchanged, a `rejected` event names the reason, and honest writes
 * still arrive.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { encode } from 'cborg'
import * as Y from 'yjs'
import { MAX_ENVELOPE_BYTES } from '../../src/sync/envelope.ts'
import { REPLAY_WINDOW_MS } from '../../src/sync/replay.ts'
import { prng } from '../helpers/random.ts'
import { waitFor } from '../helpers/wait.ts'
import { randomBytes, recordUpdate, rewrap, signEnvelope, truncations } from './forge.ts'
import { Arena, assertKept, snapshot, stillReplicates, type Adversary, type Honest } from './harness.ts'

const arena = new Arena()
after(async () => { await arena.close() })

describe('hostile gossip on an open database', { timeout: 60_000 }, () => {
  let a: Honest
  let b: Honest
  let adversary: Adversary
  let address: string
  let kept: string
  before(async () => {
    [a, b] = await arena.honest(2) as [Honest, Honest]
    address = a.db.address
    adversary = await arena.adversary()
    await adversary.connect(a, address)
    kept = await stillReplicates(b, a, 'kept')
  })

  /** Runs an attack, then checks a's records did not change and b's writes still reach a. */
  async function unchangedAfter (attack: () => Promise<void>): Promise<void> {
    const before = await snapshot(a)
    a.log.clear()
    await attack()
    assert.equal(await snapshot(a), before, 'the honest records did not change')
    await stillReplicates(b, a)
  }

  test('the harness speaks the protocol: a well-signed envelope of the adversary is accepted', async () => {
    const state = Y.encodeStateAsUpdate(await a.todos.doc(kept))
    await adversary.publishSigned(address, [{ collection: 'todos', target: 'record', id: kept, update: recordUpdate({ priority: 7 }, state) }])
    await waitFor(async () => (await a.todos.get(kept))?.priority === 7, 'the adversary\'s (legitimate) write')
    assert.equal(a.log.total, 0, a.log.describe())
  })

  test('random bytes: MalformedMessageError', async () => {
    await unchangedAfter(async () => {
      for (const n of [0, 1, 17, 1000, 64 * 1024]) {
        const junk = randomBytes(n)
        // Never an envelope's first byte: a random byte equal to it (1 in 256) made the 1-byte
        // truncation below a repeat, which gossipsub refuses to publish (PublishError.Duplicate).
        if (n > 0) junk[0] = 0xff
        assert.ok(await adversary.publishRaw(address, junk) >= 1)
      }
      await a.log.waitFor('MalformedMessageError', 'gossip')
    })
  })

  test('truncated and garbled envelopes: MalformedMessageError for each', async () => {
    const good = await signEnvelope([{ collection: 'todos', target: 'record', id: kept, update: recordUpdate({ title: 'x' }) }], adversary.signer, address)
    const bad = [
      ...[1, 10, 50, good.length - 1].map((n) => good.slice(0, n)),
      encode([2, adversary.signer.publicKey, new Uint8Array(64)]), // three fields
      encode([1, adversary.signer.publicKey, new Uint8Array(64), new Uint8Array(0)]), // an old version
      encode([2, 'not a key', new Uint8Array(64), encode([Date.now(), 1, []])]),
      encode([2, adversary.signer.publicKey, new Uint8Array(63), encode([Date.now(), 1, []])]),
      encode([2, adversary.signer.publicKey, new Uint8Array(64), encode([Date.now(), -1, [['todos', 0, 'x', null]]])]),
      encode([2, adversary.signer.publicKey, new Uint8Array(64), encode([Date.now(), 1, [['todos', 7, 'x', null]]])]),
      encode([2, adversary.signer.publicKey, new Uint8Array(64), encode([Date.now(), 1, []])]) // no entries
    ]
    await unchangedAfter(async () => {
      for (const bytes of bad) await adversary.publishRaw(address, bytes)
      await waitFor(() => (a.log.byName.get('MalformedMessageError') ?? 0) >= bad.length, `${bad.length} MalformedMessageErrors (got: ${a.log.describe()})`)
    })
  })

  test('truncated Yjs updates in a well-signed envelope: MalformedUpdateError, the record untouched', async () => {
    const state = Y.encodeStateAsUpdate(await a.todos.doc(kept))
    const update = recordUpdate({ title: 'overwritten', done: true }, state)
    const damaged = truncations(update)
    await unchangedAfter(async () => {
      for (const u of damaged) await adversary.publishSigned(address, [{ collection: 'todos', target: 'record', id: kept, update: u }])
      // And one for the collection index.
      await adversary.publishSigned(address, [{ collection: 'todos', target: 'index', update: update.slice(0, 3) }])
      await waitFor(() => (a.log.byName.get('MalformedUpdateError') ?? 0) >= damaged.length + 1,
        `${damaged.length + 1} MalformedUpdateErrors (got: ${a.log.describe()})`)
      assert.ok(a.log.has('MalformedUpdateError', 'gossip'))
    })
    assert.equal((await a.todos.get(kept))?.title, 'kept')
  })

  test('yjs#687: the bytes that hang Y.mergeUpdatesV2, and a V1 update declaring 2^32 structs: MalformedUpdateError at once', async () => {
    const hang = Uint8Array.from(Buffer.from('00010000000001000100010200001602000001fdffffffff7f0000', 'hex'))
    const huge = Uint8Array.from([1, 0xff, 0xff, 0xff, 0xff, 0x0f, 5, 0, 0, 1])
    await unchangedAfter(async () => {
      await adversary.publishSigned(address, [
        { collection: 'todos', target: 'record', id: kept, update: hang },
        { collection: 'todos', target: 'index', update: hang },
        { collection: 'todos', target: 'record', id: kept, update: huge }
      ])
      await waitFor(() => (a.log.byName.get('MalformedUpdateError') ?? 0) >= 3, `3 MalformedUpdateErrors (got: ${a.log.describe()})`)
    })
  })

  test('garbled Yjs updates (seeded byte flips) to a record: each refused or applied as any write would be; reads never fail', async () => {
    const victim = await stillReplicates(b, a, 'victim')
    const state = Y.encodeStateAsUpdate(await a.todos.doc(victim))
    const update = recordUpdate({ title: 'garbled', done: true, priority: 3 }, state)
    const random = prng(0x5eed)
    const garbled = Array.from({ length: 40 }, () => {
      const copy = update.slice()
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256)
      return copy
    })
    const before = await snapshot(a)
    a.log.clear()
    for (const u of garbled) await adversary.publishSigned(address, [{ collection: 'todos', target: 'record', id: victim, update: u }])
    await stillReplicates(b, a)
    // Every other record is as it was; the victim still reads (whatever the garbled writes that decoded made of it).
    await assertKept(a, before, victim)
    await a.todos.get(victim)
    for (const name of a.log.byName.keys()) assert.ok(['MalformedUpdateError', 'InvalidRecordError'].includes(name), `unexpected ${name}: ${a.log.describe()}`)
    console.log(`# garbled updates: ${garbled.length} sent, ${a.log.byName.get('MalformedUpdateError') ?? 0} refused as MalformedUpdateError`)
  })

  test('a valid envelope of another database, replayed on this one: SignatureError', async () => {
    // An honest writer of another database, whose envelopes the adversary records.
    const [other] = await arena.honest(1, { name: 'another-database' }) as [Honest]
    await adversary.connect(other, other.db.address)
    const captured = adversary.capture(other.db.address)
    await waitFor(() => other.db.status.peers === 1, 'the adversary on the other topic')
    // A write to a record of the same collection and id, in the other database.
    await other.todos.insert({ title: 'of another database', done: false }, { id: kept })
    await waitFor(() => captured.length > 0, 'an envelope of the other database')
    await unchangedAfter(async () => {
      // (In new bytes: the adversary's gossipsub saw these already and would not publish them again.)
      for (const envelope of captured) await adversary.publishRaw(address, rewrap(envelope))
      await a.log.waitFor('SignatureError', 'gossip')
    })
  })

  test('forged signatures: random, over altered bytes, of another author, moved from another envelope: SignatureError each', async () => {
    const entries = [{ collection: 'todos', target: 'record' as const, id: kept, update: recordUpdate({ title: 'forged' }, Y.encodeStateAsUpdate(await a.todos.doc(kept))) }]
    const honestKey = b.peer.privateKey.publicKey.raw
    const other = await signEnvelope([{ collection: 'todos', target: 'record', id: 'unrelated', update: recordUpdate({ title: 'x' }) }], adversary.signer, address)
    const [, , stolen] = (await import('cborg')).decode(other) as [number, Uint8Array, Uint8Array, Uint8Array]
    const forged = [
      await signEnvelope(entries, adversary.signer, address, { signature: randomBytes(64) }),
      await signEnvelope(entries, adversary.signer, address, { author: honestKey }), // claims to be b, signed by the adversary
      await signEnvelope(entries, adversary.signer, address, { signature: stolen }),
      await signEnvelope(entries, adversary.signer, address, { author: new Uint8Array(32).fill(0xff) }) // not a curve point
    ]
    // Signed, then one byte of the body changed.
    const altered = await signEnvelope(entries, adversary.signer, address)
    altered[altered.length - 5] = (altered[altered.length - 5] as number) ^ 0x01
    forged.push(altered)
    await unchangedAfter(async () => {
      for (const bytes of forged) await adversary.publishRaw(address, bytes)
      await waitFor(() => (a.log.byName.get('SignatureError') ?? 0) >= forged.length - 1, `SignatureErrors (got: ${a.log.describe()})`)
    })
  })

  test('replays: an old envelope outside the window is refused; an exact replay changes nothing', async () => {
    const state = Y.encodeStateAsUpdate(await a.todos.doc(kept))
    const update = recordUpdate({ title: 'stale' }, state)
    await unchangedAfter(async () => {
      await adversary.publishSigned(address, [{ collection: 'todos', target: 'record', id: kept, update }], { ts: Date.now() - REPLAY_WINDOW_MS - 60_000 })
      await adversary.publishSigned(address, [{ collection: 'todos', target: 'record', id: kept, update }], { ts: Date.now() + REPLAY_WINDOW_MS + 60_000 })
      await waitFor(() => (a.log.byName.get('MalformedMessageError') ?? 0) >= 2, `two stale envelopes refused (got: ${a.log.describe()})`)
    })
    // b's own envelope, captured and replayed in new bytes after a later write of b: the later write stands.
    const captured = adversary.capture(address)
    await waitFor(() => b.db.status.peers === 2, 'the adversary on the topic')
    const id = await b.todos.insert({ title: 'first', done: false })
    await waitFor(() => captured.length > 0, 'b\'s envelope captured')
    const first = captured.slice()
    await b.todos.update(id, (t) => { t.title = 'second' })
    await waitFor(async () => (await a.todos.get(id))?.title === 'second', 'b\'s second write at a')
    const before = await snapshot(a)
    a.log.clear()
    for (const envelope of first) await adversary.replay(address, envelope)
    await stillReplicates(b, a)
    assert.equal((await a.todos.get(id))?.title, 'second')
    await assertKept(a, before)
  })

  test('a forged copy of an envelope (its author, time and counter, a bad signature) sent first does not shut the genuine one out', async () => {
    const state = Y.encodeStateAsUpdate(await a.todos.doc(kept))
    const entries = [{ collection: 'todos', target: 'record' as const, id: kept, update: recordUpdate({ priority: 42 }, state) }]
    const ts = Date.now()
    const seq = 7_000_000
    const forged = await signEnvelope(entries, adversary.signer, address, { ts, seq, signature: new Uint8Array(64).fill(7) })
    const genuine = await signEnvelope(entries, adversary.signer, address, { ts, seq })
    a.log.clear()
    assert.ok(await adversary.publishRaw(address, forged) >= 1)
    await a.log.waitFor('SignatureError', 'gossip')
    assert.notEqual((await a.todos.get(kept))?.priority, 42)
    assert.ok(await adversary.publishRaw(address, genuine) >= 1)
    await waitFor(async () => (await a.todos.get(kept))?.priority === 42, 'the genuine envelope to be applied')
  })

  test('an envelope over 4 MiB never reaches the database; over MAX_ENVELOPE_BYTES is refused; just under it is accepted', async () => {
    const state = Y.encodeStateAsUpdate(await a.todos.doc(kept))
    const big = (n: number): Uint8Array => recordUpdate({ title: 'x'.repeat(n) }, state)
    const fit = async (target: number): Promise<Uint8Array> => {
      // Grow the title until the signed envelope is `target` bytes (within a few).
      let n = target - 400
      for (;;) {
        const bytes = await signEnvelope([{ collection: 'todos', target: 'record', id: kept, update: big(n) }], adversary.signer, address)
        if (bytes.length >= target - 8) return bytes
        n += target - bytes.length
      }
    }
    const over = await fit(MAX_ENVELOPE_BYTES + 16)
    assert.ok(over.length > MAX_ENVELOPE_BYTES)
    const huge = await fit(4 * 1024 * 1024 + 64 * 1024)
    await unchangedAfter(async () => {
      await adversary.publishRaw(address, over)
      await a.log.waitFor('MalformedMessageError', 'gossip', /exceeds/)
      // Over 4 MiB: the adversary's own gossipsub will not send it, so it goes by hand. The honest
      // peer's gossipsub framing refuses it before Kadmium sees it (so no rejected event can name it);
      // what the adversary sends next is still heard.
      a.log.clear()
      await adversary.publishRpc(a, address, huge)
      await adversary.publishRpc(a, address, randomBytes(100))
      await a.log.waitFor('MalformedMessageError', 'gossip', /not CBOR/)
    })
    // Just under the limit: a legitimate (large) write, accepted.
    const under = await fit(MAX_ENVELOPE_BYTES - 64)
    assert.ok(under.length <= MAX_ENVELOPE_BYTES)
    assert.ok(await adversary.publishRaw(address, under) >= 1)
    await waitFor(async () => ((await a.todos.get(kept))?.title.length ?? 0) > MAX_ENVELOPE_BYTES - 1024, 'the envelope just under the limit to be applied', 15_000)
  })
})

describe('hostile gossip on a restricted database', { timeout: 60_000 }, () => {
  test('a revoked writer\'s envelopes: UnauthorizedWriterError; its replayed old envelopes change nothing', async () => {
    const [owner, member] = await arena.honest(2, { name: 'restricted-adversary', restricted: true }) as [Honest, Honest]
    const address = owner.db.address
    const adversary = await arena.adversary()
    await adversary.connect(owner, address)
    await owner.db.access.grant(adversary.id)
    const id = await owner.todos.insert({ title: 'the owner\'s', done: false })
    // While granted, its writes count.
    const state = Y.encodeStateAsUpdate(await owner.todos.doc(id))
    const granted = await adversary.publishSigned(address, [{ collection: 'todos', target: 'record', id, update: recordUpdate({ priority: 1 }, state) }])
    await waitFor(async () => (await owner.todos.get(id))?.priority === 1, 'the granted write')
    await owner.db.access.revoke(adversary.id)
    await waitFor(() => !member.db.access.canWrite(adversary.id), 'the revocation at the member')

    const before = await snapshot(owner)
    const after1 = Y.encodeStateAsUpdate(await owner.todos.doc(id))
    await adversary.publishSigned(address, [{ collection: 'todos', target: 'record', id, update: recordUpdate({ title: 'after revocation' }, after1) }])
    await owner.log.waitFor('UnauthorizedWriterError', 'gossip')
    // A write claiming to be a writer with the adversary's signature; and the granted envelope again.
    await adversary.publishSigned(address, [{ collection: 'todos', target: 'record', id, update: recordUpdate({ title: 'as the member' }, after1) }], { author: member.peer.privateKey.publicKey.raw })
    await owner.log.waitFor('SignatureError', 'gossip')
    await adversary.replay(address, granted)
    await stillReplicates(owner, member)
    await assertKept(owner, before)
    assert.equal((await owner.todos.get(id))?.title, 'the owner\'s')
  })
})
