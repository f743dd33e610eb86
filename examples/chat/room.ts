/**
 * A chat room, the same in Node.js and in the browser: a room is a
 * database (`kadmium-chat/<room>`: every peer that opens a room of that
 * name opens the same database, at the same address), its messages a
 * collection ordered by the time they were sent, read a page at a time,
 * and who is online (and typing) its presence.
 * Platform-neutral: the CLI (`cli.ts`) and the page (`web/main.ts`) each
 * give it their own peer.
 * @module
 */
import { createDatabase, InvalidArgumentError, memoryStorage, type Collection, type Database, type Peer, type PresencePeer, type Row, type Unsubscribe } from '@kadmium/core'
import { z } from 'zod'

/** One chat message: who sent it, what it says, and when (ms since 1970, the sender's clock). */
export const Message = z.object({
  nick: z.string().min(1).max(32),
  text: z.string().min(1).max(2000),
  at: z.number().int().nonnegative()
})

/** A chat message as written. */
export type Message = z.infer<typeof Message>

/** A chat message as read back, with its record id. */
export type MessageRow = Row<Message>

/** What each user in a room announces (`db.presence`): who they are, and whether they are typing a message. */
export const ChatPresence = z.object({
  nick: z.string().min(1).max(32),
  typing: z.boolean()
})

/** A user's presence state. */
export type ChatPresence = z.infer<typeof ChatPresence>

/** Another user online in the room: their peer id and state. */
export type RoomPeer = PresencePeer<ChatPresence>

/** What a nick may be: letters, digits, `_`, `-` and `.`, 1 to 32 of them, not starting with `.` (it names the CLI's data directory). */
export const NICK_PATTERN = /^[\p{L}\p{N}_-][\p{L}\p{N}_.-]{0,31}$/u

/** Messages in a page of history (`/more`, "older messages"). */
export const PAGE_SIZE = 20

/** Newest first, ties broken by id: the order every read of a room takes. */
const NEWEST_FIRST = [{ field: 'at', direction: 'desc' }, { field: 'id', direction: 'desc' }] as const

/**
 * The database name of a room: `kadmium-chat/<room>`.
 * @throws {InvalidArgumentError} a room name that is empty, longer than 64 characters, or holds a space or `/`
 */
export function roomDatabaseName (room: string): string {
  if (!/^[^\s/]{1,64}$/u.test(room)) throw new InvalidArgumentError(`room "${room}": 1 to 64 characters, no space and no "/"`)
  return `kadmium-chat/${room}`
}

/**
 * Checks a nick against {@link NICK_PATTERN}.
 * @throws {InvalidArgumentError} it does not match
 */
export function checkNick (nick: string): void {
  if (!NICK_PATTERN.test(nick)) throw new InvalidArgumentError(`nick "${nick}": 1 to 32 letters, digits, _, - or . (not first)`)
}

/**
 * The address of a room's database (what `kadmium serve --pin` takes), the
 * same on every device: worked out without a peer or storage of its own.
 */
export async function roomAddress (room: string): Promise<string> {
  const db = await createDatabase({ name: roomDatabaseName(room), storage: memoryStorage() })
  const { address } = db
  await db.close()
  return address
}

/** One open room: its database and messages, as seen by one user. */
export class Room {
  /** The room's name. */
  readonly name: string
  /** Who this user is in the room. */
  readonly nick: string
  readonly db: Database<ChatPresence>
  readonly messages: Collection<Message>

  private constructor (name: string, nick: string, db: Database<ChatPresence>) {
    this.name = name
    this.nick = nick
    this.db = db
    this.messages = db.collection('messages', { schema: Message })
  }

  /**
   * Opens `room` through `peer` (its database is kept in the peer's
   * storage, and replicated with every peer that opens the room), and
   * announces this user there (online, not typing).
   * @throws {InvalidArgumentError} a bad room name or nick (see {@link NICK_PATTERN})
   */
  static async open (peer: Peer, room: string, nick: string): Promise<Room> {
    const name = roomDatabaseName(room)
    checkNick(nick)
    const db = await createDatabase({ name, peer, presence: { schema: ChatPresence } })
    db.presence.set({ nick, typing: false })
    return new Room(room, nick, db)
  }

  /** Tells the room whether this user is typing a message. */
  setTyping (typing: boolean): void {
    if (this.db.status.open) this.db.presence.set({ nick: this.nick, typing })
  }

  /**
   * Watches who else is online: `callback` gets the other users now, then
   * whenever one comes, goes (leaves, or vanishes and expires), or starts
   * or stops typing.
   */
  watchPeers (callback: (peers: readonly RoomPeer[]) => void): Unsubscribe {
    return this.db.presence.subscribe(callback)
  }

  /** Sends `text` as this user, now; resolves the message. */
  async send (text: string): Promise<MessageRow> {
    const message = { nick: this.nick, text, at: Date.now() }
    const id = await this.messages.insert(message)
    return { ...message, id }
  }

  /**
   * The page of history before `oldest` (not included): at most `limit`
   * messages, oldest first. Without `oldest`, the latest messages.
   */
  async history (oldest?: MessageRow, limit: number = PAGE_SIZE): Promise<MessageRow[]> {
    if (oldest === undefined) return (await this.messages.find({ orderBy: NEWEST_FIRST, limit })).reverse()
    // Those sent in the same millisecond as `oldest` that sort before it, then those sent earlier.
    const sameTime = await this.messages.find({ where: { at: oldest.at, id: { lt: oldest.id } }, orderBy: NEWEST_FIRST, limit })
    const earlier = await this.messages.find({ where: { at: { lt: oldest.at } }, orderBy: NEWEST_FIRST, limit: limit - sameTime.length })
    return [...sameTime, ...earlier].reverse()
  }

  /**
   * Watches the latest `limit` messages: `callback` gets them (oldest
   * first) soon, then again on every change — a message sent here or
   * arriving from a peer.
   */
  watchLatest (limit: number, callback: (rows: readonly MessageRow[]) => void): Unsubscribe {
    return this.messages.subscribe({ orderBy: NEWEST_FIRST, limit }, (rows) => { callback([...rows].reverse()) })
  }

  /** Closes the room's database (the peer stays open). */
  async close (): Promise<void> {
    await this.db.close()
  }
}
