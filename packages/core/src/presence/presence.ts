/**
 * Presence: who is here and what they are doing — each peer's small,
 * ephemeral state in a database (a nick, "typing", a cursor), announced to
 * the database's peers, never stored, forgotten when its peer leaves or
 * stops announcing. `db.presence` is one; the network side is
 * `presence-channel.ts`.
 * @module
 */
import { encode } from 'cborg'
import { DatabaseClosedError, InvalidArgumentError, PresenceError } from '../errors.ts'
import type { Unsubscribe } from '../events.ts'
import { check, type StandardSchemaV1 } from '../model/schema.ts'
import { systemClock, type Clock, type ClockTimer } from '../util/clock.ts'
import { bytesEqual } from '../util/hash.ts'
import { encodeState, MAX_EXPIRY_MS, MIN_EXPIRY_MS } from './presence-message.ts'

/** A presence state when the app gives no type: a plain object. */
export type PresenceState = Readonly<Record<string, unknown>>

/** Another peer present in the database, and its state. */
export interface PresencePeer<P extends object = PresenceState> {
  /** The peer's id (the key that signs its writes). */
  readonly peer: string
  /** Its latest state. */
  readonly state: P
}

/** Options of presence (`createDatabase({ presence })`). */
export interface PresenceOptions<P extends object = PresenceState> {
  /**
   * A Standard Schema (zod, valibot, arktype, ...) every state must pass:
   * this peer's own (`set` throws {@link PresenceError}) and every peer's
   * (a state failing it is refused: a `rejected` event, `via: 'presence'`).
   * It types the states. Synchronous schemas only. @default any plain object
   */
  readonly schema?: StandardSchemaV1<unknown, P>
  /** This peer announces its state again this often while it has one (ms). @default 5000 */
  readonly heartbeat?: number
  /**
   * Peers forget this peer's state when nothing came from it for this long
   * (ms): a peer that vanished without a word. More than `heartbeat`. @default 15000
   */
  readonly expiry?: number
}

/** @internal What presence tells its network side. */
export interface PresenceLink {
  /** This peer's state changed (set or cleared): announce it. */
  changed (): void
}

/** @internal What the network side of presence sees of it (`presence-channel.ts`). */
export interface PresenceBook {
  readonly heartbeat: number
  readonly expiry: number
  /** The encoded state to announce, if any. */
  readonly encodedSelf: Uint8Array | undefined
  /** Starts telling `link` of this peer's changes. */
  attach (link: PresenceLink): void
  /** The network side stopped: every other peer is gone from here. */
  detach (): void
  /**
   * Checks a state a peer announced against the schema.
   * @throws {PresenceError} it fails the schema
   */
  admit (state: object): Promise<object>
  /** A peer announced `state` (admitted), to keep for `expiry` ms. */
  heard (peer: string, state: object, expiry: number): void
  /** A peer left (it said so, or left the topic). */
  left (peer: string): void
}

/**
 * The presence of a database's peers (`db.presence`): this peer's own
 * state ({@link Presence.set}, {@link Presence.clear}), the other peers'
 * ({@link Presence.peers}, {@link Presence.subscribe}). States travel on
 * the database's own gossip topic, signed by each peer's key, sealed in an
 * encrypted database; a restricted database takes them only from its
 * owners and writers (and a peer that is neither announces nothing). A
 * peer that closes the database announces that it left; one that vanishes
 * is forgotten after its `expiry`. Without a peer (a local database) only
 * {@link Presence.self} is kept.
 *
 * @example
 * ```ts
 * const db = await createDatabase<{ nick: string, typing: boolean }>({ name: 'chat', peer })
 * db.presence.set({ nick: 'ada', typing: false })
 * const stop = db.presence.subscribe((peers) => console.log(peers.map((p) => p.state.nick)))
 * ```
 */
export interface Presence<P extends object = PresenceState> {
  /** How often this peer announces its state (ms). */
  readonly heartbeat: number
  /** How long peers keep this peer's state without hearing from it (ms). */
  readonly expiry: number
  /** This peer's state, as announced (the schema's output); `undefined` before {@link Presence.set} and after {@link Presence.clear}. */
  readonly self: P | undefined
  /**
   * Sets this peer's state, replacing the last one, and announces it at
   * once (changes in quick succession are sent together) and then every
   * `heartbeat`.
   * @throws {PresenceError} not a plain object of storable values, over 8 KiB encoded, or failing the schema; nothing changed
   * @throws {DatabaseClosedError} the database is closed
   */
  set (state: P): void
  /** Stops announcing this peer's state: peers drop it at once. */
  clear (): void
  /** The other peers present, sorted by peer id: the same (frozen) array until one joins, changes or leaves. */
  peers (): ReadonlyArray<PresencePeer<P>>
  /**
   * Calls `listener` with the other peers present now, and again whenever
   * one joins, changes its state, or leaves (or expires). A heartbeat that
   * changes nothing calls nothing. Returns what stops it.
   */
  subscribe (listener: (peers: ReadonlyArray<PresencePeer<P>>) => void): Unsubscribe
}

