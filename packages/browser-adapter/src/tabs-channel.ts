/**
 * The `BroadcastChannel` between the tabs that opened one database: each
 * tab posts the Yjs updates it stored (its own writes; the leader also
 * those from the network), and the other tabs apply them. Opened before
 * the database, so that nothing stored after this tab started reading
 * storage goes unheard: what arrives meanwhile waits for the database.
 * @module
 */
import type { RemoteUpdate, UpdateEvent } from '@kadmium/core'
import { TabMessageError } from './tabs-errors.ts'

/** Tags the messages of this format: a tab of another version of it ignores them. */
export const TAB_PROTOCOL = 'kadmium/tabs/1'

/** A message on the channel: one stored update of database `address`. */
export interface TabUpdate {
  readonly protocol: typeof TAB_PROTOCOL
  readonly address: string
  readonly collection: string
  readonly target: 'record' | 'index'
  readonly id?: string
  readonly update: Uint8Array
}

/** Whom a {@link TabChannel} hands what arrives. */
export interface TabReceiver {
  /** The database's address: messages of another database of the name are ignored. */
  readonly address: string
  /** An update another tab stored. */
  readonly update: (update: RemoteUpdate) => void
  /** A message that is not one of this format's, though it says it is. */
  readonly malformed: (error: TabMessageError) => void
}

/** The channel of one database among the tabs of an origin. */
export class TabChannel {
  readonly #channel: BroadcastChannel
  /** Messages that arrived before {@link start}. */
  #waiting: unknown[] | undefined = []
  #receiver: TabReceiver | undefined

  constructor (name: string) {
    this.#channel = new BroadcastChannel(name)
    this.#channel.onmessage = (event: MessageEvent<unknown>) => {
      if (this.#waiting !== undefined) this.#waiting.push(event.data)
      else this.#receive(event.data)
    }
  }

  /** Hands every message to `receiver` from now on, those that came before first. */
  start (receiver: TabReceiver): void {
    this.#receiver = receiver
    const waiting = this.#waiting ?? []
    this.#waiting = undefined
    for (const data of waiting) this.#receive(data)
  }

  /** Drops what arrives from now on (the tab is closing); posting still works. */
  stop (): void {
    this.#receiver = undefined
    this.#waiting = undefined
  }

  /** Sends a stored update to the other tabs. */
  post (address: string, stored: UpdateEvent): void {
    const { update } = stored
    // (A view of a larger buffer would send the whole buffer.)
    const bytes = update.byteOffset === 0 && update.byteLength === update.buffer.byteLength ? update : update.slice()
    const message: TabUpdate = {
      protocol: TAB_PROTOCOL,
      address,
      collection: stored.collection,
      target: stored.target,
      ...(stored.id !== undefined ? { id: stored.id } : {}),
      update: bytes
    }
    this.#channel.postMessage(message)
  }

  /** Closes the channel. */
  close (): void {
    this.stop()
    this.#channel.onmessage = null
    this.#channel.close()
  }

  #receive (data: unknown): void {
    const receiver = this.#receiver
    if (receiver === undefined || !isObject(data) || data.protocol !== TAB_PROTOCOL || data.address !== receiver.address) return
    const { collection, target, id, update } = data
    if (typeof collection !== 'string' || (target !== 'record' && target !== 'index') ||
      (target === 'record' && typeof id !== 'string') || !(update instanceof Uint8Array)) {
      receiver.malformed(new TabMessageError(`a message on the channel of database ${receiver.address} is not a stored update`))
      return
    }
    receiver.update({ collection, target, ...(typeof id === 'string' ? { id } : {}), update })
  }
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}
