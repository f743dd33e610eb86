/**
 * `@kadmium/core/testing`: the conformance suites every adapter runs — the
 * storage suite for a `StorageAdapter` ({@link storageAdapterTests}) and
 * the peer suite for a `Peer` factory (`peerTests`). They return plain
 * `{ name, fn }` cases, so they work with any test runner, in Node.js and
 * in browsers.
 *
 * @example
 * ```ts
 * import { test } from 'vitest' // or node's test runner, or any other
 * import { memoryStorage } from '@kadmium/core'
 * import { storageAdapterTests } from '@kadmium/core/testing'
 *
 * const cases = storageAdapterTests({ open: async () => memoryStorage(), persistent: false })
 * for (const c of cases) test(c.name, c.fn)
 * ```
 * @module \@kadmium/core/testing
 */
import { basicCases } from './basic-cases.ts'
import { batchCases } from './batch-cases.ts'
import { databaseCases } from './database-cases.ts'
import { makeCases, type StorageHarness, type StorageTestCase } from './harness.ts'
import { lifecycleCases } from './lifecycle-cases.ts'
import { scanCases } from './scan-cases.ts'

export type { StorageHarness, StorageTestCase }
export { AssertionError, assert, assertBytes, assertDeepEqual, assertEqual, assertRejects } from './assert.ts'
export { keepOpen } from './keep-open.ts'
export { peerTests } from './peer-tests.ts'
export { peerRoundTrip } from './peer-round-trip.ts'
export { dialPeer } from './peer-harness.ts'
export type { PeerHarness, PeerTestCase, ExitReport } from './peer-harness.ts'
export type { ConformanceCase } from './test-case.ts'
export { identifyAgain, simulatedTime } from './simulated-time.ts'
export type { SimulatedTime } from './simulated-time.ts'

/**
 * The cases that check a `StorageAdapter` against its contract
 * (see `storage/storage.ts`): round trips, missing keys, deletes, prefix scans
 * (order, exact matching, `limit`, `keysOnly`, writes meanwhile), atomic
 * batches, empty, large and many values, close and, for persistent
 * adapters, reopening; then a database on the adapter, through the public
 * API, including compaction of a record's update log.
 *
 * Every case opens fresh locations of its own, closes what it opened, and
 * then calls `harness.cleanup`. Cases that need persistence are left out
 * when `harness.persistent` is `false`.
 *
 * @example
 * ```ts
 * const harness = {
 *   persistent: true,
 *   open: async (location: string) => levelStorage(join(root, location)),
 *   cleanup: async () => { await rm(root, { recursive: true, force: true }) }
 * }
 * for (const c of storageAdapterTests(harness)) test(c.name, c.fn)
 * ```
 */
export function storageAdapterTests (harness: StorageHarness): StorageTestCase[] {
  return makeCases(harness, [
    ...basicCases,
    ...scanCases,
    ...batchCases,
    ...lifecycleCases,
    ...databaseCases
  ])
}

/**
 * What core computes with, for an adapter's tests to check the engines it
 * installs (`useSha256`, `useSignatureEngine`): the SHA-256 every hash in
 * Kadmium goes through, and the signer and verifier of writes.
 */
export { sha256 as coreSha256 } from '../util/hash.ts'
export { signerOf, verifySignature } from '../access/identity.ts'

/** Crafted hostile Yjs updates, for testing that a peer refuses them (see `hostile-updates.ts`). */
export { splitFamily, mapFamily, manyClientsMapFamily } from './hostile-updates.ts'
