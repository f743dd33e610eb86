/**
 * Who may write to a database. An open database takes writes from anyone
 * (still signed: authors are known); a restricted one only from its owners
 * and the writers they granted (see `access-list.ts`).
 * @module
 */

/** Decides whether an author's write may be applied. */
export interface WriteAccess {
  /** Whether the database lists its writers. */
  readonly restricted: boolean
  /**
   * Checks that `author` (a raw Ed25519 public key) may write to
   * `collection`.
   * @throws {UnauthorizedWriterError} it may not
   */
  check (author: Uint8Array, collection: string): void
}

/** The access of an open database: every author may write. */
export const OPEN_ACCESS: WriteAccess = {
  restricted: false,
  check () {}
}
