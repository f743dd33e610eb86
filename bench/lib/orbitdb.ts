/**
 * The OrbitDB 4 baseline: `@orbitdb/core` on Helia 6, set up as OrbitDB's
 * README documents it — a libp2p node with gossipsub (as `pubsub`, with
 * `allowPublishToZeroTopicPeers` so that a lone peer can write) and
 * identify, handed to `createHelia({ libp2p })`, then `createOrbitDB({ ipfs })`
 * — with persistent LevelDB storage in a temp dir (Helia's blocks in
 * `blockstore-level`, OrbitDB's heads, index and keystore in its own level
 * stores under `directory`), like OrbitDB's quickstart.
 *
 * Departures from the README, all to stay on this machine: libp2p listens
 * on TCP 127.0.0.1 only (noise, yamux), and Helia gets only bitswap to
 * fetch blocks and only libp2p routing, not its defaults' HTTP gateways
 * and delegated routing (which would reach the internet). Helia's own
 * datastore (pins) stays its default, in memory.
 * @module
 */
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bitswap } from '@helia/block-brokers'
import { libp2pRouting } from '@helia/routers'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createOrbitDB, type DocumentsDatabase, type OrbitDB } from '@orbitdb/core'
import { LevelBlockstore } from 'blockstore-level'
import { createHelia, type Helia } from 'helia'
import { createLibp2p } from 'libp2p'
import type { Todo } from './fixtures.ts'
import { makeTempDir, removeTempDir } from './tempdir.ts'
import { bounded } from './wait.ts'

/** A todo as an OrbitDB document: the record plus its key, `_id` (OrbitDB's default `indexBy`). */
export type OrbitTodo = Todo & { readonly _id: string }

/** The libp2p services OrbitDB needs. */
export interface OrbitServices {
  pubsub: GossipSub
  identify: Identify
  [name: string]: unknown
}

/** One OrbitDB peer: libp2p, Helia and OrbitDB, with its data in a temp dir. */
export interface OrbitNode {
  readonly libp2p: Libp2p<OrbitServices>
  readonly helia: Helia<Libp2p<OrbitServices>>
  readonly orbitdb: OrbitDB
  readonly dir: string
  /** Stops OrbitDB (closing its open databases), Helia and libp2p, each bounded, and removes the directory. Never throws. */
  close (): Promise<string[]>
}

const STOP_MS = 15_000

/** Starts an OrbitDB peer listening on 127.0.0.1 (TCP, port chosen by the system). */
export async function startOrbitNode (label: string): Promise<OrbitNode> {
  const dir = makeTempDir(`orbitdb-${label}`)
  const libp2p = await createLibp2p<OrbitServices>({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true })
    }
  })
  const blockstore = new LevelBlockstore(join(dir, 'ipfs', 'blocks'))
  const helia = await createHelia({
    libp2p,
    blockstore,
    blockBrokers: [bitswap()],
    routers: [libp2pRouting(libp2p)]
  })
  const orbitdb = await createOrbitDB({ ipfs: helia, directory: join(dir, 'orbitdb') })
  return {
    libp2p,
    helia,
    orbitdb,
    dir,
    async close () {
      const problems: string[] = []
      const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
        try {
          await bounded(fn(), STOP_MS, `stopping ${what}`)
        } catch (error) {
          problems.push(`OrbitDB ${label}: ${(error as Error).message}`)
        }
      }
      await step('OrbitDB', async () => orbitdb.stop())
      await step('Helia', async () => helia.stop())
      await step('libp2p', async () => libp2p.stop())
      await step('the blockstore', async () => blockstore.close())
      await removeTempDir(dir).catch(() => {})
      return problems
    }
  }
}

/** Opens (creates) a documents database on `node` under a name no other run uses. */
export async function createOrbitDocuments (node: OrbitNode, name: string): Promise<DocumentsDatabase<OrbitTodo>> {
  return node.orbitdb.open<OrbitTodo>(`${name}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`, { type: 'documents' })
}

/**
 * Waits until the documents database holds `n` documents, and resolves
 * when they were there: the time of the `update` event after which
 * `all()` counted `n` (OrbitDB emits one once it has joined a head and
 * every entry it references), or, if no event came, the time a poll (every
 * `pollMs`) that counted `n` started. `all()` walks the whole log (seconds
 * for 10,000 entries), so it is neither polled often nor counted in the
 * time: the result leans in OrbitDB's favour.
 */
export async function waitForDocuments (db: DocumentsDatabase<OrbitTodo>, n: number, timeoutMs: number, pollMs = 1_000): Promise<number> {
  let doneAt: number | undefined
  let checking: Promise<void> | undefined
  let wake: (() => void) | undefined
  const check = (at: number): Promise<void> => {
    checking ??= (async () => {
      try {
        if ((await db.all()).length >= n) doneAt ??= at
      } finally {
        checking = undefined
        wake?.()
      }
    })()
    return checking
  }
  const onUpdate = (): void => {
    const at = performance.now()
    // A check already running may have started before this update: check again after it.
    void (checking ?? Promise.resolve()).then(async () => check(at)).catch(() => {})
  }
  db.events.on('update', onUpdate)
  const deadline = performance.now() + timeoutMs
  try {
    await check(performance.now())
    while (doneAt === undefined) {
      if (performance.now() > deadline) throw new Error(`OrbitDB: not all ${n} documents arrived within ${Math.round(timeoutMs / 1000)} s`)
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, pollMs)
      })
      wake = undefined
      if (doneAt === undefined && checking === undefined) await check(performance.now())
    }
    return doneAt
  } finally {
    db.events.off('update', onUpdate)
  }
}
