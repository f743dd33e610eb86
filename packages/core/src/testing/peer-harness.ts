/**
 * The peer conformance suite's harness: how it gets peers from an adapter,
 * connects them, and what each case body is given. Platform-neutral: it
 * uses timers and `AbortSignal` only, no test runner and no Node.js module.
 * @module
 */
import type { ConformanceCase } from './test-case.ts'
import { createDatabase, type Collection, type Database, type DatabaseOptions, type Peer, type ReplicationOptions } from '../index.ts'
import { AssertionError } from './assert.ts'
import { noteSchema, type Note } from './note-schema.ts'

/** How a process that ran {@link PeerHarness.exitsCleanly}'s round trip ended. */
export interface ExitReport {
  /**
   * Whether it ended by itself within the harness's bound; `false` if it
   * was still running then (and had to be stopped).
   */
  readonly exited: boolean
  /** Its exit code (`0`: the round trip succeeded), or `null` if it was stopped by a signal. */
  readonly code: number | null
  /** What it printed (or any other diagnostics), for the failure message. */
  readonly output?: string
}

/**
 * How the peer conformance suite gets peers to test. A name is a short
 * string of letters, digits and `-` that the suite invents, never the
 * same twice in one case; the harness maps it to a data directory, a
 * memory address, or nothing at all.
 */
export interface PeerHarness {
  /**
   * Starts a new peer: listening, with a fresh identity and empty storage,
   * and connected to no one. Its addresses (`libp2p.getMultiaddrs()`) must
   * be dialable by the harness's other peers.
   */
  create (name: string): Promise<Peer>
  /**
   * Connects `a` to `b` (`a` dials). Resolves once the connection is open
   * on `a`'s side.
   * @default `a.libp2p.dial(b.libp2p.getMultiaddrs())`, tried up to 5 times (simultaneous dials sometimes fail once)
   */
  connect? (a: Peer, b: Peer): Promise<void>
  /**
   * Longest wait (ms) for any one condition the suite polls for (a record
   * to arrive, a connection to close); make it larger on slow platforms.
   * @default 20000
   */
  readonly waitMs?: number
  /** Called after every case, once the suite has closed its databases and peers: remove what the case left. */
  cleanup? (): Promise<void>
  /**
   * Runs {@link peerRoundTrip} with this harness's peers in a fresh
   * process (Node.js: a child process; a platform that has no such thing
   * leaves this out, and the suite leaves its case out) and reports
   * whether that process then ended by itself, within a generous bound of
   * the harness's choosing: a timer, socket or stream left open by closed
   * databases and peers keeps a process alive.
   */
  exitsCleanly? (): Promise<ExitReport>
}

/** One peer conformance case: run `fn` with your test runner under `name`. */
export type PeerTestCase = ConformanceCase

/** What a peer case body gets: peers and databases of its own, closed for it afterwards. */
export interface PeerCaseContext {
  /** The harness the suite was given. */
  readonly harness: PeerHarness
  /** Starts a new peer through the harness (its `n`th of the case, named after the case). */
  readonly peer: () => Promise<Peer>
  /** Connects `a` to `b` (the harness's `connect`, or the default dial). */
  readonly connect: (a: Peer, b: Peer) => Promise<void>
  /**
   * Opens a database on `peer` with the suite's replication options
   * (`options` are merged over them). Closed after the case, before the peers.
   */
  readonly open: (peer: Peer, options: Omit<DatabaseOptions, 'peer' | 'storage'>) => Promise<Database>
  /** Resolves once `check` holds; rejects naming `what` after the harness's `waitMs`. */
  readonly waitFor: (what: string, check: () => boolean | Promise<boolean>) => Promise<void>
}

/** The body of a peer case. */
export type PeerCaseBody = (ctx: PeerCaseContext) => Promise<void>

/** A peer case as the suite's files declare it. */
export interface PeerCaseDefinition {
  readonly name: string
  readonly body: PeerCaseBody
  /** Only for harnesses that have {@link PeerHarness.exitsCleanly}. @default false */
  readonly needsExitCheck?: boolean
}

/** The suite's default {@link PeerHarness.waitMs}. */
export const DEFAULT_WAIT_MS = 20_000

