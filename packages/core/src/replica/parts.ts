/**
 * The parts a {@link LocalReplica} is made of, as catch-up and the DHT see
 * them: each collection store, and the access list of a restricted
 * database. Every part answers the same calls, so that nothing above
 * tells them apart by name.
 * @module
 */
import { InvalidArgumentError, MalformedMessageError } from '../errors.ts'
import type { AccessControl } from '../access/database-access.ts'
import type { ApplyMeter } from '../store/apply-meter.ts'
import type { CollectionStore } from '../store/collection-store.ts'
import type { Digest } from '../store/digest.ts'
import { checkId } from '../model/ids.ts'
import type { AppliedRecords, Refusal, RemoteRecord, RemoteUpdate } from './replica.ts'

/** One replicated part of a database. */
export interface ReplicaPart {
  /** Its updates are applied before others that arrive with them: they decide who may write. */
  readonly decides: boolean
  /** Its states go to the DHT. */
  readonly durable: boolean
  /** Catch-up lists it (an open database's access list is empty, and stays so). */
  readonly listed: boolean
  digests (): Promise<ReadonlyMap<string, Digest>>
  indexDigest (): Promise<Digest>
  indexDiff (sv: Uint8Array): Promise<Uint8Array>
  recordDiff (id: string, sv: Uint8Array): Promise<Uint8Array | undefined>
  storedUpdates (ids: ReadonlySet<string>): AsyncIterable<[string, Uint8Array[]]>
  apply (update: RemoteUpdate, meter?: ApplyMeter): Promise<boolean>
  /** Applies records sent whole (ids and updates already checked). */
  applyRecords (records: readonly RemoteRecord[]): Promise<AppliedRecords>
  waiting (id?: string): boolean
}

/** A collection store as a part: records are Yjs documents, listed by the collection index. */
export function collectionPart (store: CollectionStore): ReplicaPart {
  return {
    decides: false,
    durable: true,
    listed: true,
    digests: async () => store.digests(),
    indexDigest: async () => store.indexDigest(),
    indexDiff: async (sv) => store.indexDiff(sv),
    recordDiff: async (id, sv) => store.recordDiff(id, sv),
    storedUpdates: (ids) => store.storedUpdates(ids),
    apply: async (remote, meter) => {
      if (remote.target === 'index') return store.applyRemoteIndex(remote.update, meter)
      if (remote.target === 'record') return store.applyRemoteRecord(checkId(remote.id), remote.update, meter)
      throw new InvalidArgumentError('"target" is "record" or "index"')
    },
    applyRecords: async (records) => store.applyRemoteRecords(records),
    waiting: (id) => store.waiting(id)
  }
}

/** The access list's "index": the same on every peer, so that sessions never send one. */
const NO_INDEX: Digest = { sv: new Uint8Array([0]), hash: new Uint8Array(8) }

/**
 * The access list as a part: each signed operation is a record whose id is
 * the hash of its bytes (so equal ids mean equal content); it has no index.
 */
export function accessPart (access: AccessControl): ReplicaPart {
  const ops = (): ReadonlyMap<string, Uint8Array> => access.list.ops()
  return {
    decides: true,
    // (Access operations are signed by owners, not Yjs states: the DHT holds them all as one record, see `dht/access-state.ts`.)
    durable: false,
    listed: access.restricted,
    digests: async () => new Map([...ops().keys()].map((id) => [id, NO_INDEX])),
    indexDigest: async () => NO_INDEX,
    indexDiff: async () => new Uint8Array([0, 0]),
    recordDiff: async (id) => ops().get(id),
    storedUpdates: async function * (ids) {
      const all = ops()
      for (const id of ids) {
        const bytes = all.get(id)
        if (bytes !== undefined) yield [id, [bytes]]
      }
    },
    apply: async (remote, meter) => {
      if (remote.target !== 'record') throw new MalformedMessageError('the access list has no index')
      // (Only checking the operation counts as computing: storing it is a wait.)
      meter?.start()
      const applied = access.applyRemote(remote.update)
      meter?.stop()
      return await applied
    },
    applyRecords: async (records) => {
      const refused: Refusal[] = []
      for (const [id, updates] of records) {
        for (const update of updates) {
          try {
            await access.applyRemote(update)
          } catch (error) {
            refused.push({ id, error: error as Error })
          }
        }
      }
      return { refused, stored: Promise.resolve() }
    },
    waiting: () => false
  }
}
