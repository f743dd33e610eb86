/**
 * The test page of the encrypted, access-controlled scenario: one peer per
 * page and one restricted, encrypted database of notes, driven by the
 * Node side (JSON in and out). (Plain sync and the offline scenario use
 * `browser-peer.page.ts`.) Every wait in the page is bounded and polls.
 * @module
 */
import { createDatabase, type Collection, type Database, type Row } from '@kadmium/core'
import { browserPeer, type BrowserPeer } from '@kadmium/browser'
import { z } from 'zod'
import { exposePage } from '../fixtures/browser/expose.ts'
import { waitUntil } from '../fixtures/browser/wait-until.ts'

const noteSchema = z.object({ title: z.string(), done: z.boolean(), body: z.string().optional() })
type Note = z.infer<typeof noteSchema>
type NoteRow = Row<Note>

/** Catch-up on connect and every 2 s. */
const REPLICATION = { syncInterval: 2_000, closeTimeout: 1_000 }

let peer: BrowserPeer | undefined
let db: Database | undefined
let notes: Collection<Note> | undefined

const thePeer = (): BrowserPeer => {
  if (peer === undefined) throw new Error('start the peer first')
  return peer
}
const theDb = (): Database => {
  if (db === undefined) throw new Error('open a database first')
  return db
}
const theNotes = (): Collection<Note> => {
  if (notes === undefined) throw new Error('open a database first')
  return notes
}

function use (opened: Database): void {
  db = opened
  notes = opened.collection('notes', { schema: noteSchema })
}

export const actions = {
  /** Starts the page's peer on the local network; resolves its peer id. */
  start: async (bootstrap: readonly string[]): Promise<string> => {
    peer = await browserPeer({ network: 'local', rtcConfiguration: { iceServers: [] }, bootstrap })
    return peer.peerId.toString()
  },
  /** Waits until the peer has a connection to `peerId`. */
  waitForConnection: async (peerId: string, boundMs: number): Promise<void> => {
    await waitUntil(`a connection to ${peerId}`, () => thePeer().libp2p.getConnections().some((c) => c.remotePeer.toString() === peerId), boundMs)
  },
  /** Creates the database `name`, owned by this page's peer alone, encrypted with `passphrase`; resolves its address. */
  createRestricted: async (name: string, passphrase: string): Promise<string> => {
    use(await createDatabase({ name, peer: thePeer(), replication: REPLICATION, access: { owners: [thePeer().peerId.toString()] }, encryption: { passphrase } }))
    return theDb().address
  },
  /** Opens a database by address with `passphrase`. */
  openEncrypted: async (address: string, passphrase: string, openTimeout: number): Promise<void> => {
    use(await createDatabase({ address, peer: thePeer(), replication: REPLICATION, openTimeout, encryption: { passphrase } }))
  },
  /** Grants `peerId` as a writer (owners only). */
  grant: async (peerId: string): Promise<void> => { await theDb().access.grant(peerId) },
  /** The writers this page knows of. */
  writers: async (): Promise<string[]> => [...theDb().access.writers()],
  /** Waits until this page knows `peerId` as a writer. */
  waitForWriter: async (peerId: string, boundMs: number): Promise<void> => {
    await waitUntil(`${peerId} to be a writer`, () => theDb().access.writers().includes(peerId), boundMs)
  },
  /** Inserts a note; resolves its id. */
  insert: async (note: Note): Promise<string> => await theNotes().insert(note),
  /** Tries to insert a note; resolves the error's name, or null if it was written. */
  insertFails: async (note: Note): Promise<string | null> => {
    try {
      await theNotes().insert(note)
      return null
    } catch (error) {
      return (error as Error).name
    }
  },
  /** Every note, by title. */
  titles: async (): Promise<string[]> => (await theNotes().find({ orderBy: 'title' })).map((n) => n.title),
  /** Waits until note `id` has these fields; resolves it. */
  waitForNote: async (id: string, fields: Partial<Note>, boundMs: number): Promise<NoteRow> => {
    let note: NoteRow | undefined
    await waitUntil(`note ${id} to be ${JSON.stringify(fields)}`, async () => {
      note = await theNotes().get(id)
      return note !== undefined && Object.entries(fields).every(([k, v]) => note?.[k as keyof Note] === v)
    }, boundMs)
    return note as NoteRow
  },
  /** Closes the database and the peer. */
  close: async (): Promise<void> => {
    await db?.close()
    db = undefined
    notes = undefined
    await peer?.close()
    peer = undefined
  }
}

exposePage({ actions })
