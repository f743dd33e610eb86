/**
 * Transaction origins Kadmium gives its own Yjs transactions, so that
 * update listeners tell its writes from edits made by user code through
 * `collection.doc(id)` and from remote updates.
 */
export const LOCAL_WRITE = Symbol('kadmium.local-write')
export const REMOTE_WRITE = Symbol('kadmium.remote-write')
export const STORAGE_LOAD = Symbol('kadmium.storage-load')

/** Tells whether an origin is one of Kadmium's own. */
export function isOwnOrigin (origin: unknown): boolean {
  return origin === LOCAL_WRITE || origin === REMOTE_WRITE || origin === STORAGE_LOAD
}
