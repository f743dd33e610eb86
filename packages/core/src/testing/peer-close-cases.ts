import { assert, assertEqual, assertRejects, show } from './assert.ts'
import { idOf, isConnected, notesOf, type PeerCaseDefinition } from './peer-harness.ts'

/** Closing databases and peers releases what they hold. */
export const peerCloseCases: readonly PeerCaseDefinition[] = [
  {
    name: 'peer: closing a database leaves its topic, closing a peer leaves no connection on either side',
    body: async ({ peer, connect, open, waitFor }) => {
      const a = await peer()
      const b = await peer()
      const dbA = await open(a, { name: 'closing' })
      const dbB = await open(b, { name: 'closing' })
      await connect(a, b)
      const notesA = notesOf(dbA)
      const notesB = notesOf(dbB)
      await notesA.insert({ title: 'before closing', rank: 1, done: false }, { id: 'x' })
      await waitFor('the record at B', async () => (await notesB.get('x', { network: false })) !== undefined)
      assertEqual(dbA.status.online, true, 'status.online of an open database whose peer is connected')

      // The database goes; the peer and its connection stay.
      await dbA.close()
      assertEqual(dbA.status.open, false, 'status.open after close')
      const closedGet = await assertRejects(() => notesA.get('x'), 'a get on a closed database')
      assertEqual(closedGet.name, 'DatabaseClosedError', 'name of the error of a get on a closed database')
      const closedInsert = await assertRejects(() => notesA.insert({ title: 'too late', rank: 2, done: false }), 'an insert on a closed database')
      assertEqual(closedInsert.name, 'DatabaseClosedError', 'name of the error of an insert on a closed database')
      await waitFor('B\'s database to see A leave its topic (status.peers === 0)', () => dbB.status.peers === 0)
      assert(isConnected(a, b), 'A and B stay connected while A\'s peer is open')

      // The peer goes: no connection on its side, and B sees its side closed.
      await a.close()
      assertEqual(a.libp2p.status, 'stopped', 'libp2p status of a closed peer')
      assertEqual(a.libp2p.getConnections().length, 0, `connections of a closed peer (${show(a.libp2p.getConnections().map((c) => c.remoteAddr.toString()))})`)
      await waitFor('B to see its connection to A closed', () => !isConnected(b, a))
      assertEqual(dbB.status.online, false, 'status.online of B\'s database once its only peer left')
      assertEqual((await notesB.get('x', { network: false }))?.title, 'before closing', 'the record on B after A left')

      await dbB.close()
      await b.close()
      assertEqual(b.libp2p.status, 'stopped', 'libp2p status of the second closed peer')
      assertEqual(b.libp2p.getConnections().length, 0, `connections of the second closed peer ${idOf(b)}`)
    }
  },
  {
    name: 'peer: a process that ran peers, synced and closed them exits by itself',
    needsExitCheck: true,
    body: async ({ harness }) => {
      if (harness.exitsCleanly === undefined) throw new Error('unreachable: the case needs harness.exitsCleanly')
      const report = await harness.exitsCleanly()
      const output = report.output === undefined || report.output === '' ? '(no output)' : report.output
      assert(report.exited, `the process that ran peerRoundTrip did not exit by itself: something stayed open after every database and peer closed. Its output:\n${output}`)
      assertEqual(report.code, 0, `exit code of the process that ran peerRoundTrip (its output:\n${output}\n)`)
    }
  }
]
