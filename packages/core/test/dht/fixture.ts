/**
 * The DHT nodes and stores of one `describe` block: a mesh of servers
 * started before its tests; stores and extra nodes made by the tests; all
 * of them stopped after.
 */
import { after, before } from 'node:test'
import { DhtStore, type DhtStoreOptions } from '../../src/dht/dht-store.ts'
import type { ReplicaSecurity } from '../../src/access/replica-security.ts'
import { createDhtNode, createMesh, stopAll, type DhtNode, type DhtNodeOptions, type KadDHTHolder } from './helpers.ts'

/** What {@link dhtFixture} hands a `describe` block. */
export interface DhtFixture {
  /** The mesh's servers (filled in by `before`). */
  readonly mesh: DhtNode[]
  /** Nodes outside the mesh that the block stops too. */
  readonly extra: DhtNode[]
  /** A store of the database `address` on `node`, signing as `security`. */
  readonly storeOn: (node: DhtNode | KadDHTHolder, security: ReplicaSecurity, options?: DhtStoreOptions) => DhtStore
  /** A node outside the mesh (connected to nothing yet). */
  readonly extraNode: (options?: DhtNodeOptions) => Promise<DhtNode>
}

/** Registers `before`/`after` hooks for a mesh of `size` servers; call it inside `describe`. */
export function dhtFixture (address: string, size: number): DhtFixture {
  const mesh: DhtNode[] = []
  const extra: DhtNode[] = []
  const stores: DhtStore[] = []
  before(async () => {
    mesh.push(...await createMesh(size))
  })
  after(async () => {
    await Promise.all(stores.map(async (s) => { await s.stop() }))
    await stopAll([...mesh, ...extra])
  })
  return {
    mesh,
    extra,
    storeOn: (node, security, options = {}) => {
      const s = new DhtStore(node.services.dht, address, { queryTimeout: 5000, ...options }, security)
      stores.push(s)
      return s
    },
    extraNode: async (options = {}) => {
      const node = await createDhtNode(options)
      extra.push(node)
      return node
    }
  }
}
