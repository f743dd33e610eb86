import type { Peer } from '../index.ts'
import { assert, assertDeepEqual, assertEqual } from './assert.ts'
import { DEFAULT_WAIT_MS, isConnected, notesOf, type PeerCaseDefinition } from './peer-harness.ts'

/** Peers that only serve the DHT (no database open) in the DHT case. */
const DHT_PEERS = 2

/** Durable records in the DHT, through the peer's kad-dht. */
export const peerDhtCases: readonly PeerCaseDefinition[] = [
  {
    name: 'peer: a durable write (replicas: 1) resolves, and a peer that never met the writer reads the record by id from the DHT after the writer closed',
    body: async ({ peer, connect, open, waitFor, harness }) => {
      // DHT peers with no database open: they hold what is put, nothing more.
      const mesh: Peer[] = []
      for (let i = 0; i < DHT_PEERS; i++) {
        const m = await peer()
        for (const other of mesh) await connect(m, other)
        mesh.push(m)
      }

      const writer = await peer()
      for (const m of mesh) await connect(writer, m)
      const dbW = await open(writer, { name: 'dht' })
      const notesW = notesOf(dbW)
      const wait = { replicas: 1, timeout: harness.waitMs ?? DEFAULT_WAIT_MS }
      // Each resolves only once a DHT peer acknowledged it (else DurabilityError).
      const id = await notesW.insert({ title: 'kept by strangers', rank: 1, done: false }, { durability: wait })
      await notesW.update(id, (draft) => { draft.done = true }, { durability: wait })
      await dbW.close()
      await writer.close()

      const reader = await peer()
      for (const m of mesh) await connect(reader, m)
      assert(!isConnected(reader, writer), 'the reader never met the writer')
      const dbR = await open(reader, { name: 'dht' })
      const notesR = notesOf(dbR)
      assertEqual(await notesR.get(id, { network: false }), undefined, 'the record on the reader before it looks in the DHT')
      // The reader's routing table fills as its connections are identified: a read before that misses.
      await waitFor('the reader\'s get to find the record in the DHT', async () => (await notesR.get(id)) !== undefined)
      assertDeepEqual(await notesR.get(id, { network: false }), { id, title: 'kept by strangers', rank: 1, done: true }, 'the record read from the DHT, with the writer\'s update, then held locally')
      assertEqual(await notesR.count(), 1, 'records the reader holds after the read')
      assert(!isConnected(reader, writer), 'the reader read the record without meeting the writer')
    }
  }
]
