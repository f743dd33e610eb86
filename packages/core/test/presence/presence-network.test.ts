/**
 * Presence between peers: states arrive, change, leave and expire; a
 * newcomer sees everyone at once; encrypted databases seal states;
 * restricted ones hear only members.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import { createDatabase, type Database, type PresencePeer } from '@kadmium/core'
import { presenceTopicOf } from '../../src/presence/presence-channel.ts'
import { encodePresence, encodeState } from '../../src/presence/presence-message.ts'
import { waitFor } from '../helpers/wait.ts'
import { presenceAdversary } from './presence-adversary.ts'
import { closedAfterFile, connect, createTestPeer, NO_TIMERS, type TestPeer } from '../sync/helpers.ts'

const { peers, dbs } = closedAfterFile()
const Chat = z.object({ nick: z.string(), typing: z.boolean() })
type ChatState = z.infer<typeof Chat>

async function peer (): Promise<TestPeer> {
  const p = await createTestPeer()
  peers.push(p)
  return p
}

async function open (p: TestPeer, options: Partial<Parameters<typeof createDatabase<ChatState>>[0]> = {}): Promise<Database<ChatState>> {
  const db = await createDatabase<ChatState>({ name: 'room', peer: p, replication: NO_TIMERS, presence: { schema: Chat, heartbeat: 60_000, expiry: 120_000 }, ...options })
  dbs.push(db)
  return db
}

function nicks (peers: ReadonlyArray<PresencePeer<ChatState>>): string[] {
  return peers.map((p) => p.state.nick).sort()
}

test('states reach every peer, change, and leave when a peer closes the database; a newcomer sees them at once', { timeout: 60_000 }, async () => {
  const [pa, pb, pc] = [await peer(), await peer(), await peer()]
  await connect(pa, pb)
  await connect(pb, pc)
  const [a, b, c] = [await open(pa), await open(pb), await open(pc)]
  const calls: string[][] = []
  b.presence.subscribe((present) => calls.push(nicks(present)))
  a.presence.set({ nick: 'ada', typing: false })
  c.presence.set({ nick: 'cy', typing: false })
  // c is not a's neighbour: its state travels through b.
  await waitFor(() => nicks(a.presence.peers()).join() === 'cy', 'a to see c (through b)', 20_000)
  await waitFor(() => nicks(b.presence.peers()).join() === 'ada,cy', 'b to see a and c', 20_000)
  const entry = a.presence.peers()[0]
  assert.equal(entry?.peer, pc.libp2p.peerId.toString(), 'a state is keyed by its author\'s peer id')

  a.presence.set({ nick: 'ada', typing: true })
  await waitFor(() => c.presence.peers().some((p) => p.state.nick === 'ada' && p.state.typing), 'c to see a typing', 20_000)
  const before = b.presence.peers()
  a.presence.set({ nick: 'ada', typing: true })
  assert.equal(b.presence.peers(), before, 'setting the same state again changes nothing anywhere')

  // A newcomer, with a heartbeat an hour away: it hears the others because they answer its subscription.
  const pd = await peer()
  await connect(pd, pb)
  const d = await open(pd)
  await waitFor(() => nicks(d.presence.peers()).join() === 'ada,cy', 'the newcomer to see a and c', 20_000)

  await a.close()
  await waitFor(() => nicks(b.presence.peers()).join() === 'cy' && nicks(d.presence.peers()).join() === 'cy', 'a\'s leave to reach b and d', 20_000)
  c.presence.clear()
  await waitFor(() => b.presence.peers().length === 0, 'c\'s clear to reach b', 20_000)
  assert.ok(calls.some((call) => call.join() === 'ada,cy') && calls.at(-1)?.length === 0, `b's listener saw the joins and the leaves: ${JSON.stringify(calls)}`)
})

test('a peer that goes silent expires after the expiry it announced', { timeout: 60_000 }, async () => {
  const honest = await peer()
  const db = await open(honest, { name: 'expiry' })
  const { adversary, publish } = await presenceAdversary(honest, db.address)
  peers.push(adversary as unknown as TestPeer)
  await publish(await encodePresence(encodeState({ nick: 'ghost', typing: false }), { ts: Date.now(), seq: 1, expiry: 600 }, adversary.signer, { address: db.address }))
  await waitFor(() => nicks(db.presence.peers()).join() === 'ghost', 'the state to arrive', 10_000)
  // Still connected, still subscribed, but silent: forgotten once 600 ms passed.
  await waitFor(() => db.presence.peers().length === 0, 'the silent peer to expire', 10_000)
  assert.equal(adversary.libp2p.getConnections(honest.libp2p.peerId).length > 0, true, 'it is still connected')
})

test('an encrypted database seals states: peers with the key read them, the wire does not show them', { timeout: 60_000 }, async () => {
  const [pa, pb] = [await peer(), await peer()]
  await connect(pa, pb)
  const encryption = { passphrase: 'presence is private' }
  const a = await open(pa, { name: 'sealed', encryption })
  const b = await open(pb, { name: 'sealed', encryption })
  const wire: Uint8Array[] = []
  pb.libp2p.services.pubsub.addEventListener('message', (event) => { if (event.detail.topic === presenceTopicOf(a.address)) wire.push(event.detail.data) })
  a.presence.set({ nick: 'secret-nick', typing: false })
  await waitFor(() => nicks(b.presence.peers()).join() === 'secret-nick', 'b to read a\'s sealed state', 20_000)
  assert.ok(wire.length > 0)
  for (const bytes of wire) assert.equal(Buffer.from(bytes).includes('secret-nick'), false, 'the nick never travels in the clear')
})

test('a restricted database hears only its members: a non-member announces nothing', { timeout: 60_000 }, async () => {
  const [owner, writer, outsider] = [await peer(), await peer(), await peer()]
  await connect(owner, writer)
  await connect(owner, outsider)
  const access = { owners: [owner.libp2p.peerId.toString()] }
  const o = await open(owner, { name: 'members', access })
  await o.access.grant(writer.libp2p.peerId.toString())
  const w = await open(writer, { name: 'members', access })
  const x = await open(outsider, { name: 'members', access })
  await waitFor(() => w.access.writers().length === 2, 'the writer to learn of its grant', 20_000)
  const refused: string[] = []
  o.on('rejected', (e) => { if (e.via === 'presence') refused.push(e.reason) })
  x.presence.set({ nick: 'outsider', typing: false })
  w.presence.set({ nick: 'writer', typing: false })
  o.presence.set({ nick: 'owner', typing: false })
  await waitFor(() => nicks(o.presence.peers()).join() === 'writer' && nicks(w.presence.peers()).join() === 'owner', 'members to see each other', 20_000)
  // The outsider reads members' states (the database is not encrypted) but is heard by no one.
  await waitFor(() => nicks(x.presence.peers()).join() === 'owner,writer', 'the outsider to see the members', 20_000)
  assert.equal(o.presence.peers().some((p) => p.state.nick === 'outsider'), false)
  assert.equal(refused.length, 0, `the outsider sent nothing the owner had to refuse: ${refused.join(' | ')}`)
  // A non-member that sends a signed state anyway is refused by the members.
  const { adversary, publish } = await presenceAdversary(owner, o.address)
  peers.push(adversary as unknown as TestPeer)
  await publish(await encodePresence(encodeState({ nick: 'outsider', typing: true }), { ts: Date.now(), seq: 1, expiry: 15_000 }, adversary.signer, { address: o.address }))
  await waitFor(() => refused.some((r) => r.startsWith('UnauthorizedWriterError:')), 'the owner to refuse the outsider\'s state', 10_000)
  assert.equal(o.presence.peers().some((p) => p.state.nick === 'outsider'), false)
})
