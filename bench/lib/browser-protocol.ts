/**
 * What the `browser` scenario's pages (`bench/browser/*.page.ts`) offer
 * the Node side: their actions' signatures (JSON in and out), so that the
 * Node side drives them typed without importing page code (which needs
 * the DOM's types). Types and constants only, for both sides.
 * @module
 */

/** The page action signature the Chromium fixture calls (`BrowserPage.act`). */
type Action<A extends unknown[], R> = (...args: A) => Promise<R>

/** Catch-up and discovery only when the scenario causes them; close waits at most 1 s for queued DHT puts (as `bench/lib/peers.ts`'s QUIET). */
export const QUIET_BROWSER_REPLICATION = Object.freeze({ syncInterval: 3_600_000, discoveryInterval: 3_600_000, closeTimeout: 1_000 })

/** The first query of a cold open: a first screen of open todos. */
export const FIRST_QUERY = Object.freeze({ where: { done: false }, orderBy: 'title', limit: 50 } as const)

/** How long one run of an action may take in a page (ms). */
export const ACTION_BOUND_MS = 120_000

/** What a cold open measured, in the page. */
export interface ColdOpen {
  /** `createDatabase` called → the first query's rows. */
  readonly openMs: number
  /** Navigation start (the page's time origin) → the first query's rows: loading the page's script included. */
  readonly sinceNavigationMs: number
  /** Rows the first query gave. */
  readonly rows: number
  /** Records in the collection (counted after the timed part). */
  readonly records: number
}

/** What a catch-up measured, in the page. */
export interface CatchUp {
  /** `browserPeer()` called → every record readable. */
  readonly fromStartMs: number
  /** The peer connected to the server → every record readable: `createDatabase({ address })` and the catch-up. */
  readonly fromOpenMs: number
  /** `browserPeer()` called → connected to the server. */
  readonly connectMs: number
  /** `createDatabase({ address })` called → resolved (the manifest read from the network). */
  readonly manifestMs: number
}

/** The actions of `bench/browser/local.page.ts`: IndexedDB alone, no network. */
export interface LocalActions {
  [name: string]: (...args: never[]) => Promise<unknown>
  /** Kadmium: inserts `records` todos one awaited insert at a time into a fresh database `name` (IndexedDB); resolves the ms; deletes it after. */
  kadmiumInsert: Action<[records: number, name: string], number>
  /** Baseline: per todo a fresh Y.Doc, its fields in a Y.Map, the update encoded, one awaited `idb` put, into a fresh IndexedDB database `name`; resolves the ms; deletes it after. */
  baselineInsert: Action<[records: number, name: string], number>
  /** Fills the Kadmium database `name` with `records` todos (chunks of concurrent inserts); resolves the ms. */
  fill: Action<[records: number, name: string], number>
  /** Opens the Kadmium database `name` from IndexedDB and runs {@link FIRST_QUERY}; closes it after. */
  coldOpen: Action<[name: string], ColdOpen>
  /** Deletes the IndexedDB database `name`. */
  drop: Action<[name: string], void>
}

/** Options of {@link PeerActions.catchUp}. */
export interface CatchUpOptions {
  readonly bootstrap: readonly string[]
  readonly address: string
  readonly records: number
  /** Makes the round's peer store and storage names unique (a page may run several rounds). */
  readonly round: number
}

/** Options of {@link PeerActions.start}. */
export interface StartOptions {
  readonly bootstrap: readonly string[]
  /** Names the page's peer store and storages: pages of one profile share IndexedDB. */
  readonly label: string
}

/** The ids and relayed WebRTC addresses of a page's Kadmium peer and bare node. */
export interface PagePeers {
  readonly kadmium: { readonly id: string, readonly webrtc: string }
  readonly bare: { readonly id: string, readonly webrtc: string }
}

/** Which of a page's two libp2p nodes. */
export type Which = 'kadmium' | 'bare'

/** The actions of `bench/browser/peer.page.ts`: Kadmium peers, and a bare libp2p node with gossipsub alone. */
export interface PeerActions {
  [name: string]: (...args: never[]) => Promise<unknown>
  /** A page opens the database `address` through the server (the page's first use of Kadmium's peer); closes and deletes it all after. */
  catchUp: Action<[options: CatchUpOptions], CatchUp>
  /** Starts the page's Kadmium peer and bare node, both relayed through `bootstrap`; resolves once both have a relayed WebRTC address. */
  start: Action<[options: StartOptions, boundMs: number], PagePeers>
  /** Dials the other page's nodes at their relayed WebRTC addresses; resolves once both connections are direct WebRTC ones. */
  connect: Action<[other: PagePeers, boundMs: number], void>
  /** Resolves once the other page's nodes are connected over direct WebRTC (no relay) and subscribed, and the meshes formed (or `boundMs` passed: then false). */
  ready: Action<[other: PagePeers, boundMs: number], boolean>
  /** Creates the database `name` with one todo; resolves its address and the todo's id. */
  create: Action<[name: string], { address: string, id: string }>
  /** Opens the database `address` and waits until the todo `id` is there. */
  open: Action<[address: string, id: string, boundMs: number], void>
  /** Starts recording when each title of todo `id` arrives (Kadmium), and each tagged message (bare). */
  watch: Action<[id: string], void>
  /** Sends sample `seq` on `which`: resolves the time it was sent (epoch ms, `performance.timeOrigin + performance.now()`); Kadmium waits for the write's DHT put after, untimed. */
  send: Action<[which: Which, seq: number, bytes: number], number>
  /** Resolves when sample `seq` of `which` arrived here (epoch ms, as {@link PeerActions.send}). */
  arrival: Action<[which: Which, seq: number, boundMs: number], number>
  /** The median size of the Kadmium envelopes this page's gossipsub delivered on the database's topic (bytes). */
  envelopeBytes: Action<[], number>
  /** Closes the database, the peer and the bare node. */
  close: Action<[], void>
}
