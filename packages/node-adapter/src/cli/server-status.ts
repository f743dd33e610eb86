/**
 * What `kadmium status` (and `serverStatus()`) report of a running server.
 * @module
 */

/** What `kadmium status` shows of a pin. */
export interface PinStatus {
  /** The database's address, as pinned. */
  readonly address: string
  /** The database's name, once it is open. */
  readonly name?: string
  /** `open`, or `opening` while its manifest cannot be had yet (retried every 30 s). */
  readonly state: 'open' | 'opening'
  /** Why it is still `opening` (`ErrorName: message`). */
  readonly error?: string
  /** Live records per collection. */
  readonly records?: Readonly<Record<string, number>>
  /** When its last catch-up session with a peer ended well (ISO). */
  readonly lastSync?: string
  /** Writes not yet durable on the server, or not yet put in the DHT. */
  readonly pendingWrites?: number
  /** Connected peers that replicate it. */
  readonly peers?: number
  /** Its DHT records: puts waiting, parked (offline or given up), records kept for republishing, and when the next is due (ISO). */
  readonly dht?: {
    /** Puts queued. */
    readonly waiting: number
    /** Puts parked: written offline, or given up after their attempts (they run again once a peer connects). */
    readonly parked: number
    /** Records and indexes kept for republishing. */
    readonly republishing: number
    /** When the next republish is due (ISO). */
    readonly nextRepublish?: string
  }
}

/** What `kadmium status` shows. */
export interface ServerStatus {
  /** The server's peer id. */
  readonly peerId: string
  /** The addresses it listens on or announces, each with `/p2p/<peer id>`. */
  readonly addresses: readonly string[]
  /** Open libp2p connections. */
  readonly connections: number
  /** The process's memory (MB): resident set, and the JavaScript heap in use. */
  readonly memory: {
    /** Resident set size (MB). */
    readonly rssMB: number
    /** JavaScript heap in use (MB). */
    readonly heapUsedMB: number
  }
  /** Every pinned database. */
  readonly pins: readonly PinStatus[]
}
