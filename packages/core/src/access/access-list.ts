/**
 * The access list of a restricted database: a grow-only set of signed
 * operations — an owner grants or revokes a writer — replicated like data
 * (gossip and catch-up, as the pseudo-collection `$access`). Every peer
 * computes the same writers from the same set, in any order of arrival:
 * for each writer the operation with the latest time wins, a revocation
 * winning a tie. Owners are named by the manifest (part of the address)
 * and cannot be revoked.
 *
 * Wire form of an operation, CBOR: `[1, kind (0 grant | 1 revoke), writer,
 * at, by, signature]` — keys are raw 32-byte Ed25519 keys, `at` the owner's
 * clock in ms, the signature by `by` over `signedBytes('kadmium/access/1',
 * address, CBOR [kind, writer, at, by])`.
 * @module
 */
import { decode, encode } from 'cborg'
import { isBytes } from '../util/bytes.ts'
import { MalformedMessageError, UnauthorizedWriterError } from '../errors.ts'
import { bytesEqual, sha256, toHex } from '../util/hash.ts'
import type { WriteAccess } from './write-access.ts'
import { authorId, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, signedBytes, verifySignature, type Signer } from './identity.ts'

/** The pseudo-collection the access list replicates as. */
export const ACCESS_COLLECTION = '$access'
const DOMAIN = 'kadmium/access/1'
/** Operations one access list holds at most. */
export const MAX_ACCESS_OPS = 100_000

/** One grant or revocation. */
export interface AccessOp {
  readonly kind: 'grant' | 'revoke'
  /** The writer's raw key. */
  readonly writer: Uint8Array
  /** When the owner made it (ms since 1970, the owner's clock). */
  readonly at: number
  /** The owner's raw key. */
  readonly by: Uint8Array
}

/** A verified operation and its id (the hex of the first 16 bytes of the SHA-256 of its bytes). */
interface StoredOp extends AccessOp {
  readonly id: string
  readonly bytes: Uint8Array
}

/** The writers of a database: anyone (open) or its owners and granted writers (restricted). */
export class AccessList implements WriteAccess {
  readonly #address: Uint8Array
  readonly #owners: readonly Uint8Array[]
  readonly #ops = new Map<string, StoredOp>()
  /** Per writer (hex key): the operation that decides. */
  readonly #latest = new Map<string, StoredOp>()

  /** @param owners the manifest's owners; none: an open database */
  constructor (address: string, owners: readonly Uint8Array[]) {
    this.#address = new TextEncoder().encode(address)
    this.#owners = owners
  }

  get restricted (): boolean {
    return this.#owners.length > 0
  }

  /** The owners, as peer ids. */
  get owners (): string[] {
    return this.#owners.map(authorId)
  }

  /** Owners and granted writers (not revoked), as peer ids; empty for an open database. */
  writers (): string[] {
    const out = this.owners
    for (const op of this.#latest.values()) if (op.kind === 'grant') out.push(authorId(op.writer))
    return [...new Set(out)]
  }

  /** Whether the raw key may write (always, in an open database). */
  mayWrite (key: Uint8Array): boolean {
    if (!this.restricted || this.isOwner(key)) return true
    return this.#latest.get(toHex(key))?.kind === 'grant'
  }

  /** Whether the raw key is an owner. */
  isOwner (key: Uint8Array): boolean {
    return this.#owners.some((owner) => bytesEqual(owner, key))
  }

  check (author: Uint8Array, collection: string): void {
    // Access operations carry their own owner signatures: anyone may relay them.
    if (collection === ACCESS_COLLECTION) return
    if (!this.mayWrite(author)) throw new UnauthorizedWriterError(authorId(author))
  }

  /** Every operation held, by id. */
  ops (): ReadonlyMap<string, Uint8Array> {
    const out = new Map<string, Uint8Array>()
    for (const [id, op] of this.#ops) out.set(id, op.bytes)
    return out
  }

  /** The latest time of any operation about `writer` (so that a new one can be later). */
  latestAbout (writer: Uint8Array): number {
    return this.#latest.get(toHex(writer))?.at ?? 0
  }

  /**
   * Verifies and adds an operation. Resolves its id, and whether it was new.
   * @throws {MalformedMessageError} the bytes are not an operation, or the list is full
   * @throws {SignatureError} the signature does not verify
   * @throws {UnauthorizedWriterError} the signer is not an owner
   */
  async add (bytes: Uint8Array): Promise<{ id: string, added: boolean }> {
    const id = opId(bytes)
    if (this.#ops.has(id)) return { id, added: false }
    if (this.#ops.size >= MAX_ACCESS_OPS) throw new MalformedMessageError('the access list is full')
    const op = decodeOp(bytes)
    await verifySignature(op.by, signedBytes(DOMAIN, this.#address, encode(body(op))), op.signature)
    if (!this.isOwner(op.by)) throw new UnauthorizedWriterError(authorId(op.by), `"${authorId(op.by)}" is not an owner: it cannot grant or revoke`)
    const stored: StoredOp = { kind: op.kind, writer: op.writer, at: op.at, by: op.by, id, bytes }
    this.#ops.set(id, stored)
    const key = toHex(op.writer)
    const current = this.#latest.get(key)
    if (current === undefined || wins(stored, current)) this.#latest.set(key, stored)
    return { id, added: true }
  }

  /** Makes and signs an operation (the caller checks that the signer is an owner). */
  async sign (signer: Signer, kind: AccessOp['kind'], writer: Uint8Array, at: number): Promise<Uint8Array> {
    const op: AccessOp = { kind, writer, at, by: signer.publicKey }
    const signature = await signer.sign(signedBytes(DOMAIN, this.#address, encode(body(op))))
    return encode([1, kind === 'grant' ? 0 : 1, writer, at, signer.publicKey, signature])
  }
}

/** The id of an operation's bytes. */
export function opId (bytes: Uint8Array): string {
  return toHex(sha256(bytes).subarray(0, 16))
}

function body (op: AccessOp): unknown[] {
  return [op.kind === 'grant' ? 0 : 1, op.writer, op.at, op.by]
}

/** Later wins; at the same time a revocation wins; then the larger id (any fixed order converges). */
function wins (a: StoredOp, b: StoredOp): boolean {
  if (a.at !== b.at) return a.at > b.at
  if (a.kind !== b.kind) return a.kind === 'revoke'
  return a.id > b.id
}

function decodeOp (bytes: Uint8Array): AccessOp & { signature: Uint8Array } {
  let v: unknown
  try {
    v = decode(bytes)
  } catch (cause) {
    throw new MalformedMessageError('an access operation is not CBOR', { cause })
  }
  if (!Array.isArray(v) || v.length !== 6 || v[0] !== 1) throw new MalformedMessageError('an access operation is [1, kind, writer, at, by, signature]')
  const [, kind, writer, at, by, signature] = v as unknown[]
  if ((kind !== 0 && kind !== 1) || !isKey(writer) || !isKey(by) || !Number.isSafeInteger(at) || (at as number) < 0 ||
    !(isBytes(signature)) || signature.length !== SIGNATURE_BYTES) {
    throw new MalformedMessageError('an access operation is malformed')
  }
  return { kind: kind === 0 ? 'grant' : 'revoke', writer, at: at as number, by, signature }
}

function isKey (value: unknown): value is Uint8Array {
  return isBytes(value) && value.length === PUBLIC_KEY_BYTES
}
