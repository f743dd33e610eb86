/**
 * Hostile presence: a raw peer publishes on a database's presence topic
 * what no honest peer would. Each time the honest peer keeps running, the
 * states it shows do not change, and a `rejected` event (`via:
 * 'presence'`) names the reason — or, for what is merely old (a replay),
 * the message is dropped without a word.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { encode } from 'cborg'
import { z } from 'zod'
import { createDatabase, type Database, type RejectedEvent } from '@kadmium/core'
import { encodePresence, encodeState, MAX_PRESENCE_MESSAGE_BYTES } from '../../src/presence/presence-message.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { signerOf, type Signer } from '../../src/access/identity.ts'
import { waitFor } from '../helpers/wait.ts'
import type { Adversary } from '../adversary/harness.ts'
import { presenceAdversary } from './presence-adversary.ts'
import { createTestPeer, NO_TIMERS, type TestPeer } from '../sync/helpers.ts'

const Chat = z.object({ nick: z.string().max(20), typing: z.boolean() })
type ChatState = z.infer<typeof Chat>

describe('hostile presence messages', { timeout: 60_000 }, () => {
  let honest: TestPeer
  let adversary: Adversary
  let db: Database<ChatState>
  let publish: (bytes: Uint8Array) => Promise<void>
  const rejected: RejectedEvent[] = []
  let seq = 0

  before(async () => {
    honest = await createTestPeer()
    db = await createDatabase<ChatState>({ name: 'hostile-presence', peer: honest, replication: NO_TIMERS, presence: { schema: Chat } })
    db.on('rejected', (e) => { if (e.via === 'presence') rejected.push(e) })
    ;({ adversary, publish } = await presenceAdversary(honest, db.address))
  })
  after(async () => {
    await db.close()
    await adversary.close()
    await honest.close()
  })

  async function sign (state: object | null, options: { signer?: Signer, address?: string, ts?: number, expiry?: number } = {}): Promise<Uint8Array> {
    return await encodePresence(state === null ? null : encode(state), {
      ts: options.ts ?? Date.now(), seq: ++seq, expiry: options.expiry ?? 15_000
    }, options.signer ?? adversary.signer, { address: options.address ?? db.address })
  }

  /** Publishes `bytes`, waits for a rejection named `name`, and checks the states shown did not change. */
  async function refused (name: string, bytes: Uint8Array): Promise<void> {
    const shown = db.presence.peers()
    rejected.length = 0
    await publish(bytes)
    await waitFor(() => rejected.some((e) => e.reason.startsWith(`${name}:`)), `a rejection ${name} (got: ${rejected.map((e) => e.reason).join(' | ')})`, 10_000)
    assert.equal(rejected[0]?.peer, adversary.id, 'the rejection names the sender')
    assert.equal(db.presence.peers(), shown, 'the states shown did not change')
  }

  test('the harness speaks the protocol: a well-signed state is shown', async () => {
    await publish(await sign({ nick: 'mallory', typing: false }))
    await waitFor(() => db.presence.peers().some((p) => p.state.nick === 'mallory'), 'the adversary\'s (legitimate) state', 10_000)
    assert.equal(db.presence.peers()[0]?.peer, adversary.id)
  })

  test('junk, truncations, wrong shapes: MalformedMessageError', async () => {
    const good = await sign({ nick: 'mallory', typing: true })
    await refused('MalformedMessageError', new Uint8Array([0xff, 1, 2, 3]))
    await refused('MalformedMessageError', good.subarray(0, good.length - 5))
    await refused('MalformedMessageError', encode([1, new Uint8Array(32), new Uint8Array(64)]))
    await refused('MalformedMessageError', encode([2, adversary.signer.publicKey, new Uint8Array(64), encode([Date.now(), 1, 15_000, {}])]))
    // An expiry beyond ten minutes would pin a state on every peer.
    await refused('MalformedMessageError', await sign({ nick: 'mallory', typing: true }, { expiry: 24 * 3600_000 }))
    await refused('MalformedMessageError', await sign(['not', 'a', 'map']))
    await refused('MalformedMessageError', new Uint8Array(MAX_PRESENCE_MESSAGE_BYTES + 1).fill(0x41))
  })

  test('a state failing the schema: PresenceError', async () => {
    await refused('PresenceError', await sign({ nick: 'x'.repeat(21), typing: false }))
    await refused('PresenceError', await sign({ nick: 'mallory', typing: 'yes' }))
  })

  test('a forged or misdirected signature: SignatureError', async () => {
    const genuine = await sign({ nick: 'mallory', typing: true })
    const forged = new Uint8Array(genuine)
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1
    await refused('SignatureError', forged)
    // Signed for another database, replayed on this one's topic.
    await refused('SignatureError', await sign({ nick: 'mallory', typing: true }, { address: 'bafyreiothertopicothertopicothertopicothertopicothertopic' }))
    // Another key's signature under the adversary's name.
    const other = signerOf(await generateKeyPair('Ed25519'))
    const stolen = await sign({ nick: 'mallory', typing: true }, { signer: { ...adversary.signer, sign: async (data) => await other.sign(data) } })
    await refused('SignatureError', stolen)
  })

  test('a replay, an old message, one from the future: dropped without a change', async () => {
    const first = await sign({ nick: 'mallory', typing: false })
    const second = await sign({ nick: 'mallory-2', typing: false })
    await publish(second)
    await waitFor(() => db.presence.peers().some((p) => p.state.nick === 'mallory-2'), 'the second state', 10_000)
    rejected.length = 0
    // Gossipsub would drop an exact repeat itself; `first` is new to it, but older than `second`.
    await publish(first)
    await publish(await sign({ nick: 'from-the-past', typing: false }, { ts: Date.now() - 3600_000 }))
    await publish(await sign({ nick: 'from-the-future', typing: false }, { ts: Date.now() + 3600_000 }))
    // A later genuine message is the marker that the ones before it were handled.
    await publish(await sign({ nick: 'marker', typing: false }))
    await waitFor(() => db.presence.peers().some((p) => p.state.nick === 'marker'), 'the marker', 10_000)
    assert.deepEqual(rejected, [], 'old messages are not an offence (clocks differ), only ignored')
  })

  test('the sender\'s leave removes it; the database keeps running', async () => {
    await publish(await sign(null))
    await waitFor(() => db.presence.peers().length === 0, 'the leave', 10_000)
    db.presence.set({ nick: 'honest', typing: false })
    assert.deepEqual(db.presence.self, { nick: 'honest', typing: false })
  })

  test('a state too large to send is refused by the sender first: PresenceError', () => {
    assert.throws(() => encodeState({ nick: 'x'.repeat(9000) }), { name: 'PresenceError' })
  })
})
