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
