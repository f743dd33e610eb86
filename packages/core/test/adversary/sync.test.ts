/**
 * Hostile catch-up sessions: a raw peer dials an honest peer's
 * `/kadmium/sync/1.0.0` and says what no honest peer would, stalls, or
 * never stops. Each time the session ends within its bounds, the honest
 * records are unchanged, the refusal is reported, and honest peers still
 * replicate and catch up.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { encode } from 'cborg'
import * as Y from 'yjs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { MAX_SYNC_MESSAGE_BYTES, TARGET_SYNC_MESSAGE_BYTES } from '../../src/sync/sync-messages.ts'
import { signerOf } from '../../src/access/identity.ts'
import { waitFor } from '../helpers/wait.ts'
import { nonce16, randomBytes, recordUpdate, truncations } from './forge.ts'
import { Arena, assertKept, QUIET, snapshot, stillReplicates, type Adversary, type Honest, type SyncHandle } from './harness.ts'
import { HeapProbe, mb } from './heap-probe.ts'

const arena = new Arena()
after(async () => { await arena.close() })

/** The honest peer's idle timeout in these tests (ms). */
const SYNC_TIMEOUT = 2000


describe('hostile catch-up sessions on an open database', { timeout: 90_000 }, () => {
  let a: Honest
  let b: Honest
  let adversary: Adversary
  let address: string
  let kept: string
  before(async () => {
    [a, b] = await arena.honest(2, { replication: { ...QUIET, syncTimeout: SYNC_TIMEOUT } }) as [Honest, Honest]
    address = a.db.address
    adversary = await arena.adversary()
    await adversary.connect(a)
    kept = await stillReplicates(b, a, 'kept')
  })

  /** A's state of the kept record: updates built on it win deterministically. */
  async function keptState (): Promise<Uint8Array> {
    return Y.encodeStateAsUpdate(await a.todos.doc(kept))
  }

  /**
   * Runs an attack on a fresh session, then checks: the honest peer ended
   * the session (reset), reported a failed session whose error is `name`,
   * changed no record, and still replicates live and by catch-up with b.
   * How long the session lasted is printed, not asserted (a busy machine
   * makes any time limit flaky); one that never ends fails the test at its
   * timeout.
   */
  async function refused (name: string, attack: (s: SyncHandle) => Promise<void>): Promise<SyncHandle> {
    const before = await snapshot(a)
    a.log.clear()
    const session = await adversary.openSync(a, address)
    await attack(session).catch(() => {}) // writes to a reset stream fail
    const end = await session.ended
    assert.ok(end.reset, 'the honest peer reset the stream')
    const failed = await a.log.waitForSyncError(name)
    console.log(`# ${name}: the session ended after ${end.afterMs} ms (${failed.error?.message.slice(0, 120)})`)
    assert.doesNotMatch(failed.error?.message ?? '', /due to timeout/, 'refused for what it sent, not by the idle timeout')
    await a.log.waitFor(name, 'sync')
    assert.equal(await snapshot(a), before, 'the honest records did not change')
    await stillHealthy()
    return session
  }

  /** b's writes reach a live, and a catch-up between a and b ends well. */
  async function stillHealthy (): Promise<void> {
    await stillReplicates(b, a)
    const errors = a.log.syncErrors.length
    await a.db.sync()
    await b.db.sync()
    assert.ok(!a.log.syncErrors.slice(errors).some((e) => e.peer === b.id), 'a catch-up session with b ended well')
  }

  test('the harness speaks the protocol: a well-signed session of the adversary is applied and ends cleanly', async () => {
    a.log.clear()
    const session = await adversary.openSync(a, address)
    await session.announce(1)
    await session.sendSigned('u', [['todos', kept, [recordUpdate({ priority: 5 }, await keptState())]]])
    await session.send({ t: 'x' })
    const end = await session.ended
    assert.ok(!end.reset && end.error === undefined, `a clean end (got ${String(end.error)})`)
    assert.equal((await a.todos.get(kept))?.priority, 5)
    assert.ok(session.received.some((m) => m.t === 'x'), 'the honest peer sent its side')
    assert.equal(a.log.total, 0, a.log.describe())
  })

  test('a hello that says it holds nothing: the honest peer sends no digests and sends everything without waiting for the peer\'s', async () => {
    a.log.clear()
    const session = await adversary.openSync(a, address, { hello: { t: 'h', v: 2, db: address, n: nonce16(), e: true } })
    // Nothing sent after the hello: the honest peer's whole side comes anyway.
    await session.waitFor('x', 10_000)
    assert.equal(session.received.filter((m) => m.t === 'd').length, 0, 'no digests')
    const plan = session.received.find((m) => m.t === 'p')
    assert.ok(plan?.t === 'p' && plan.n >= 2, `a plan of the index and every record (${JSON.stringify(plan)})`)
    assert.ok(session.received.some((m) => m.t === 'u'), 'the updates')
    await session.announce(0)
    await session.send({ t: 'x' })
    const end = await session.ended
    assert.ok(!end.reset && end.error === undefined, `a clean end (got ${String(end.error)})`)
    assert.equal(a.log.total, 0, a.log.describe())
  })

  test('a hello whose summary is the honest peer\'s own: the ok carries the same, and the session ends there, clean, with no digests; a malformed summary is refused', async () => {
    a.log.clear()
    // A first session tells the honest peer's summary (in its ok); this side holds nothing like it.
    const first = await adversary.openSync(a, address, { hello: { t: 'h', v: 2, db: address, n: nonce16(), s: randomBytes(32) } })
    const ok = await first.waitFor('o')
    assert.ok(ok.t === 'o' && ok.s?.length === 32, 'the ok carries a summary')
    await first.waitFor('d')
    await first.announce(0)
    await first.send({ t: 'x' })
    assert.ok(!(await first.ended).reset, 'a different summary: a whole session, ended cleanly')

    const same = await adversary.openSync(a, address, { hello: { t: 'h', v: 2, db: address, n: nonce16(), s: ok.s } })
    const end = await same.ended
    assert.ok(!end.reset && end.error === undefined, `a clean end (got ${String(end.error)})`)
    assert.deepEqual(same.received.map((m) => m.t), ['o'], 'the ok, and nothing more: no digests, no plan')
    assert.equal(a.log.total, 0, a.log.describe())

    const before = await snapshot(a)
    const malformed = await adversary.openSync(a, address, { hello: { t: 'h', v: 2, db: address, n: nonce16(), s: randomBytes(31) } })
    assert.ok((await malformed.ended).reset, 'a summary that is not 32 bytes: the stream is reset')
    assert.equal(await snapshot(a), before)
    await stillHealthy()
  })

  test('garbage before the hello, and a hello for a database not served here', async () => {
    const before = await snapshot(a)
    const garbage = await adversary.openSync(a, address, { hello: false })
    await garbage.sendFrame(randomBytes(200))
    assert.ok((await garbage.ended).reset, 'garbage instead of a hello: the stream is reset')
    const notHello = await adversary.openSync(a, address, { hello: { t: 'D' } })
    assert.ok((await notHello.ended).reset, 'another message instead of a hello: the stream is reset')
    const unknown = await adversary.openSync(a, address, { hello: { t: 'h', v: 2, db: 'bafkreinotadatabasehere', n: nonce16() } })
    await unknown.ended
    assert.deepEqual(unknown.received, [{ t: 'e', reason: 'unknown database' }])
    assert.equal(await snapshot(a), before)
    await stillHealthy()
  })

  test('random bytes and malformed messages mid-session: MalformedMessageError', async () => {
    await refused('MalformedMessageError', async (s) => { await s.sendFrame(randomBytes(300)) })
    await refused('MalformedMessageError', async (s) => { await s.send({ t: 'p', n: 1 }) }) // a plan before the digests
    await refused('MalformedMessageError', async (s) => { await s.sendFrame(encode({ t: 'd', c: 'todos', r: [['id', 'not bytes', 7]] })) })
    await refused('MalformedMessageError', async (s) => {
      await s.announce(1)
      await s.sendFrame(encode({ t: 'u', y: new Uint8Array(4), s: new Uint8Array(10) })) // a signature of 10 bytes
    })
    await refused('MalformedMessageError', async (s) => {
      await s.announce(1)
      await s.sendSigned('u', encode({ not: 'a list' })) // signed, but not items
    })
  })

  test('truncated Yjs updates in signed items: MalformedUpdateError for each item; the session goes on', async () => {
    const damaged = truncations(recordUpdate({ title: 'overwritten', done: true }, await keptState()))
    const before = await snapshot(a)
    a.log.clear()
    const session = await adversary.openSync(a, address)
    await session.announce(damaged.length + 1)
    await session.sendSigned('u', [['todos', kept, damaged], ['todos', null, [new Uint8Array([1, 2, 3])]]])
    await session.send({ t: 'x' })
    const end = await session.ended
    assert.ok(!end.reset, 'the session ended cleanly')
    await waitFor(() => (a.log.byName.get('MalformedUpdateError') ?? 0) >= damaged.length + 1, `MalformedUpdateErrors via sync (got ${a.log.describe()})`)
    assert.ok(a.log.has('MalformedUpdateError', 'sync'))
    assert.equal(await snapshot(a), before)
    await stillHealthy()
  })

  test('a signed message of another database: SignatureError', async () => {
    const update = recordUpdate({ title: 'from elsewhere' }, await keptState())
    await refused('SignatureError', async (s) => {
      await s.announce(1)
      await s.sendSigned('u', [['todos', kept, [update]]], { address: 'bafkreianotherdatabaseaddress' })
    })
  })

  test('forged and replayed signatures: random, from an earlier session, out of order, by another key: SignatureError each', async () => {
    const items = [['todos', kept, [recordUpdate({ title: 'forged' }, await keptState())]]]
    const stranger = signerOf(await generateKeyPair('Ed25519'))
    // A message signed for an earlier session (its nonce), kept to be replayed.
    const first = await adversary.openSync(a, address)
    await first.announce(0)
    const earlier = await first.sendSigned('u', [])
    await first.send({ t: 'x' })
    await first.ended
    await refused('SignatureError', async (s) => {
      await s.announce(1)
      await s.send({ t: 'u', y: encode(items), s: randomBytes(64) })
    })
    await refused('SignatureError', async (s) => {
      await s.announce(0)
      await s.send({ t: 'u', y: earlier.y, s: earlier.s })
    })
    await refused('SignatureError', async (s) => {
      await s.announce(1)
      await s.sendSigned('u', items, { counter: 1 }) // the first message must carry counter 0
    })
    await refused('SignatureError', async (s) => {
      await s.announce(1)
      await s.sendSigned('u', items, { nonce: s.mine }) // signed with its own nonce, not the honest peer's
    })
    await refused('SignatureError', async (s) => {
      await s.announce(1)
      await s.sendSigned('u', items, { signer: stranger }) // not the key of the connection
    })
    await refused('SignatureError', async (s) => {
      await s.announce(1)
      const { y, s: signature } = await s.sendSigned('u', [])
      await s.send({ t: 'u', y, s: signature }) // the same message twice: the second is out of order
    })
  })

  test('a message over 4 MiB: SyncError; one just under it is read', async () => {
    await refused('SyncError', async (s) => { await s.sendFrame(randomBytes(MAX_SYNC_MESSAGE_BYTES + 1)) })
    // Just under: a well-signed updates message of almost 4 MiB (a record with a large title) is applied.
    const session = await adversary.openSync(a, address)
    await session.announce(1)
    let n = MAX_SYNC_MESSAGE_BYTES - 2048
    let y: Uint8Array
    for (;;) {
      y = encode([['todos', kept, [recordUpdate({ title: 'y'.repeat(n) }, await keptState())]]])
      const total = encode({ t: 'u', y, s: new Uint8Array(64) }).length
      if (total <= MAX_SYNC_MESSAGE_BYTES && total > MAX_SYNC_MESSAGE_BYTES - 256) break
      n += MAX_SYNC_MESSAGE_BYTES - 128 - total
    }
    await session.sendSigned('u', y)
    await session.send({ t: 'x' })
    assert.ok(!(await session.ended).reset)
    assert.ok(((await a.todos.get(kept))?.title.length ?? 0) > MAX_SYNC_MESSAGE_BYTES - 4096, 'the large update was applied')
  })

  test('stalls: before the hello, after it, mid-digests, mid-updates, mid-big-update: each session ends', async () => {
    const before = await snapshot(a)
    a.log.clear()
    const started = Date.now()
    const stalls = await Promise.all([
      // The hello has its own 10 s bound.
      adversary.openSync(a, address, { hello: false }),
      adversary.openSync(a, address),
      adversary.openSync(a, address).then(async (s) => { await s.send({ t: 'd', c: 'todos', r: [] }); return s }),
      adversary.openSync(a, address).then(async (s) => {
        await s.announce(3)
        await s.sendSigned('u', [['todos', 'stalled', []]])
        return s
      }),
      adversary.openSync(a, address).then(async (s) => {
        await s.announce(1)
        await s.sendSigned('b', ['todos', 'stalled', 0, 3, new Uint8Array(1000)])
        return s
      })
    ])
    const ends = await Promise.all(stalls.map(async (s) => s.ended))
    const [beforeHello, ...rest] = ends as [typeof ends[0], ...typeof ends]
    // How long each took is printed, not asserted (a busy machine makes any time limit flaky); one that never ends fails the test at its timeout.
    assert.ok(beforeHello.reset, 'no hello: the honest peer reset the stream')
    for (const end of rest) assert.ok(end.reset, 'a stall: the honest peer reset the stream')
    console.log(`# stalls ended after ${ends.map((e) => e.afterMs).join(', ')} ms (idle timeout ${SYNC_TIMEOUT} ms, hello 10000 ms); all within ${Date.now() - started} ms`)
    await waitFor(() => a.log.syncErrors.filter((e) => e.error?.name === 'SyncError').length >= 4, 'four failed sessions reported')
    // Each ended by the idle timeout (the hello's own bound ends the first, which reports no session).
    const stalled = a.log.syncErrors.filter((e) => e.error?.name === 'SyncError')
    assert.ok(stalled.every((e) => e.peer === adversary.id && /due to timeout/.test(e.error?.message ?? '')), stalled.map((e) => e.error?.message).join('; '))
    assert.equal(await snapshot(a), before)
    await stillHealthy()
  })

  test('endless digests: refused past 1,000,000 entries; the memory they take is bounded', async () => {
    const probe = new HeapProbe()
    await refused('MalformedMessageError', async (s) => {
      const r = Array.from({ length: 4096 }, (_, i) => [`r${i}`, new Uint8Array([0]), new Uint8Array(32)] as const)
      for (let c = 0; !s.isEnded && c < 300; c++) await s.sendFrame(encode({ t: 'd', c: `c${c}`, r }))
    })
    const heap = probe.stop()
    console.log(`# endless digests: heap ${mb(heap.baseline)} -> peak ${mb(heap.peak)} (+${mb(heap.peak - heap.baseline)}) -> ${mb(heap.after)} after`)
    assert.ok(heap.peak - heap.baseline < 100e6, `one session's digests took ${mb(heap.peak - heap.baseline)}`)
  })

  test('endless data: updates past the plan, big-update parts past the size limit, an unbounded frame', async () => {
    // Updates far past the plan (announced 0): each item counts.
    await refused('MalformedMessageError', async (s) => {
      await s.announce(0)
      const items = Array.from({ length: 100 }, (_, i) => ['todos', `x${i}`, []])
      while (!s.isEnded) await s.sendSigned('u', items)
    })
    // Big-update parts past MAX_BIG_UPDATE_BYTES (64 MiB): 3 MiB parts of a 32-part update.
    await refused('MalformedMessageError', async (s) => {
      await s.announce(1)
      const part = randomBytes(TARGET_SYNC_MESSAGE_BYTES * 3)
      for (let k = 0; !s.isEnded && k < 32; k++) await s.sendSigned('b', ['todos', 'huge', k, 32, part])
    })
    // A length prefix announcing 2^49 bytes: refused on the prefix, nothing is buffered.
    await refused('SyncError', async (s) => {
      s.sendUnframed(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))
      for (let i = 0; !s.isEnded && i < 100; i++) s.sendUnframed(randomBytes(64 * 1024))
    })
  })

  // The two below send up to twice what the honest peer reads before refusing (a count, not a time: a
  // busy machine sends fewer a second); refused() checks the session failed for it, not by the idle timeout.
  test('endless signed updates messages with no items: refused', async () => {
    // Each message counts as one item at least: past 4 × the plan + 1,000 (the plan announced 0), refused.
    await refused('MalformedMessageError', async (s) => {
      await s.announce(0)
      for (let sent = 0; !s.isEnded && sent < 2 * 1001; sent++) await s.sendSigned('u', [])
    })
  })

  test('endless empty digests, each of a new collection: refused', async () => {
    // Each digest message counts as 64 entries at least: past 1,000,000 entries (15,625 messages), refused.
    await refused('MalformedMessageError', async (s) => {
      for (let sent = 0; !s.isEnded && sent < 2 * 15_625; sent++) await s.send({ t: 'd', c: `collection-${sent}`, r: [] })
    })
  })
})

