/**
 * `db.access`: who may write to a database, and (for owners) granting and
 * revoking writers. Operations are stored under `a/<id>` and replicated
 * as the pseudo-collection `$access`.
 * @module
 */
import { InvalidArgumentError, UnauthorizedWriterError } from '../errors.ts'
import type { StorageAdapter } from '../storage/storage.ts'
import type { WriteQueue } from '../storage/write-queue.ts'
import { ACCESS_COLLECTION, type AccessList } from './access-list.ts'
import type { Signer } from './identity.ts'
import { keyOfPeerId } from './peer-ids.ts'

/** Storage prefix of access operations. */
export const ACCESS_PREFIX = 'a/'

/** Who may write to a database: see {@link Database.access}. */
export interface DatabaseAccess {
  /** Whether the database lists its writers (`createDatabase({ access: { owners } })`); otherwise anyone may write. */
  readonly restricted: boolean
  /** The owners' identities (peer ids); empty for an open database. */
  readonly owners: readonly string[]
  /** Owners and granted writers, as peer ids; empty for an open database (anyone). */
  writers (): string[]
  /** Whether an identity (default: this peer's) may write. */
  canWrite (identity?: string): boolean
  /**
   * Lets an identity write (owners only). Replicated to every peer of the database.
   * @throws {UnauthorizedWriterError} this peer is not an owner
   */
  grant (identity: string): Promise<void>
  /**
   * Stops an identity's writes from being applied, from the moment each
   * peer learns of it (owners only; owners cannot be revoked). What peers
   * had applied before stays. See docs/security.md, "Revocation".
   * @throws {UnauthorizedWriterError} this peer is not an owner, or the identity is an owner
   */
  revoke (identity: string): Promise<void>
}

/** What {@link AccessControl} needs from its database. */
export interface AccessContext {
  readonly list: AccessList
  readonly storage: StorageAdapter
  readonly queue: WriteQueue
  /** This peer's signer; none for a database without a peer. */
  readonly signer: Signer | undefined
  /** Sends a new local operation to peers. */
  readonly publish: (id: string, bytes: Uint8Array) => void
  /** The list changed (here or by a peer). */
  readonly changed: () => void
}

/** The database's {@link DatabaseAccess}, and the door for operations from peers. */
export class AccessControl implements DatabaseAccess {
  readonly #ctx: AccessContext

  constructor (context: AccessContext) {
    this.#ctx = context
  }

  /** Loads the stored operations. */
  async load (): Promise<void> {
    for await (const [, bytes] of this.#ctx.storage.scan(ACCESS_PREFIX)) {
      try {
        await this.#ctx.list.add(bytes)
      } catch {
        // Stored before a bug fix or by a damaged device: an operation that does not verify is left out.
      }
    }
  }

  /** The access list itself (what replication checks writers against). */
  get list (): AccessList {
    return this.#ctx.list
  }

  get restricted (): boolean {
    return this.#ctx.list.restricted
  }

  get owners (): readonly string[] {
    return this.#ctx.list.owners
  }

  writers (): string[] {
    return this.#ctx.list.writers()
  }

  canWrite (identity?: string): boolean {
    const key = identity === undefined ? this.#ctx.signer?.publicKey : keyOf(identity)
    if (key === undefined) return !this.restricted
    return this.#ctx.list.mayWrite(key)
  }

  /**
   * Throws unless this peer may write to the collection.
   * @throws {UnauthorizedWriterError}
   */
  assertWritable (collection: string): void {
    if (!this.restricted) return
    const signer = this.#ctx.signer
    if (signer === undefined) throw new UnauthorizedWriterError('(no identity)', 'a restricted database needs a peer (an identity) to write')
    this.#ctx.list.check(signer.publicKey, collection)
  }

  async grant (identity: string): Promise<void> {
    await this.#local('grant', identity)
  }

  async revoke (identity: string): Promise<void> {
    await this.#local('revoke', identity)
  }

  /**
   * Adds an operation from a peer. Resolves whether it was new.
   * @throws {MalformedMessageError} | {SignatureError} | {UnauthorizedWriterError} it is refused; nothing changed
   */
  async applyRemote (bytes: Uint8Array): Promise<boolean> {
    const { id, added } = await this.#ctx.list.add(bytes)
    if (!added) return false
    await this.#ctx.queue.write([{ type: 'put', key: ACCESS_PREFIX + id, value: bytes }])
    this.#ctx.changed()
    return true
  }

  async #local (kind: 'grant' | 'revoke', identity: string): Promise<void> {
    const signer = this.#ctx.signer
    const list = this.#ctx.list
    if (!list.restricted) throw new InvalidArgumentError('an open database has no writers to grant or revoke: create it with { access: { owners } }')
    if (signer === undefined || !list.isOwner(signer.publicKey)) {
      throw new UnauthorizedWriterError(signer?.id ?? '(no identity)', 'only owners grant and revoke writers')
    }
    const writer = keyOf(identity)
    if (kind === 'revoke' && list.isOwner(writer)) throw new UnauthorizedWriterError(identity, 'owners cannot be revoked')
    // Later than anything known about the writer, so that it decides here and now.
    const at = Math.max(Date.now(), list.latestAbout(writer) + 1)
    const bytes = await list.sign(signer, kind, writer, at)
    const { id } = await list.add(bytes)
    await this.#ctx.queue.write([{ type: 'put', key: ACCESS_PREFIX + id, value: bytes }])
    this.#ctx.changed()
    this.#ctx.publish(id, bytes)
  }
}

function keyOf (identity: string): Uint8Array {
  try {
    return keyOfPeerId(identity)
  } catch (cause) {
    throw new InvalidArgumentError(`"${String(identity)}" is not an Ed25519 peer id`, { cause })
  }
}

export { ACCESS_COLLECTION }
