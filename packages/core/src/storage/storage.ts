/**
 * The storage interface every adapter implements (LevelDB in Node,
 * IndexedDB in browsers, memory anywhere). Keys are strings; values are
 * bytes. Run `@kadmium/core/testing`'s suite against an implementation.
 * @module
 */

/** One operation of an atomic batch. */
export type BatchOperation =
  | {
    /** Write `value` under `key`. */
    readonly type: 'put'
    /** The key. */
    readonly key: string
    /** The bytes to store. */
    readonly value: Uint8Array
  }
  | {
    /** Delete `key` (a missing key is no error). */
    readonly type: 'del'
    /** The key. */
    readonly key: string
  }

/** Options of {@link StorageAdapter.scan}. */
export interface ScanOptions {
  /** Stop after this many entries. @default Infinity */
  readonly limit?: number
  /** Return only the keys (values are then empty arrays). @default false */
  readonly keysOnly?: boolean
}

/**
 * A key-value store with ordered prefix scans and atomic batches.
 *
 * Contract (checked by the conformance suite):
 * - `put` then `get` returns equal bytes; the caller may reuse its buffer after `put` resolves.
 * - `get` of a missing key resolves `undefined`; `delete` of a missing key succeeds.
 * - `scan(prefix)` yields every entry whose key starts with `prefix`, in
 *   ascending key order (keys of ASCII characters order as strings do).
 * - `batch` applies all of its operations or none.
 * - After `close` resolves, every call rejects.
 */
export interface StorageAdapter {
  /** The value of `key`, or `undefined` if there is none. */
  get (key: string): Promise<Uint8Array | undefined>
  /** Writes `value` under `key`; durable when it resolves. */
  put (key: string, value: Uint8Array): Promise<void>
  /** Deletes `key`; a missing key is no error. */
  delete (key: string): Promise<void>
  /** Every entry whose key starts with `prefix`, in ascending key order. */
  scan (prefix: string, options?: ScanOptions): AsyncIterable<[key: string, value: Uint8Array]>
  /** Applies every operation, or none; durable when it resolves. */
  batch (operations: readonly BatchOperation[]): Promise<void>
  /**
   * Resolves once every write resolved so far is in the adapter's final
   * store, for adapters that acknowledge writes from a journal first (Node's
   * LevelDB storage): before copying the files, or to measure the whole cost
   * of writing. Writes are durable when they resolve either way.
   */
  settled? (): Promise<void>
  /** Releases the store (files, connections); every call after it rejects. */
  close? (): Promise<void>
}

/**
 * How databases that write one storage at the same time take turns: tabs
 * of a browser origin, each with the same IndexedDB database open (see
 * `DatabaseOptions.sharedStorage`).
 */
export interface SharedStorage {
  /**
   * Runs `work` while no other database of the storage runs its own
   * exclusive work (in browsers, a Web Lock), and resolves with its result.
   */
  exclusive<T> (work: () => Promise<T>): Promise<T>
}

/** A character above every other a key may hold: `prefix + PREFIX_END` bounds a prefix scan. */
export const PREFIX_END = '\u{10FFFF}'
