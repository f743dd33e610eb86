import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase, type Database } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, createTestPeer, disconnect, type TestPeer, closedAfterFile } from './helpers.ts'

const { peers, dbs } = closedAfterFile()

async function open (name: string, discoveryInterval = 3_600_000): Promise<{ peer: TestPeer, db: Database }> {
  const peer = await createTestPeer()
  peers.push(peer)
  const db = await createDatabase({ name, peer, replication: { discoveryInterval, syncInterval: 2_000 } })
  dbs.push(db)
  return { peer, db }
}

test('12 peers that only know one bootstrap peer find each other through the DHT; a write reaches all', { timeout: 90_000 }, async () => {
  const bootstrap = await createTestPeer()
  peers.push(bootstrap)
  const members: Array<{ peer: TestPeer, db: Database }> = []
  for (let i = 0; i < 12; i++) {
    const m = await open('many', 500)
    await connect(m.peer, bootstrap)
    members.push(m)
  }
  // Each member dials the others it finds as providers of the database.
  await waitFor(() => members.every((m) => m.peer.libp2p.getConnections().length >= 4), 'members to discover each other', 60_000)
  const collections = members.map((m) => m.db.collection('todos', { schema: Todo }))
  const id = await (collections[3] as (typeof collections)[number]).insert({ title: 'to everyone', done: false })
  await waitFor(async () => {
    for (const c of collections) if ((await c.get(id))?.title !== 'to everyone') return false
    return true
  }, 'the write to reach all 12', 30_000)
  const direct = members.map((m) => m.peer.libp2p.getConnections().filter((c) => !c.remotePeer.equals(bootstrap.libp2p.peerId)).length)
  assert.ok(direct.every((n) => n >= 3), `every member has direct connections to other members (${direct.join(',')})`)
})

test('partition and heal: both sides edit the same records, then every replica is identical', { timeout: 90_000 }, async () => {
  const group = await Promise.all(Array.from({ length: 6 }, async () => open('partition')))
  const all = group.map((m) => m.db.collection('todos', { schema: Todo, text: ['title'] }))
  // Start fully connected in a ring.
  for (let i = 0; i < group.length; i++) await connect((group[i] as { peer: TestPeer }).peer, (group[(i + 1) % group.length] as { peer: TestPeer }).peer)
  const ids = await Promise.all(Array.from({ length: 5 }, async (_, i) => (all[0] as (typeof all)[number]).insert({ title: `record ${i}`, done: false, priority: 0 })))
  await waitFor(async () => {
    for (const c of all) if (await c.count() !== 5) return false
    return true
  }, 'the records to reach everyone', 20_000)
  // Split into {0,1,2} and {3,4,5}: cut the ring's two crossing links.
  const left = group.slice(0, 3)
  const right = group.slice(3)
  for (const l of left) for (const r of right) await disconnect(l.peer, r.peer).catch(() => {})
  await waitFor(() => left.every((l) => right.every((r) => l.peer.libp2p.getConnections(r.peer.libp2p.peerId).length === 0)), 'the partition')
  const [l0, , , r0] = all
  for (const [i, id] of ids.entries()) {
    await l0!.update(id, (t) => { t.title = `left ${t.title}`; t.priority = i })
    await r0!.update(id, (t) => { t.title = `${t.title} right`; t.done = true })
  }
  await l0!.delete(ids[4] as string)
  const extra = await r0!.insert({ title: 'made on the right', done: false })
  // Heal.
  await connect((left[2] as { peer: TestPeer }).peer, (right[0] as { peer: TestPeer }).peer)
  const snapshot = async (c: (typeof all)[number]) => JSON.stringify(await c.find({ orderBy: 'id' }))
  await waitFor(async () => {
    const states = await Promise.all(all.map(snapshot))
    return states.every((s) => s === states[0]) && (await l0!.count()) === 5
  }, 'every replica to converge', 40_000)
  const rows = await l0!.find({ orderBy: 'id' })
  assert.ok(rows.every((r) => r.id === extra || (r.title.startsWith('left record') && r.title.endsWith(' right') && r.done)), JSON.stringify(rows))
  assert.equal(rows.find((r) => r.id === ids[4]), undefined)
})
