/**
 * Hostile DHT values: a raw peer whose kad-dht keeps what honest
 * validators refuse serves them when an honest peer reads a record it
 * does not hold. The read finds nothing (or only the good parts), the
 * refusal is reported, nothing held changes, and honest peers still
 * replicate.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decode, encode } from 'cborg'
import { encodeHead, encodeHeadSet } from '../../src/dht/head.ts'
import { blockKey, headKey } from '../../src/dht/dht-keys.ts'
import { sha256 } from '../../src/util/hash.ts'
import { recordUpdate, randomBytes } from './forge.ts'
import { Arena, snapshot, stillReplicates, type Adversary, type Honest } from './harness.ts'
import type { RejectedEvent } from '@kadmium/core'
import { waitFor } from '../helpers/wait.ts'

const arena = new Arena()
after(async () => { await arena.close() })

const encoder = new TextEncoder()

describe('hostile DHT values', { timeout: 60_000 }, () => {
  let a: Honest
  let b: Honest
  let adversary: Adversary
  let address: string
  before(async () => {
    [a, b] = await arena.honest(2) as [Honest, Honest]
    address = a.db.address
    adversary = await arena.adversary()
    await adversary.connect(a)
    await adversary.connect(b)
    await adversary.joinDht(a)
    await adversary.joinDht(b)
    await stillReplicates(b, a, 'kept')
  })

  /** The DHT rejected events of a whose reason matches `pattern`. */
  function dhtRejections (pattern: RegExp): RejectedEvent[] {
    return a.log.events.filter((e) => e.via === 'dht' && pattern.test(e.reason))
  }

  /**
   * Reads record `id` on a (a local miss: the DHT is asked), expecting
   * nothing, then checks a's records did not change and b's writes still
   * arrive. How long the read took is printed, not asserted (a busy
   * machine makes any time limit flaky); a read that never ends fails the
   * test at its timeout.
   */
  async function readsNothing (id: string): Promise<void> {
    const before = await snapshot(a)
    const started = Date.now()
    assert.equal(await a.todos.get(id), undefined)
    console.log(`# get(${id}): nothing, after ${Date.now() - started} ms`)
    assert.equal(await snapshot(a), before, 'the honest records did not change')
    await stillReplicates(b, a)
  }

  /**
   * Asks a's kad-dht for `key` and tells whether the adversary answered
   * with a value that a's validators refused: the attack did reach the
   * honest peer (so a read that finds nothing is not vacuous).
   */
  async function servedAndRefused (key: Uint8Array): Promise<boolean> {
    try {
      for await (const event of a.peer.libp2p.services.dht.get(key, { signal: AbortSignal.timeout(5000) })) {
        if (event.name === 'QUERY_ERROR' && event.from.equals(adversary.libp2p.peerId) && /invalid record/.test(event.error.message)) return true
      }
    } catch {}
    return false
  }

  /** Waits (bounded) for a rejected event via 'dht' whose reason starts with `name:` and matches `pattern`. */
  async function reported (name: string, pattern: RegExp): Promise<void> {
    await waitFor(() => dhtRejections(pattern).some((e) => e.reason.startsWith(`${name}:`)), `a rejected event ${name} via dht (got ${a.log.describe()})`)
  }

  test('a block whose bytes do not match its hash: refused; the read finds nothing', async () => {
    const id = 'bad-block'
    const good = recordUpdate({ title: 'from the dht', done: false })
    const hash = sha256(good)
    a.log.clear()
    // The adversary keeps other bytes under the block's key (honest peers refuse them) and a well-signed head naming it.
    await adversary.putRawDht(blockKey(hash), encoder.encode('not the block you are looking for'))
    const key = headKey(address, 'todos', id)
    await adversary.putRawDht(key, await encodeHead(key, { parts: [[hash]] }, adversary.signer))
    await readsNothing(id)
    assert.ok(await servedAndRefused(blockKey(hash)), 'the adversary served the bad block to a, whose kad-dht refused it')
    await reported('MalformedUpdateError', /block/)
  })

  test('a head naming blocks nobody has: the read ends and finds nothing', async () => {
    const id = 'missing-blocks'
    a.log.clear()
    const key = headKey(address, 'todos', id)
    const missing = [sha256(encoder.encode('never stored 1')), sha256(encoder.encode('never stored 2'))]
    await adversary.putRawDht(key, await encodeHead(key, { parts: [missing] }, adversary.signer))
    await readsNothing(id)
    await waitFor(() => dhtRejections(/./).length > 0, `a rejected event via dht (got ${a.log.describe()})`)
    console.log(`# a head naming missing blocks: reported as "${dhtRejections(/./)[0]?.reason.slice(0, 100)}"`)
  })

  test('malformed heads and forged head signatures: refused; the read finds nothing', async () => {
    a.log.clear()
    const garbage = 'garbage-head'
    await adversary.putRawDht(headKey(address, 'todos', garbage), randomBytes(100))
    await readsNothing(garbage)
    assert.ok(await servedAndRefused(headKey(address, 'todos', garbage)), 'the adversary served the head')
    await reported('MalformedUpdateError', /head/)

    // A head claiming b as its author with the adversary's signature; one moved from another record's key; one not a head.
    const forged = 'forged-head'
    const key = headKey(address, 'todos', forged)
    const part = [sha256(recordUpdate({ title: 'x' }))]
    const real = await encodeHead(key, { parts: [part] }, adversary.signer)
    const fields = decode(real) as Record<string, unknown>
    await adversary.putRawDht(key, encode({ ...fields, k: b.peer.privateKey.publicKey.raw }))
    await readsNothing(forged)
    const moved = 'moved-head'
    await adversary.putRawDht(headKey(address, 'todos', moved), real)
    await readsNothing(moved)
    assert.ok(await servedAndRefused(key) && await servedAndRefused(headKey(address, 'todos', moved)), 'the adversary served the forged heads')
    await reported('SignatureError', /head/)
  })

  test('a head set hiding a forged head among well-signed ones: refused whole by honest servers; the read finds nothing', async () => {
    a.log.clear()
    const id = 'forged-in-set'
    const key = headKey(address, 'todos', id)
    const own = await encodeHead(key, { parts: [], inline: recordUpdate({ title: 'adversary' }) }, adversary.signer)
    const fields = decode(await encodeHead(key, { parts: [], inline: recordUpdate({ title: 'as b' }) }, adversary.signer)) as Record<string, unknown>
    const forged = encode({ ...fields, k: b.peer.privateKey.publicKey.raw })
    // Honest servers refuse the set (no acknowledgement but the adversary's own copy, which does not count).
    assert.equal(await adversary.putRawDht(key, encodeHeadSet([own, forged])), 0)
    await readsNothing(id)
    assert.ok(await servedAndRefused(key), 'the adversary served the set')
    await reported('SignatureError', /head/)
  })
})
