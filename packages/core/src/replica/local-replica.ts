/**
 * A database's data on this device — its collection stores and its access
 * list, on one storage and write queue — as the {@link Replica} that
 * replication attaches to. Local updates go out to the attached link;
 * remote ones come in through {@link LocalReplica.apply}, checked before
 * Yjs sees them.
 * @module
 */
import { AccessList, ACCESS_COLLECTION } from '../access/access-list.ts'
import { AccessControl } from '../access/database-access.ts'
import type { Signer } from '../access/identity.ts'
import { InvalidArgumentError } from '../errors.ts'
import { checkUpdate } from '../guard/update-guard.ts'
import { checkCollectionName, checkId } from '../model/ids.ts'
import { SequenceKeys } from '../storage/layout.ts'
import type { SharedStorage, StorageAdapter } from '../storage/storage.ts'
import { WriteQueue } from '../storage/write-queue.ts'
import type { ApplyMeter } from '../store/apply-meter.ts'
import { CollectionStore } from '../store/collection-store.ts'
import type { Digest } from '../store/digest.ts'
import type { ChangeEvent, UpdateEvent } from '../store/types.ts'
import { accessPart, collectionPart, type ReplicaPart } from './parts.ts'
import type { AppliedRecords, Refusal, RemoteRecord, RemoteUpdate, Replica, ReplicaLink } from './replica.ts'

/** Keys `n/<collection>` list the collections a database holds. */
export const COLLECTIONS_PREFIX = 'n/'
/** Keys `t/<name>` hold the times replication notes (8 bytes: a float64, ms since 1970). */
export const NOTES_PREFIX = 't/'

/** What a {@link LocalReplica} is made of, and whom it tells. */
export interface LocalReplicaOptions {
  readonly address: string
  readonly manifest: Uint8Array
  /** Raw keys of the owners; empty: an open database. */
  readonly owners: readonly Uint8Array[]
  readonly storage: StorageAdapter
  /** Other databases write the storage at the same time (see `DatabaseOptions.sharedStorage`). */
  readonly shared?: SharedStorage | undefined
  /** This peer's signer; none for a database without a peer (yet: see {@link LocalReplica.useSigner}). */
  readonly signer: Signer | undefined
  /** Collections the storage holds. */
  readonly known: ReadonlySet<string>
  readonly cacheSize: number
  readonly compactEvery: number
  readonly maxRecordBytes: number
  readonly onChange: (event: ChangeEvent) => void
  readonly onUpdate: (event: UpdateEvent) => void
  readonly onError: (error: Error) => void
  /** The access list changed (here or by a peer). */
  readonly onAccess: (writers: string[]) => void
  /** Runs a remote apply as work the database's close waits for (and refuses once closed). */
  readonly track: <R>(operation: () => Promise<R>) => Promise<R>
  /** Whether the database is open. */
  readonly isOpen: () => boolean
}

/** The database's collection stores and access list, as one {@link Replica}. */
export class LocalReplica implements Replica {
  readonly address: string
  readonly manifest: Uint8Array
  /** Who may write, and granting and revoking. */
  readonly access: AccessControl
  /** The one queue every write to storage goes through. */
  readonly queue: WriteQueue
  readonly #options: LocalReplicaOptions
  readonly #seq = new SequenceKeys()
  readonly #known: Set<string>
  readonly #stores = new Map<string, CollectionStore>()
  readonly #parts = new Map<string, ReplicaPart>()
  /** Parts that are not collections (the access list). */
  readonly #fixed = new Map<string, ReplicaPart>()
  #link: ReplicaLink | undefined
  #signer: Signer | undefined