interface Present<P> {
  readonly state: P
  /** The encoded state, to tell a heartbeat from a change. */
  readonly bytes: Uint8Array
  expires: number
}

/** The defaults of {@link PresenceOptions}. */
const DEFAULT_HEARTBEAT_MS = 5000
const DEFAULT_EXPIRY_MS = 15_000

/** @internal The presence of a database (`db.presence`), and what its network side needs. */
export class PresenceKeeper<P extends object = PresenceState> implements Presence<P>, PresenceBook {
  /** How often this peer announces its state (ms). */
  readonly heartbeat: number
  /** How long peers keep this peer's state without hearing from it (ms). */
  readonly expiry: number
  readonly #schema: StandardSchemaV1<unknown, P> | undefined
  readonly #clock: Clock
  readonly #isOpen: () => boolean
  readonly #onError: (error: unknown) => void
  #self: P | undefined
  #selfBytes: Uint8Array | undefined
  readonly #present = new Map<string, Present<P>>()
  #snapshot: ReadonlyArray<PresencePeer<P>> = Object.freeze([])
  readonly #listeners = new Set<(peers: ReadonlyArray<PresencePeer<P>>) => void>()
  #link: PresenceLink | undefined
  #sweep?: ClockTimer
  #sweepAt = Infinity

  /** @internal Made by the database (`db.presence`), with options {@link presenceOptions} checked. */
  constructor (options: CheckedPresenceOptions<P>, internals: { isOpen: () => boolean, onError: (error: unknown) => void, clock?: Clock }) {
    this.heartbeat = options.heartbeat
    this.expiry = options.expiry
    this.#schema = options.schema
    this.#clock = internals.clock ?? systemClock
    this.#isOpen = internals.isOpen
    this.#onError = internals.onError
  }

  /** This peer's state, as announced (the schema's output); `undefined` before {@link Presence.set} and after {@link Presence.clear}. */
  get self (): P | undefined {
    return this.#self
  }

