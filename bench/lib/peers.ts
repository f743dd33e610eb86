/**
 * Kadmium peers for the scenarios that replicate: `nodePeer` on TCP
 * 127.0.0.1 (no mDNS, network mode 'local'), data in temp dirs, and a
 * {@link Cleanup} that stops whatever a scenario started.
 * @module
 */
import { join } from 'node:path'
import { createDatabase, type ReplicationOptions } from '@kadmium/core'
import { nodePeer, type NodePeer } from '@kadmium/node'
import { COLLECTION, DB_NAME, todoSchema, type KadmiumTodos } from './fixtures.ts'
import { makeTempDir, removeTempDir } from './tempdir.ts'
import { bounded } from './wait.ts'

/**
 * Catch-up and discovery only when a scenario causes them (a connection,
 * a peer joining the topic), never on a timer during a measurement; close
 * waits at most 1 s for queued DHT puts.
 */
export const QUIET: ReplicationOptions = Object.freeze({ syncInterval: 3_600_000, discoveryInterval: 3_600_000, closeTimeout: 1_000 })

const STOP_MS = 15_000

/** Things to stop when a scenario (or a round) ends, in reverse order, each bounded. */
export class Cleanup {
  readonly #steps: Array<{ readonly what: string, readonly run: () => Promise<unknown> }> = []

  /** Registers a step. */
  add (what: string, run: () => Promise<unknown>): void {
    this.#steps.push({ what, run })
  }

  /** Runs every step (last registered first); resolves the problems met. Never throws. */
  async run (): Promise<string[]> {
    const problems: string[] = []
    for (const { what, run } of this.#steps.splice(0).reverse()) {
      try {
        const result = await bounded(run(), STOP_MS, what)
        if (Array.isArray(result)) problems.push(...(result as string[]))
      } catch (error) {
        problems.push(`${what}: ${(error as Error).message}`)
      }
    }
    return problems
  }
}

/** Runs `fn` with a {@link Cleanup} that always runs afterwards; cleanup problems go to `log`. */
export async function withCleanup<T> (log: (line: string) => void, fn: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup()
  try {
    return await fn(cleanup)
  } finally {
    for (const problem of await cleanup.run()) log(`cleanup: ${problem}`)
  }
}

/** Starts a Kadmium peer on 127.0.0.1 with its data in a new temp dir; `cleanup` closes it and removes the dir. */
export async function startPeer (label: string, cleanup: Cleanup, dataDir?: string): Promise<NodePeer> {
  const dir = dataDir ?? makeTempDir(`peer-${label}`)
  const peer = await nodePeer({ dataDir: join(dir, 'peer'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, network: 'local' })
  cleanup.add(`removing the data of peer ${label}`, async () => { if (dataDir === undefined) await removeTempDir(dir) })
  cleanup.add(`closing peer ${label}`, async () => peer.close())
  return peer
}

/** Opens the bench database (by name, or by `address`) on `peer`, with {@link QUIET} replication; `cleanup` closes it. */
export async function openShared (peer: NodePeer, cleanup: Cleanup, by: { readonly address: string } | { readonly name: string } = { name: DB_NAME }): Promise<KadmiumTodos> {
  // Opened by name: the peer's storage is at hand (for `settled`).
  const storage = 'name' in by ? await peer.storage(by.name) : undefined
  const db = await createDatabase({ ...by, peer, ...(storage !== undefined ? { storage } : {}), replication: QUIET })
  cleanup.add(`closing database on ${peer.peerId.toString().slice(-6)}`, async () => db.close())
  return { db, todos: db.collection(COLLECTION, { schema: todoSchema }), settled: async () => { await storage?.settled?.() } }
}

/** Connects `from` to `to` on its loopback address (nodePeer's dial retries simultaneous opens). */
export async function connectPeers (from: NodePeer, to: NodePeer): Promise<void> {
  const address = to.multiaddrs[0]
  if (address === undefined) throw new Error('the peer listens on no address')
  await from.dial(address, { signal: AbortSignal.timeout(10_000) })
}
