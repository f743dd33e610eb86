import { decode, encode } from 'cborg'
import * as Y from 'yjs'
import { sha256 } from '../util/hash.ts'

/**
 * What a replica tells a peer about one document during catch-up: its
 * state vector (which updates it has) and a short hash of the state vector
 * and delete set (so deletions, which do not advance a state vector, also
 * count as a difference).
 */
export interface Digest {
  readonly sv: Uint8Array
  readonly hash: Uint8Array
}

/** Length of a digest hash in bytes. */
export const DIGEST_HASH_BYTES = 8

/** The digest of a document. */
export function docDigest (doc: Y.Doc): Digest {
  const sv = Y.encodeStateVector(doc)
  // An update relative to the document's own state vector holds no
  // structs, only the delete set.
  const deletes = Y.encodeStateAsUpdate(doc, sv)
  const material = new Uint8Array(sv.length + deletes.length)
  material.set(sv)
  material.set(deletes, sv.length)
  return { sv, hash: sha256(material).subarray(0, DIGEST_HASH_BYTES) }
}

/**
 * A record's stored digest, with the keys of its update log (so that
 * loading it needs no scan) — or without (`undefined`): a digest written on
 * storage that other databases write at once lists no log, since theirs
 * would be missing from it; loads then scan.
 */
export interface StoredDigest extends Digest {
  readonly log: readonly string[] | undefined
}

/** Digits of a log key's counter (see `SequenceKeys`). */
const COUNTER_DIGITS = 8
/** A counter as `SequenceKeys` writes it: base 36, zero-padded (so it reads back from the number unchanged). */
const COUNTER = /^[0-9a-z]{8}$/

/**
 * Appends update-log keys to a compact log `out`: the record's log prefix
 * is left out, and keys of one session (`<session>.<counter>`, see `SequenceKeys`)
 * in a row become `[session, counter, counter, ...]`, the counters as
 * numbers; any other key stays a string (without the prefix). A digest is
 * rewritten on every write of its record, with up to `compactEvery` keys of
 * ~60 characters each: ~3.8 KB encoded as strings, ~0.3 KB so.
 */
function appendCompact (out: unknown[], keys: readonly string[], prefix: string): void {
  const last = out[out.length - 1]
  let run = Array.isArray(last) ? last as Array<string | number> : undefined
  for (const key of keys) {
    const dot = key.lastIndexOf('.')
    const digits = key.slice(dot + 1)
    const session = key.startsWith(prefix) && dot >= prefix.length ? key.slice(prefix.length, dot + 1) : undefined
    if (session === undefined || !COUNTER.test(digits) || session.includes('/')) {
      run = undefined
      out.push(key.startsWith(prefix) ? key.slice(prefix.length) : key)
      continue
    }
    if (run === undefined || run[0] !== session) {
      run = [session]
      out.push(run)
    }
    run.push(parseInt(digits, 36))
  }
}

/**
 * Compact forms of logs encoded lately, by log array: a record's log only
 * grows (by `push`) until compaction replaces it, and its digest is
 * rewritten on every write, so only the keys added since are encoded.
 */
const compacted = new WeakMap<readonly string[], { length: number, out: unknown[] }>()

/** The compact form of `log` (see {@link appendCompact}); do not change it. */
function compactOf (log: readonly string[], prefix: string): unknown[] {
  let known = compacted.get(log)
  if (known === undefined || known.length > log.length) {
    known = { length: 0, out: [] }
    compacted.set(log, known)
  }
  if (known.length < log.length) {
    appendCompact(known.out, log.slice(known.length), prefix)
    known.length = log.length
  }
  return known.out
}

/** The keys of a compact log (see {@link appendCompact}); `undefined` if malformed. A string with a `/` is a whole key (as digests stored them before). */
function expandLog (value: unknown, prefix: string): string[] | undefined {
  if (!Array.isArray(value)) return undefined
  const keys: string[] = []
  for (const item of value as unknown[]) {
    if (typeof item === 'string') {
      keys.push(item.includes('/') ? item : prefix + item)
    } else if (Array.isArray(item) && typeof item[0] === 'string' && item.length > 1) {
      for (let i = 1; i < item.length; i++) {
        const counter: unknown = item[i]
        if (!Number.isSafeInteger(counter) || (counter as number) < 0) return undefined
        keys.push(prefix + item[0] + (counter as number).toString(36).padStart(COUNTER_DIGITS, '0'))
      }
    } else {
      return undefined
    }
  }
  return keys
}

/**
 * Encodes a digest for storage, with the record's update-log keys: `log`,
 * then `more` (`logPrefix`: the record's update-log prefix, left out of
 * them). `log` may only grow between calls (its compact form is kept).
 * `log` null: no list (shared storage; see {@link StoredDigest}).
 */
export function encodeDigest (digest: Digest, log: readonly string[] | null, logPrefix: string, more: readonly string[] = []): Uint8Array {
  if (log === null) return encode([digest.sv, digest.hash, null])
  let out = compactOf(log, logPrefix)
  if (more.length > 0) {
    // A copy, its last run too: what is kept for `log` stays as it is.
    out = out.map((item, i) => i === out.length - 1 && Array.isArray(item) ? [...item as unknown[]] : item)
    appendCompact(out, more, logPrefix)
  }
  return encode([digest.sv, digest.hash, out])
}

/** Decodes a stored digest, its log keys under `logPrefix`; `undefined` if it is malformed. */
export function decodeDigest (bytes: Uint8Array, logPrefix = ''): StoredDigest | undefined {
  try {
    const value: unknown = decode(bytes)
    if (Array.isArray(value) && value[0] instanceof Uint8Array && value[1] instanceof Uint8Array) {
      if (value[2] === null) return { sv: value[0], hash: value[1], log: undefined }
      const log = expandLog(value[2], logPrefix)
      if (log !== undefined) return { sv: value[0], hash: value[1], log }
    }
  } catch {}
  return undefined
}
