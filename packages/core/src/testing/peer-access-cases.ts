import type { RejectedEvent } from '../index.ts'
import { assert, assertDeepEqual, assertEqual, assertRejects } from './assert.ts'
import { idOf, notesOf, type PeerCaseDefinition } from './peer-harness.ts'

/** Restricted databases: every peer drops writes of identities the owners did not grant. */
export const peerAccessCases: readonly PeerCaseDefinition[] = [
  {
    name: 'peer: a restricted database refuses a stranger\'s writes, locally and on the wire, and takes those of a writer its owner granted',
    body: async ({ peer, connect, open, waitFor }) => {
      const owner = await peer()
      const writer = await peer()
      const stranger = await peer()
      const access = { owners: [idOf(owner)] }
      const dbO = await open(owner, { name: 'restricted', access })
      const dbW = await open(writer, { name: 'restricted', access })
      const dbS = await open(stranger, { name: 'restricted', access })
      assert(dbO.access.restricted, 'a database opened with owners is restricted')
      assertDeepEqual(dbO.access.owners, [idOf(owner)], 'the owners of the restricted database')
      assertEqual(dbS.address, dbO.address, 'the address of the database opened with the same name and owners on the stranger')
      const rejectedO: RejectedEvent[] = []
      const rejectedW: RejectedEvent[] = []
      dbO.on('rejected', (event) => { rejectedO.push(event) })
      dbW.on('rejected', (event) => { rejectedW.push(event) })
      await connect(owner, writer)
      await connect(stranger, owner)
      await connect(stranger, writer)
      await waitFor('every database to see the two others on its topic', () => dbO.status.peers === 2 && dbW.status.peers === 2 && dbS.status.peers === 2)
      const notesO = notesOf(dbO)
      const notesW = notesOf(dbW)
      const notesS = notesOf(dbS)

      // The owner writes; every peer takes it.
      await notesO.insert({ title: 'from the owner', rank: 1, done: false }, { id: 'o1' })
      await waitFor('the owner\'s write at the two other peers', async () =>
        (await notesW.get('o1', { network: false })) !== undefined && (await notesS.get('o1', { network: false })) !== undefined)

      // The stranger's own write is refused before anything is sent.
      assertEqual(dbS.access.canWrite(), false, 'canWrite() on the stranger')
      const refused = await assertRejects(() => notesS.insert({ title: 'from the stranger', rank: 2, done: false }, { id: 's1' }), 'an insert by the stranger')
      assertEqual(refused.name, 'UnauthorizedWriterError', 'name of the error of an insert by the stranger')
      const refusedUpdate = await assertRejects(() => notesS.update('o1', (draft) => { draft.title = 'taken over' }), 'an update by the stranger')
      assertEqual(refusedUpdate.name, 'UnauthorizedWriterError', 'name of the error of an update by the stranger')
      assertEqual(await notesS.get('s1', { network: false }), undefined, 'the stranger\'s refused insert, on the stranger')

      // A stranger that gets around its own check: an envelope it signed itself, published on the database's topic.
      const [{ encodeEnvelope }, { topicOf }, { signerOf }, Y] = await Promise.all([
        import('../sync/envelope.ts'), import('../sync/gossip.ts'), import('../access/identity.ts'), import('yjs')
      ])
      const forged = new Y.Doc()
      forged.getMap('fields').set('title', 'forged by the stranger')
      const envelope = await encodeEnvelope([{ collection: 'notes', target: 'record', id: 'o1', update: Y.encodeStateAsUpdate(forged) }],
        signerOf(stranger.privateKey), { address: dbO.address })
      await stranger.libp2p.services.pubsub.publish(topicOf(dbO.address), envelope)
      const unauthorized = (events: readonly RejectedEvent[]): boolean => events.some((e) => e.reason.startsWith('UnauthorizedWriterError'))
      await waitFor('the owner and the writer to refuse the stranger\'s envelope (a rejected event with UnauthorizedWriterError)', () => unauthorized(rejectedO) && unauthorized(rejectedW))
      assertEqual((await notesO.get('o1', { network: false }))?.title, 'from the owner', 'the record on the owner after the stranger\'s forged update')
      assertEqual((await notesW.get('o1', { network: false }))?.title, 'from the owner', 'the record on the writer after the stranger\'s forged update')

      // Granted by the owner, the writer's writes count everywhere.
      assertEqual(dbW.access.canWrite(), false, 'canWrite() on the writer before the grant')
      const early = await assertRejects(() => notesW.insert({ title: 'too early', rank: 3, done: false }), 'an insert by the writer before the grant')
      assertEqual(early.name, 'UnauthorizedWriterError', 'name of the error of an insert by the writer before the grant')
      await dbO.access.grant(idOf(writer))
      await waitFor('the grant to reach the writer and the stranger', () => dbW.access.canWrite() && dbS.access.canWrite(idOf(writer)))
      await notesW.insert({ title: 'from the writer', rank: 4, done: false }, { id: 'w1' })
      await waitFor('the granted writer\'s insert at the owner and the stranger', async () =>
        (await notesO.get('w1', { network: false })) !== undefined && (await notesS.get('w1', { network: false })) !== undefined)
      assertDeepEqual((await notesO.find({ orderBy: 'rank' })).map((row) => [row.id, row.title]), [['o1', 'from the owner'], ['w1', 'from the writer']], 'the records on the owner')
      const stillRefused = await assertRejects(() => notesS.insert({ title: 'still a stranger', rank: 5, done: false }), 'an insert by the stranger after another writer was granted')
      assertEqual(stillRefused.name, 'UnauthorizedWriterError', 'name of the error of an insert by the stranger after the grant to another')
    }
  }
]
