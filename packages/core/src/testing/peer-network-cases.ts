import type { ChangeEvent, Row } from '../index.ts'
import { assert, assertDeepEqual, assertEqual } from './assert.ts'
import type { Note } from './note-schema.ts'
import { isConnected, notesOf, type PeerCaseDefinition } from './peer-harness.ts'

/** Records the catch-up case writes before the late peer exists. */
const CATCH_UP_RECORDS = 24

/** Connections, live updates over gossip, and the catch-up of a peer that connects late. */
export const peerNetworkCases: readonly PeerCaseDefinition[] = [
  {
    name: 'peer: two peers connect, and each sees the other among its connections',
    body: async ({ peer, connect, waitFor }) => {
      const a = await peer()
      const b = await peer()
      assert(!a.libp2p.peerId.equals(b.libp2p.peerId), 'two peers from the harness must have two identities')
      assert(a.libp2p.getMultiaddrs().length > 0, 'a new peer must listen on at least one address')
      assert(!isConnected(a, b) && !isConnected(b, a), 'two new peers must not be connected before the suite connects them')
      await connect(a, b)
      await waitFor('A and B each to see the other among its connections', () => isConnected(a, b) && isConnected(b, a))
      assert(a.libp2p.getPeers().some((id) => id.equals(b.libp2p.peerId)), 'B among the peers A is connected to')
      assert(b.libp2p.getPeers().some((id) => id.equals(a.libp2p.peerId)), 'A among the peers B is connected to')
    }
  },
  {
    name: 'peer: a record inserted, updated and deleted on one peer reaches the other\'s get and subscribe live, with no sync call',
    body: async ({ peer, connect, open, waitFor }) => {
      const a = await peer()
      const b = await peer()
      const dbA = await open(a, { name: 'live' })
      const dbB = await open(b, { name: 'live' })
      await connect(a, b)
      await waitFor('each database to see the other peer on its topic (status.peers === 1)', () => dbA.status.peers === 1 && dbB.status.peers === 1)
      const notesA = notesOf(dbA)
      const notesB = notesOf(dbB)
      // Periodic catch-up is off (SUITE_REPLICATION): once the catch-up that joining starts is over,
      // what A writes can only reach B live, over gossipsub.

      const seen: Array<Row<Note> | undefined> = []
      const stopRecord = notesB.subscribe('n1', (row) => { seen.push(row) })
      let pending: ReadonlyArray<Row<Note>> = []
      const stopQuery = notesB.subscribe({ where: { done: false }, orderBy: 'rank' }, (rows) => { pending = rows })
      const changes: ChangeEvent[] = []
      const stopChanges = notesB.on('change', (event) => { changes.push(event) })
      try {
        await notesA.insert({ title: 'from A', rank: 1, done: false }, { id: 'n1' })
        await waitFor('B\'s subscription to the record to get A\'s insert', () => seen.at(-1)?.title === 'from A')
        assertDeepEqual(await notesB.get('n1', { network: false }), { id: 'n1', title: 'from A', rank: 1, done: false }, 'the record on B, held locally')
        await waitFor('B\'s live query to list A\'s insert', () => pending.length === 1)
        assertDeepEqual(pending, [{ id: 'n1', title: 'from A', rank: 1, done: false }], 'B\'s live query after A\'s insert')
        assert(changes.some((e) => e.id === 'n1' && e.type === 'insert' && e.origin === 'remote'), `B must emit a remote insert change for n1; it emitted ${JSON.stringify(changes)}`)

        await notesA.update('n1', (draft) => { draft.rank = 2; draft.body = 'edited on A' })
        await waitFor('A\'s update at B', () => seen.at(-1)?.body === 'edited on A')
        assertDeepEqual(await notesB.get('n1', { network: false }), { id: 'n1', title: 'from A', rank: 2, done: false, body: 'edited on A' }, 'the record on B after A\'s update')

        // And back: B writes, A sees it.
        await notesB.update('n1', (draft) => { draft.done = true })
        await notesB.insert({ title: 'from B', rank: 3, done: false }, { id: 'n2' })
        await waitFor('B\'s update and insert at A', async () => (await notesA.get('n1', { network: false }))?.done === true && (await notesA.get('n2', { network: false })) !== undefined)
        await waitFor('B\'s live query to drop the record done on B and list B\'s own insert', () => pending.length === 1 && pending[0]?.id === 'n2')

        await notesA.delete('n1')
        await waitFor('A\'s delete at B', () => seen.length > 1 && seen.at(-1) === undefined)
        assertEqual(await notesB.get('n1', { network: false }), undefined, 'the deleted record on B')
        assertDeepEqual((await notesB.find({ orderBy: 'rank' })).map((row) => row.id), ['n2'], 'the records on B after A\'s delete')
        assert(changes.some((e) => e.id === 'n1' && e.type === 'delete' && e.origin === 'remote'), 'B must emit a remote delete change for n1')
      } finally {
        stopRecord()
        stopQuery()
        stopChanges()
      }
    }
  },
  {
    name: `peer: a peer that connects late catches up on every record (${CATCH_UP_RECORDS}) written before it existed`,
    body: async ({ peer, connect, open, waitFor }) => {
      const a = await peer()
      const dbA = await open(a, { name: 'catch-up' })
      const notesA = notesOf(dbA)
      for (let i = 0; i < CATCH_UP_RECORDS; i++) {
        await notesA.insert({ title: `note ${i}`, rank: i, done: i % 2 === 0, tags: [`t${i % 3}`] }, { id: `c${String(i).padStart(2, '0')}` })
      }
      await notesA.update('c03', (draft) => { draft.title = 'edited before B existed' })
      await notesA.delete('c04')
      const expected = await notesA.find({ orderBy: 'rank' })
      assertEqual(expected.length, CATCH_UP_RECORDS - 1, 'records on A')

      const b = await peer()
      const dbB = await open(b, { name: 'catch-up' })
      const notesB = notesOf(dbB)
      assertEqual(await notesB.count(), 0, 'records on B before it connects')
      await connect(b, a)
      await waitFor(`B to hold A's ${CATCH_UP_RECORDS - 1} records`, async () => await notesB.count() === CATCH_UP_RECORDS - 1)
      assertDeepEqual(await notesB.find({ orderBy: 'rank' }), expected, 'every record on B, as on A')
      assertEqual(await notesB.get('c04', { network: false }), undefined, 'the record A deleted before B existed, on B')
      assertEqual((await notesB.get('c03', { network: false }))?.title, 'edited before B existed', 'a record A edited before B existed, on B')
    }
  }
]