  constructor (options: LocalReplicaOptions) {
    this.address = options.address
    this.manifest = options.manifest
    this.#options = options
    this.#known = new Set(options.known)
    this.#signer = options.signer
    this.queue = new WriteQueue(options.storage)
    const signer = (): Signer | undefined => this.#signer
    this.access = new AccessControl({
      list: new AccessList(options.address, options.owners),
      storage: options.storage,
      queue: this.queue,
      get signer () { return signer() },
      publish: (id, update) => { this.#link?.local({ collection: ACCESS_COLLECTION, target: 'record', id, update, origin: 'local' }) },
      changed: () => { options.onAccess(this.access.writers()) }
    })
    this.#fixed.set(ACCESS_COLLECTION, accessPart(this.access))
  }

  /** Loads what storage holds that is needed before anything replicates: the access list. */
  async load (): Promise<void> {
    await this.access.load()
  }

  /** Signs as `signer` from now on: the database got a peer after it opened (none: starting it failed). */
  useSigner (signer: Signer | undefined): void {
    this.#signer = signer
  }

  /**
   * Hands an update to the attached replication as a local one (sent to
   * peers), when this peer may write: an update another database on this
   * device's storage made and stored (another tab), which has no network of
   * its own. Returns whether a peer listens.
   */
  publish (update: UpdateEvent): boolean {
    return this.access.canWrite() && this.#link?.local(update) === true
  }

  attach (link: ReplicaLink): () => void {
    this.#link = link
    return () => {
      if (this.#link === link) this.#link = undefined
    }
  }

  /** The store of collection `name` (made on first use, and listed in storage). */
  store (name: string): CollectionStore {
    let store = this.#stores.get(name)
    if (store !== undefined) return store
    const options = this.#options
    store = new CollectionStore(name, {
      storage: options.storage,
      queue: this.queue,
      seq: this.#seq,
      cacheSize: options.cacheSize,
      compactEvery: options.compactEvery,
      maxRecordBytes: options.maxRecordBytes,
      // A collection the storage never listed holds nothing there (its listing is written before any record),
      // unless other databases write the storage too: they may have listed it since.
      fresh: !this.#known.has(name) && options.shared === undefined,
      onChange: options.onChange,
      checkWrite: (collection) => { this.access.assertWritable(collection) },
      // (Edits a non-writer makes through `doc(id)` stay on this device: peers would refuse them.)
      onPublish: (event) => this.access.canWrite() && this.#link?.local(event) === true,
      onUpdate: options.onUpdate,
      onError: options.onError,
      shared: options.shared
    })
    this.#stores.set(name, store)
    if (!this.#known.has(name)) {
      this.#known.add(name)
      this.queue.write([{ type: 'put', key: COLLECTIONS_PREFIX + name, value: new Uint8Array(0) }]).catch((error: Error) => { options.onError(error) })
    }
    return store
  }

  async collections (): Promise<string[]> {
    return [...[...this.#fixed].flatMap(([name, part]) => part.listed ? [name] : []), ...this.#known]
  }

  async holdsNothing (): Promise<boolean> {
    for (const c of await this.collections()) {
      if ((await this.digests(c)).size > 0 || (await this.indexDigest(c)).sv.length > 1) return false
    }
    return true
  }

  decides (collection: string): boolean {
    return this.#fixed.get(collection)?.decides ?? false
  }

  durable (collection: string): boolean {
    return this.#fixed.get(collection)?.durable ?? true
  }

  async digests (collection: string): Promise<ReadonlyMap<string, Digest>> {
    return this.#part(collection).digests()
  }

  async indexDigest (collection: string): Promise<Digest> {
    return this.#part(collection).indexDigest()
  }

  async indexDiff (collection: string, sv: Uint8Array): Promise<Uint8Array> {
    return this.#part(collection).indexDiff(sv)
  }

  async recordDiff (collection: string, id: string, sv: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#part(collection).recordDiff(id, sv)
  }

  storedUpdates (collection: string, ids: ReadonlySet<string>): AsyncIterable<[string, Uint8Array[]]> {
    return this.#part(collection).storedUpdates(ids)
  }

  async apply (remote: RemoteUpdate, meter?: ApplyMeter): Promise<boolean> {
    return this.#options.track(async () => {
      if (!(remote.update instanceof Uint8Array)) throw new InvalidArgumentError('"update" must be a Uint8Array')
      const fixed = this.#fixed.get(remote.collection)
      if (fixed !== undefined) return fixed.apply(remote, meter)
      // Untrusted bytes: their structure is checked before Yjs sees them (crafted updates can hang Yjs).
      meter?.start()
      checkUpdate(remote.update)
      meter?.stop()
      return this.#part(checkCollectionName(remote.collection)).apply(remote, meter)
    })
  }

  async applyRecords (collection: string, records: readonly RemoteRecord[]): Promise<AppliedRecords> {
    return this.#options.track(async () => {
      const part = this.#part(this.#fixed.has(collection) ? collection : checkCollectionName(collection))
      const refused: Refusal[] = []
      const checked: RemoteRecord[] = []
      for (const [id, updates] of records) {
        try {
          checkId(id)
        } catch (error) {
          refused.push({ id: String(id), error: error as Error })
          continue
        }
        // Untrusted bytes: their structure is checked before Yjs sees them (crafted updates can hang Yjs); each refused alone.
        const sound = updates.filter((update) => {
          try {
            if (!(update instanceof Uint8Array)) throw new InvalidArgumentError('"update" must be a Uint8Array')
            if (!this.#fixed.has(collection)) checkUpdate(update)
            return true
          } catch (error) {
            refused.push({ id, error: error as Error })
            return false
          }
        })
        if (sound.length > 0) checked.push([id, sound])
      }
      const applied = await part.applyRecords(checked)
      // (Closing waits for the storing too.)
      this.#options.track(async () => applied.stored).catch(() => {})
      return { refused: [...refused, ...applied.refused], stored: applied.stored }
    })
  }

  waiting (collection: string, id?: string): boolean {
    return this.#options.isOpen() && this.#part(collection).waiting(id)
  }

  async noted (name: string): Promise<number | undefined> {
    const bytes = await this.#options.storage.get(NOTES_PREFIX + name)
    if (bytes?.length !== 8) return undefined
    const time = new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0)
    return Number.isFinite(time) ? time : undefined
  }

  async note (name: string, time: number): Promise<void> {
    const bytes = new Uint8Array(8)
    new DataView(bytes.buffer).setFloat64(0, time)
    await this.queue.write([{ type: 'put', key: NOTES_PREFIX + name, value: bytes }])
  }

  /** Waits for the stores' work, then for the write queue; then releases the storage. */
  async close (): Promise<void> {
    await Promise.all([...this.#stores.values()].map(async (store) => store.close()))
    await this.queue.drain()
    await this.#options.storage.close?.()
  }

  #part (collection: string): ReplicaPart {
    const fixed = this.#fixed.get(collection)
    if (fixed !== undefined) return fixed
    let part = this.#parts.get(collection)
    if (part === undefined) this.#parts.set(collection, part = collectionPart(this.store(collection)))
    return part
  }
}