  /**
   * Sets this peer's state, replacing the last one, and announces it at
   * once (changes in quick succession are sent together) and then every
   * `heartbeat`.
   * @throws {PresenceError} not a plain object of storable values, over 8 KiB encoded, or failing the schema; nothing changed
   * @throws {DatabaseClosedError} the database is closed
   */
  set (state: P): void {
    if (!this.#isOpen()) throw new DatabaseClosedError()
    const value = this.#check(state)
    if (value instanceof Promise) throw new PresenceError('presence schemas must be synchronous')
    const bytes = encodeState(value)
    if (this.#selfBytes !== undefined && bytesEqual(bytes, this.#selfBytes)) return
    this.#self = value
    this.#selfBytes = bytes
    this.#link?.changed()
  }

  /** Stops announcing this peer's state: peers drop it at once. */
  clear (): void {
    if (this.#self === undefined) return
    this.#self = undefined
    this.#selfBytes = undefined
    this.#link?.changed()
  }

  /** The other peers present, sorted by peer id: the same (frozen) array until one joins, changes or leaves. */
  peers (): ReadonlyArray<PresencePeer<P>> {
    return this.#snapshot
  }

  /**
   * Calls `listener` with the other peers present now, and again whenever
   * one joins, changes its state, or leaves (or expires). A heartbeat that
   * changes nothing calls nothing. Returns what stops it.
   */
  subscribe (listener: (peers: ReadonlyArray<PresencePeer<P>>) => void): Unsubscribe {
    if (typeof listener !== 'function') throw new InvalidArgumentError('subscribe takes a listener')
    this.#listeners.add(listener)
    this.#call(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** @internal The encoded state to announce, if any. */
  get encodedSelf (): Uint8Array | undefined {
    return this.#selfBytes
  }

  /** @internal Starts telling `link` of this peer's changes (the network side). */
  attach (link: PresenceLink): void {
    this.#link = link
    if (this.#self !== undefined) link.changed()
  }

  /** @internal The network side stopped: every other peer is gone from here. */
  detach (): void {
    this.#link = undefined
    if (this.#sweep !== undefined) this.#clock.clearTimeout(this.#sweep)
    this.#sweep = undefined
    this.#sweepAt = Infinity
    if (this.#present.size === 0) return
    this.#present.clear()
    this.#publish()
  }

  /**
   * @internal Checks a state a peer announced against the schema.
   * @throws {PresenceError} it fails the schema
   */
  async admit (state: object): Promise<P> {
    return await this.#check(state)
  }

  /** @internal A peer announced `state` (admitted), to keep for `expiry` ms. */
  heard (peer: string, state: P, expiry: number): void {
    const bytes = encode(state)
    const expires = this.#clock.now() + expiry
    const known = this.#present.get(peer)
    if (known !== undefined && bytesEqual(known.bytes, bytes)) {
      known.expires = expires
    } else {
      this.#present.set(peer, { state, bytes, expires })
      this.#publish()
    }
    this.#armSweep(expires)
  }

  /** @internal A peer left (it said so, or left the topic). */
  left (peer: string): void {
    if (this.#present.delete(peer)) this.#publish()
  }

  #check (state: unknown): P | Promise<P> {
    if (this.#schema === undefined) return state as P
    const result = check(this.#schema, state)
    const settle = (r: Awaited<typeof result>): P => {
      if (r.issues !== undefined) {
        throw new PresenceError(`the presence state fails its schema: ${r.issues.map((i) => `${i.path === '' ? '(state)' : i.path}: ${i.message}`).join('; ')}`)
      }
      return r.value as P
    }
    return result instanceof Promise ? result.then(settle) : settle(result)
  }

  #armSweep (at: number): void {
    if (at >= this.#sweepAt) return
    if (this.#sweep !== undefined) this.#clock.clearTimeout(this.#sweep)
    this.#sweepAt = at
    this.#sweep = this.#clock.setTimeout(() => { this.#expire() }, Math.max(0, at - this.#clock.now()))
  }

  #expire (): void {
    this.#sweep = undefined
    this.#sweepAt = Infinity
    const now = this.#clock.now()
    let next = Infinity
    let changed = false
    for (const [peer, present] of this.#present) {
      if (present.expires <= now) {
        this.#present.delete(peer)
        changed = true
      } else {
        next = Math.min(next, present.expires)
      }
    }
    if (next !== Infinity) this.#armSweep(next)
    if (changed) this.#publish()
  }

  #publish (): void {
    this.#snapshot = Object.freeze([...this.#present.entries()]
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([peer, { state }]) => Object.freeze({ peer, state })))
    for (const listener of [...this.#listeners]) this.#call(listener)
  }

  #call (listener: (peers: ReadonlyArray<PresencePeer<P>>) => void): void {
    try {
      listener(this.#snapshot)
    } catch (error) {
      this.#onError(error)
    }
  }
}

/** @internal {@link PresenceOptions} checked, with their defaults. */
export interface CheckedPresenceOptions<P extends object> {
  readonly heartbeat: number
  readonly expiry: number
  readonly schema: StandardSchemaV1<unknown, P> | undefined
}

/**
 * @internal Checks presence options (before a database opens anything).
 * @throws {InvalidArgumentError} a duration out of range, an expiry not longer than the heartbeat, a schema that is not a Standard Schema
 */
export function presenceOptions<P extends object> (options: PresenceOptions<P> | undefined): CheckedPresenceOptions<P> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidArgumentError('"presence" takes { schema, heartbeat, expiry }')
  const heartbeat = duration(options?.heartbeat, 'presence.heartbeat', DEFAULT_HEARTBEAT_MS)
  const expiry = duration(options?.expiry, 'presence.expiry', DEFAULT_EXPIRY_MS)
  if (expiry <= heartbeat) throw new InvalidArgumentError('"presence.expiry" must be longer than "presence.heartbeat"')
  const schema = options?.schema
  if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function') {
    throw new InvalidArgumentError('"presence.schema" must be a Standard Schema (zod, valibot, arktype, ...)')
  }
  return { heartbeat, expiry, schema }
}

function duration (value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_EXPIRY_MS || value > MAX_EXPIRY_MS) {
    throw new InvalidArgumentError(`"${name}" must be a whole number of ms from ${MIN_EXPIRY_MS} to ${MAX_EXPIRY_MS}`)
  }
  return value
}
