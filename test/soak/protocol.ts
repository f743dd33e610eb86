/**
 * What a soak peer process and the run say to each other over IPC.
 * @module
 */
import type { Histogram } from './histogram.ts'

/** How the run starts a peer process (its one argument, as JSON). */
export interface PeerConfig {
  readonly index: number
  /** Every peer's index: whose stable records it times. */
  readonly peers: readonly number[]
  /** The data directory (kept across restarts). */
  readonly dir: string
  /** Addresses of the peers up now, dialed at start. */
  readonly bootstrap: readonly string[]
  /** Seed of its writes. */
  readonly seed: number
  /** How often it reports a {@link PeerSample} (ms). */
  readonly sampleMs: number
}

/** A peer process, started. */
export interface Ready {
  readonly id: string
  readonly addresses: readonly string[]
  /** The database's address (its gossip topic is `/kadmium/db/<address>`). */
  readonly address: string
}

/** What a peer process reports every {@link PeerConfig.sampleMs}: counts are since its last sample. */
export interface PeerSample {
  /** When (ms since 1970). */
  readonly t: number
  /** Resident set size (bytes). */
  readonly rss: number
  /** JS heap used right after the last full GC (bytes): what was live then. */
  readonly heap: number
  /** Memory of ArrayBuffers and other objects outside the JS heap (bytes). */
  readonly external: number
  /** `db.status.pendingWrites`: writes not yet durable on the device or not yet put in the DHT. */
  readonly pendingWrites: number
  readonly dhtWaiting: number
  readonly dhtParked: number
  /** Records kept for republishing in the DHT. */
  readonly republishing: number
  /** `db.status.droppedEnvelopes` since the database opened. */
  readonly dropped: number
  /** `db.status.peers`: connected peers that replicate the database. */
  readonly peers: number
  /** Writes acknowledged. */
  readonly writes: number
  /** Writes rejected, by error name. */
  readonly failed: Readonly<Record<string, number>>
  /** Writes due but not issued (too many in flight: it could not keep up). */
  readonly skipped: number
  /** Writes in flight now. */
  readonly inFlight: number
  /** Remote changes of records received. */
  readonly changes: number
  /** Propagation times of stamped updates received (ms). */
  readonly propagation: Histogram
  /** `rejected` events (garbage, bad signatures, throttled authors). */
  readonly rejected: number
  /** CPU time used (ms). */
  readonly cpuMs: number
  /** The event loop's 99th-percentile delay (ms). */
  readonly loopP99: number
}

/** A peer's memory after full GCs (bytes): what it retains. */
export interface Retained {
  readonly rss: number
  readonly heap: number
}

/** A request of the run to a peer process. */
export interface Request {
  readonly id: number
  readonly method: 'load' | 'stop-load' | 'sync' | 'snapshot' | 'memory' | 'close'
  readonly arg?: unknown
}

/** What a peer process sends: its start, a sample, or an answer to a request. */
export type PeerMessage =
  | { readonly ready: Ready }
  | { readonly sample: PeerSample }
  | { readonly id: number, readonly result?: unknown, readonly error?: string }