/**
 * Replication options of the suite's databases: no periodic catch-up and
 * no periodic DHT discovery, so that what a case checks arrives by the way
 * it is meant to (live gossip, the catch-up a new connection starts, a DHT
 * read), not by a timer; a short wait for queued DHT puts on close.
 */
export const SUITE_REPLICATION: ReplicationOptions = Object.freeze({
  syncInterval: 3_600_000,
  discoveryInterval: 3_600_000,
  closeTimeout: 2_000
})

/** Connection attempts of the default connect. */
const DIAL_ATTEMPTS = 5
/** Longest wait for one attempt of the default connect (ms). */
const DIAL_TIMEOUT_MS = 5_000
/** Polling period of {@link waitUntil} (ms). */
const POLL_MS = 20

/**
 * The default {@link PeerHarness.connect}: `a` dials `b`'s addresses,
 * again (up to 5 attempts) when an attempt fails.
 */
export async function dialPeer (a: Peer, b: Peer): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await a.libp2p.dial(b.libp2p.getMultiaddrs(), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      return
    } catch (error) {
      if (attempt >= DIAL_ATTEMPTS) throw error
      await pause(50 * attempt)
    }
  }
}

/**
 * Resolves once `check` returns true (polling every 20 ms); rejects with an
 * `AssertionError` naming `what` once `timeoutMs` passed.
 */
export async function waitUntil (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new AssertionError(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await pause(POLL_MS)
  }
}

/** Resolves after `ms`. */
export async function pause (ms: number): Promise<void> {
  await new Promise<void>((resolve) => { setTimeout(resolve, ms) })
}

let suites = 0

/**
 * Turns peer case definitions into runnable cases. Each case gets peers
 * of its own; afterwards every database it opened is closed, then every
 * peer (errors ignored: the case may have closed them already), then the
 * harness cleans up.
 */
export function makePeerCases (harness: PeerHarness, definitions: readonly PeerCaseDefinition[]): PeerTestCase[] {
  const suite = ++suites
  const waitMs = harness.waitMs ?? DEFAULT_WAIT_MS
  const connect = harness.connect?.bind(harness) ?? dialPeer
  return definitions
    .filter((definition) => harness.exitsCleanly !== undefined || definition.needsExitCheck !== true)
    .map((definition, i) => ({
      name: definition.name,
      fn: async () => {
        const peers: Peer[] = []
        const databases: Database[] = []
        const ctx: PeerCaseContext = {
          harness,
          peer: async () => {
            const peer = await harness.create(`kadmium-peer-${suite}-${i}-${peers.length}`)
            peers.push(peer)
            return peer
          },
          connect,
          open: async (peer, options) => {
            const db = await createDatabase({ ...options, peer, replication: { ...SUITE_REPLICATION, ...options.replication } })
            databases.push(db)
            return db
          },
          waitFor: async (what, check) => { await waitUntil(what, check, waitMs) }
        }
        let failed = false
        try {
          await definition.body(ctx)
        } catch (error) {
          failed = true
          throw error
        } finally {
          await closeAll(databases, peers)
          try {
            await harness.cleanup?.()
          } catch (error) {
            // A failing case's own error says more than its cleanup's.
            if (!failed) throw error
          }
        }
      }
    }))
}

/** Closes the databases, then the peers (newest first); errors are ignored (closed already, or the case's failure says more). */
export async function closeAll (databases: readonly Database[], peers: readonly Peer[]): Promise<void> {
  await Promise.allSettled(databases.map(async (db) => db.close()))
  await Promise.allSettled([...peers].reverse().map(async (peer) => peer.close()))
}

/** The collection of notes every peer case uses. */
export function notesOf (db: Database): Collection<Note> {
  return db.collection('notes', { schema: noteSchema })
}

/** Whether `a` has an open connection to `b`. */
export function isConnected (a: Peer, b: Peer): boolean {
  return a.libp2p.getConnections(b.libp2p.peerId).length > 0
}

/** The peer's id, as a string. */
export function idOf (peer: Peer): string {
  return peer.libp2p.peerId.toString()
}
