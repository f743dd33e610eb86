/**
 * What `kadmium status` (and `serverStatus()`) report of a running server.
 * @module
 */

/** What `kadmium status` shows of a pin. */
export interface PinStatus {
  readonly address: string
  readonly name?: string
  readonly state: 'open' | 'opening'
  readonly error?: string
  /** Live records per collection. */
  readonly records?: Readonly<Record<string, number>>
  readonly lastSync?: string
  readonly pendingWrites?: number
  readonly peers?: number
  /** Its DHT records: puts waiting, parked (offline or given up), records kept for republishing, and when the next is due (ISO). */
  readonly dht?: { readonly waiting: number, readonly parked: number, readonly republishing: number, readonly nextRepublish?: string }
}

/** What `kadmium status` shows. */
export interface ServerStatus {
  readonly peerId: string
  readonly addresses: readonly string[]
  readonly connections: number
  /** The process's memory (MB): resident set, and the JavaScript heap in use. */
  readonly memory: { readonly rssMB: number, readonly heapUsedMB: number }
  readonly pins: readonly PinStatus[]
}
