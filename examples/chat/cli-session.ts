/**
 * One user's chat session in the terminal: the latest messages at start,
 * new ones as they come (from here or any peer), `/more` for earlier
 * ones, `/who` for who is online; lines typed are sent. Who comes, goes
 * and starts typing is printed as it happens, and this user's typing is
 * announced.
 * @module
 */
import type { MessageRow, Room, RoomPeer } from './room.ts'
import { formatMessage, Terminal } from './terminal.ts'

/** Messages the live query watches: new ones are printed as they enter it. */
const LIVE_WINDOW = 100

const HELP = '/more: earlier messages, /who: who is online, /quit: leave'

/** Whether `a` sorts after `b` (by time, then id): the room's order. */
function after (a: MessageRow, b: MessageRow): boolean {
  return a.at > b.at || (a.at === b.at && a.id > b.id)
}

/** Where a session reads and prints, and what else ends it. */
export interface SessionIo {
  readonly input: NodeJS.ReadStream
  readonly output: NodeJS.WriteStream
  /** Ends the session when it resolves (a signal). */
  readonly until: Promise<void>
}

/** Runs a session of `room`; resolves once the user leaves (`/quit`, Ctrl-C, end of input) or `io.until` resolves. */
export async function runSession (room: Room, io: SessionIo): Promise<void> {
  const printed = new Set<string>()
  /** The earliest message printed: `/more` pages back from it. */
  let oldest: MessageRow | undefined
  let stopLive = (): void => {}
  /** The other users online, by peer id. */
  let online = new Map<string, RoomPeer['state']>()
  let left!: () => void
  const leaving = new Promise<void>((resolve) => { left = resolve })

  // Lines run one after the other (piped input is sent in order, and `/quit` comes after what preceded it).
  let queue = Promise.resolve()
  const terminal = new Terminal(io.input, io.output, {
    line: (text) => { queue = queue.then(async () => { await command(text) }) },
    typing: (active) => { room.setTyping(active) },
    end: () => { void queue.then(left) }
  })

  function show (rows: readonly MessageRow[]): void {
    for (const row of rows) {
      printed.add(row.id)
      terminal.print(formatMessage(row))
    }
  }

  function report (error: unknown): void {
    terminal.print(`* ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`)
  }

  /** The latest page; then, live, whatever comes after the earliest message shown (earlier ones: `/more`). */
  async function start (): Promise<void> {
    terminal.print(`* ${room.nick} in room ${room.name} (${HELP})`)
    const latest = await room.history()
    show(latest)
    oldest = latest[0]
    stopLive = room.watchLatest(LIVE_WINDOW, (rows) => {
      const fresh = rows.filter((row) => !printed.has(row.id) && (oldest === undefined || after(row, oldest)))
      oldest ??= fresh[0]
      show(fresh)
    })
  }

  /** Prints who came, went, or started typing since the last change. */
  function presence (peers: readonly RoomPeer[]): void {
    const now = new Map(peers.map(({ peer, state }) => [peer, state]))
    for (const [peer, state] of online) if (!now.has(peer)) terminal.print(`* ${state.nick} left`)
    for (const [peer, state] of now) {
      const before = online.get(peer)
      if (before === undefined) terminal.print(`* ${state.nick} is online`)
      if (state.typing && before?.typing !== true) terminal.print(`* ${state.nick} is typing…`)
    }
    online = now
  }

  function who (): string {
    return [room.nick, ...[...online.values()].map((state) => state.nick).sort()].join(', ')
  }

  async function command (text: string): Promise<void> {
    try {
      if (text === '/quit') left()
      else if (text === '/help') terminal.print(`* ${HELP}`)
      else if (text === '/more') await more()
      else if (text === '/who') terminal.print(`* online: ${who()}`)
      else if (text.startsWith('/')) terminal.print(`* unknown command ${text.split(' ')[0] ?? ''}; ${HELP}`)
      else await room.send(text)
    } catch (error) {
      report(error)
    }
  }

  async function more (): Promise<void> {
    const page = oldest === undefined ? [] : (await room.history(oldest)).filter((row) => !printed.has(row.id))
    if (page.length === 0) {
      terminal.print('* no earlier messages')
      return
    }
    terminal.print('* earlier messages:')
    show(page)
    oldest = page[0]
  }

  queue = start().catch(report)
  const stopPresence = room.watchPeers(presence)
  try {
    await Promise.race([leaving, io.until])
  } finally {
    stopPresence()
    stopLive()
    terminal.close()
  }
}
