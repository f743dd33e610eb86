/**
 * The test page of `browserPeer`: one peer per page, a database of notes
 * opened with it, and actions the Node side drives it with (JSON in and
 * out). Every wait in the page is bounded and polls for its condition.
 * @module
 */
import { createDatabase, type Collection, type Database, type Row, type Unsubscribe } from '@kadmium/core'
import { browserPeer, decodePeerKey, readPeerKey, writePeerKey, type BrowserPeer, type BrowserPeerOptions } from '@kadmium/browser'
import { z } from 'zod'
import { exposePage } from '../fixtures/browser/expose.ts'
import { waitUntil } from '../fixtures/browser/wait-until.ts'

const noteSchema = z.object({ title: z.string(), done: z.boolean(), body: z.string().optional() })
type Note = z.infer<typeof noteSchema>
/** A note as a read returns it: with its id. */
type NoteRow = Row<Note>

/** Replication of the page's databases: catch-up on connect and every 2 s, so that a peer that comes back catches up. */
const REPLICATION = { syncInterval: 2_000, closeTimeout: 1_000 }

/** How a test starts the page's peer. */
export interface StartOptions {
  readonly bootstrap?: readonly string[]
  readonly peerStore?: string
  readonly relayed?: boolean
  /** The identity to run with, as the bytes `exportIdentity` gave (a list of numbers). */
  readonly identity?: readonly number[]
}

/** One connection of the page's peer, as the tests look at it. */
export interface ConnectionInfo {
  readonly peer: string
  readonly address: string
  /** Relayed, with the relay's limits (no DHT, no gossipsub on it). */
  readonly limited: boolean
  /** A direct WebRTC connection to another browser (its address has /webrtc, and no limits). */
  readonly webrtc: boolean
}

let peer: BrowserPeer | undefined
let db: Database | undefined
let notes: Collection<Note> | undefined
let live: { rows: Note[], updates: number, stop: Unsubscribe } | undefined

const thePeer = (): BrowserPeer => {
  if (peer === undefined) throw new Error('start the peer first')
  return peer
}
const theNotes = (): Collection<Note> => {
  if (notes === undefined) throw new Error('open a database first')
  return notes
}

function use (opened: Database): void {
  db = opened
  notes = opened.collection('notes', { schema: noteSchema })
}

function connections (): ConnectionInfo[] {
  return thePeer().libp2p.getConnections().map((c) => {
    const address = c.remoteAddr.toString()
    return { peer: c.remotePeer.toString(), address, limited: c.limits !== undefined, webrtc: c.limits === undefined && address.includes('/webrtc/') }
  })
}

