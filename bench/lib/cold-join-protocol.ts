/**
 * What the `cold-join` scenario (`bench/scenarios/cold-join.ts`) and its
 * joiner processes (`cold-join-child.ts`) share: the joiner's arguments and
 * the timings it reports, the mark of its result line, and the framing of
 * the raw baseline's stream (`cold-join-raw.ts`). Imports nothing: both
 * the bench process and every joiner load it.
 * @module
 */

/** Which joiner a process runs. */
export type JoinMode = 'kadmium' | 'orbitdb' | 'raw'

/** What a joiner process gets (JSON, its one argument). */
export interface JoinArgs {
  readonly mode: JoinMode
  /** The writer's (or raw server's) multiaddrs, with `/p2p/<peer id>`; the Kadmium joiner bootstraps from the first. */
  readonly writer: readonly string[]
  /** The database's address (Kadmium, OrbitDB). */
  readonly address: string
  /** Records the writer holds: the joiner stops once it has all of them. */
  readonly records: number
  /** A fresh directory of the joiner's own (also its TMPDIR); the bench removes it after the process ended. */
  readonly dir: string
  /** The joiner gives up after this long, saying where it was (the bench kills it a little later). */
  readonly timeoutMs: number
}

/**
 * What a joiner reports: points in time, in ms since its process started
 * (`performance.now()`, whose origin is the process's start), plus that
 * origin itself. Points a joiner does not have are absent.
 */
export interface JoinTimes {
  readonly mode: JoinMode
  readonly records: number
  /** `performance.timeOrigin` of the joiner (ms since 1970): the bench compares it with when it spawned the process. */
  readonly timeOrigin: number
  /** Its modules imported (the joiner's code and everything it loads before starting its node). */
  readonly loadedAt: number
  /** Its node started: `nodePeer()` resolved (Kadmium), `startOrbitNode()` (libp2p, Helia and OrbitDB), `createLibp2p()` (raw). */
  readonly nodeStartedAt: number
  /** A connection to the writer open (Kadmium: the bootstrap dial, seen by the `connection:open` event; OrbitDB: its dial resolved; raw: the protocol stream open). */
  readonly connectedAt?: number
  /** Kadmium: identify with the writer done (`peer:identify`): the manifest can be asked for only then. */
  readonly identifiedAt?: number
  /** The database open: `createDatabase({ address })` or `orbitdb.open(address)` resolved; raw: the stream's header (the record count) read. */
  readonly openedAt: number
  /** Kadmium: the catch-up session with the writer started (its `sync` 'start' event). */
  readonly syncStartAt?: number
  /** The first records readable: the first live query callback with rows (Kadmium), the first `update` event (OrbitDB), the first update applied (raw). */
  readonly firstAt?: number
  /** Kadmium: the catch-up session ended (its `sync` 'done' event). */
  readonly syncDoneAt?: number
  /** Every record readable: the live query saw N rows (Kadmium), OrbitDB held N documents, the raw joiner applied the last update. */
  readonly readableAt: number
  /** Kadmium: the catch-up session's progress events, `[at, done, total]` (`done` counts applied items: records, then each collection's index). */
  readonly progress?: ReadonlyArray<readonly [number, number, number]>
  /** Kadmium: catch-up sessions with the writer that started (`sync` 'start' events) by the time every record was readable. */
  readonly sessions?: number
  /** Kadmium: whether the joiner's peer id sorts before the writer's (of two connected peers, that one leads: it starts the catch-up on connect). */
  readonly joinerLeads?: boolean
  /** Kadmium: how busy the joiner's event loop was (0–1, `performance.eventLoopUtilization`) from node started to open resolved, and from open resolved to all readable. */
  readonly busy?: { readonly opening: number, readonly catchingUp: number }
}

/** Marks the joiner's result line on its stdout (one JSON {@link JoinTimes}). */
export const JOIN_RESULT = '@@cold-join-result '

/** The raw baseline's protocol: the server writes a 4-byte record count, then one `[id length, id, update]` message per record, length-prefixed. */
export const RAW_PROTOCOL = '/kadmium-bench/cold-join-raw/1.0.0'
/** Messages per write on the raw stream (as `bench/scenarios/replicate.ts`'s baseline). */
export const RAW_WRITE_BATCH = 256
/** Largest message of the raw stream. */
export const RAW_MAX_MESSAGE = 4 * 1024 * 1024

/** What a joiner module (`cold-join-<mode>.ts`) gets from the process that runs it (`cold-join-child.ts`). */
export interface JoinContext {
  readonly args: JoinArgs
  /** Says what the joiner is doing now: the message if it runs out of time names it. */
  readonly phase: (what: string) => void
  /** Registers something to close once the result is out (or the joiner failed); the last registered closes first. */
  readonly onClose: (what: string, close: () => Promise<unknown>) => void
}