describe('hostile catch-up sessions on a restricted database', { timeout: 60_000 }, () => {
  test('a revoked writer\'s signed items: UnauthorizedWriterError for each, nothing applied', async () => {
    const [owner, member] = await arena.honest(2, { name: 'restricted-sync', restricted: true, replication: { ...QUIET, syncTimeout: SYNC_TIMEOUT } }) as [Honest, Honest]
    const address = owner.db.address
    const adversary = await arena.adversary()
    await adversary.connect(owner)
    await owner.db.access.grant(adversary.id)
    const id = await owner.todos.insert({ title: 'the owner\'s', done: false })
    const state = Y.encodeStateAsUpdate(await owner.todos.doc(id))
    // Granted: its session writes count.
    const granted = await adversary.openSync(owner, address)
    await granted.announce(1)
    await granted.sendSigned('u', [['todos', id, [recordUpdate({ priority: 2 }, state)]]])
    await granted.send({ t: 'x' })
    await granted.ended
    assert.equal((await owner.todos.get(id))?.priority, 2)

    await owner.db.access.revoke(adversary.id)
    const before = await snapshot(owner)
    owner.log.clear()
    const revoked = await adversary.openSync(owner, address)
    await revoked.announce(2)
    await revoked.sendSigned('u', [['todos', id, [recordUpdate({ title: 'after revocation' }, state)]], ['todos', 'new-one', [recordUpdate({ title: 'new', done: false })]]])
    await revoked.send({ t: 'x' })
    await revoked.ended
    await owner.log.waitFor('UnauthorizedWriterError', 'sync')
    await assertKept(owner, before)
    assert.equal(await owner.todos.get('new-one'), undefined)
    await stillReplicates(owner, member)
  })
})