/** What the Node side may ask of this page. */
export const actions = {
  /** Starts the page's peer on the local network, with no STUN server; resolves its peer id. */
  start: async (options: StartOptions = {}): Promise<string> => {
    const given: BrowserPeerOptions = {
      network: 'local',
      rtcConfiguration: { iceServers: [] },
      bootstrap: options.bootstrap ?? [],
      ...(options.peerStore === undefined ? {} : { peerStore: options.peerStore }),
      ...(options.relayed === undefined ? {} : { relayed: options.relayed }),
      ...(options.identity === undefined ? {} : { privateKey: decodePeerKey(Uint8Array.from(options.identity)) })
    }
    peer = await browserPeer(given)
    return peer.peerId.toString()
  },
  /** Tries to start a peer with `options` as given (unchecked), and says how it failed: `{ name, address }`, or null if it started (then it is closed again). */
  startFails: async (options: unknown): Promise<{ name: string, address: string | null } | null> => {
    try {
      const started = await browserPeer(options as BrowserPeerOptions)
      await started.close()
      return null
    } catch (error) {
      const e = error as Error & { address?: string }
      return { name: e.name, address: e.address ?? null }
    }
  },
  /** The identity, as bytes (a list of numbers). */
  exportIdentity: async (): Promise<number[]> => [...thePeer().exportIdentity()],
  /** The peer id of the key kept in the peer store `name`, or null. */
  keptPeerId: async (name?: string): Promise<string | null> => {
    const key = await readPeerKey(name)
    // An Ed25519 public key as text is its peer id.
    return key === undefined ? null : key.publicKey.toString()
  },
  /** Replaces the key kept in the peer store `name` with the identity given as bytes. */
  replaceIdentity: async (identity: readonly number[], name?: string): Promise<void> => {
    await writePeerKey(decodePeerKey(Uint8Array.from(identity)), name)
  },
  /** The peer's addresses. */
  multiaddrs: async (): Promise<string[]> => thePeer().multiaddrs.map(String),
  /** Its connections. */
  connections: async (): Promise<ConnectionInfo[]> => connections(),
  /** Its status: connections, and where each bootstrap peer stands. */
  status: async (): Promise<{ connections: number, bootstrap: Array<{ address: string, state: string }> }> => {
    const status = thePeer().status
    return { connections: status.connections, bootstrap: status.bootstrap.map((b) => ({ address: b.address, state: b.state })) }
  },
  /** Waits until the peer has a relayed WebRTC address (a reservation on a relay); resolves it. */
  webrtcAddress: async (boundMs: number): Promise<string> => {
    let found: string | undefined
    await waitUntil('a /p2p-circuit/webrtc address', () => {
      found = thePeer().multiaddrs.map(String).find((a) => a.includes('/p2p-circuit/webrtc/'))
      return found !== undefined
    }, boundMs)
    return found as string
  },
  /** Waits until the peer has a relayed address (with no /webrtc: a limited connection through the relay); resolves it. */
  relayedAddress: async (boundMs: number): Promise<string> => {
    let found: string | undefined
    await waitUntil('a /p2p-circuit address', () => {
      found = thePeer().multiaddrs.map(String).find((a) => a.includes('/p2p-circuit/p2p/'))
      return found !== undefined
    }, boundMs)
    return found as string
  },
  /** Dials `address` (with retries); resolves the connection as {@link ConnectionInfo}. */
  dial: async (address: string): Promise<ConnectionInfo> => {
    const connection = await thePeer().dial(address, { attempts: 5 })
    const remote = connection.remoteAddr.toString()
    return { peer: connection.remotePeer.toString(), address: remote, limited: connection.limits !== undefined, webrtc: connection.limits === undefined && remote.includes('/webrtc/') }
  },
  /** Waits until the peer has a direct WebRTC connection to `peerId`. */
  waitForWebRTC: async (peerId: string, boundMs: number): Promise<void> => {
    await waitUntil(`a direct WebRTC connection to ${peerId}`, () => connections().some((c) => c.peer === peerId && c.webrtc), boundMs)
  },
  /** Waits until the peer has a connection to `peerId`. */
  waitForConnection: async (peerId: string, boundMs: number): Promise<void> => {
    await waitUntil(`a connection to ${peerId}`, () => connections().some((c) => c.peer === peerId), boundMs)
  },
  /** Creates the database `name` with the peer; resolves its address. */
  create: async (name: string): Promise<string> => {
    use(await createDatabase({ name, peer: thePeer(), replication: REPLICATION }))
    return (db as Database).address
  },
  /** Opens a database by address with the peer; resolves whether the peer had a connection when the database was open. */
  open: async (address: string, openTimeout: number): Promise<{ connectedWhenOpen: number }> => {
    use(await createDatabase({ address, peer: thePeer(), replication: REPLICATION, openTimeout }))
    return { connectedWhenOpen: thePeer().libp2p.getConnections().length }
  },
  /** Inserts a note; resolves its id. */
  insert: async (note: Note): Promise<string> => await theNotes().insert(note),
  /** Sets some fields of a note (the others stay as they are). */
  update: async (id: string, fields: Partial<Note>): Promise<void> => {
    await theNotes().update(id, (draft) => { Object.assign(draft, fields) })
  },
  /** The note `id`, or null. */
  get: async (id: string): Promise<NoteRow | null> => (await theNotes().get(id)) ?? null,
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
  /** Starts a live query of every note, by title. */
  subscribe: async (): Promise<void> => {
    const state = { rows: [] as Note[], updates: 0, stop: (() => {}) as Unsubscribe }
    state.stop = theNotes().subscribe({ orderBy: 'title' }, (rows) => {
      state.rows = rows.map((r) => ({ ...r }))
      state.updates++
    })
    live = state
  },
  /** Waits until the live query delivered rows with these titles; resolves how many results it delivered in all. */
  waitForLive: async (titles: readonly string[], boundMs: number): Promise<number> => {
    await waitUntil(`the live query to show ${titles.join(', ')}`, () => live !== undefined && JSON.stringify(live.rows.map((r) => r.title)) === JSON.stringify(titles), boundMs)
    return live?.updates ?? 0
  },
  /** Closes the peer (no database open), then asks it for storage; resolves the error's name, or null if it gave one. */
  closeThenStorage: async (): Promise<string | null> => {
    const closing = thePeer()
    await closing.close()
    peer = undefined
    try {
      await closing.storage('after-close')
      return null
    } catch (error) {
      return (error as Error).name
    }
  },
  /** Closes the database and the peer. */
  close: async (): Promise<void> => {
    live?.stop()
    live = undefined
    await db?.close()
    db = undefined
    notes = undefined
    await peer?.close()
    peer = undefined
  }
}

exposePage({ actions })
