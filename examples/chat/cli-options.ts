/**
 * The chat CLI's command line: `npm run chat -- --room NAME --nick NAME
 * [options]`, read with `node:util`'s `parseArgs`.
 * @module
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { checkNick, roomDatabaseName } from './room.ts'

/** The command line is wrong; the CLI prints the message and the usage, and exits with 2. */
export class ChatUsageError extends Error {
  override name = 'ChatUsageError'
}

/** What the CLI was asked to do. */
export interface ChatOptions {
  /** Show the usage and stop. */
  readonly help: boolean
  /** Print the room's address (for `kadmium serve --pin`) and stop. */
  readonly address: boolean
  /** Serve the browser page with Vite instead of chatting here. */
  readonly web: boolean
  readonly room: string
  readonly nick: string
  /** The peer's data directory (its key, and the rooms' messages). */
  readonly dataDir: string
  readonly bootstrap: readonly string[]
  readonly listen: readonly string[] | undefined
  readonly network: 'local' | 'public'
  readonly mdns: boolean
  /** The port of the page's server (`--web`). */
  readonly port: number
}

/** The help text. */
export const USAGE = `usage: npm run chat -- --room NAME --nick NAME [options]

Chat in a Kadmium room from the terminal. Lines you type are sent; commands:
  /more   earlier messages     /who    who is online
  /help   this list            /quit   leave (or Ctrl-C, or end of input)

options:
  --room NAME         the room (default lobby): every peer of a room shares its messages
  --nick NAME         your name in the room (required)
  --data DIR          the peer's data directory (default: kadmium-chat/NICK in the system's temp directory)
  --bootstrap ADDR    a peer to join through, such as a kadmium serve (repeatable)
  --listen ADDR       an address to listen on (repeatable; default every interface, TCP and WebSockets)
  --network MODE      local (one machine or LAN: the default) or public
  --no-mdns           do not look for peers on the LAN with mDNS
  --address           print the room's address (for kadmium serve --pin) and exit
  --web               serve the browser page (Vite) instead; --bootstrap goes into its link
  --port N            the page's port with --web (default 5173)
  --help              show this help
`

/**
 * Reads the command line.
 * @throws {ChatUsageError} an unknown option, a missing nick, a bad value
 */
export function parseChatOptions (argv: readonly string[]): ChatOptions {
  let values
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowNegative: true,
      options: {
        help: { type: 'boolean', default: false },
        address: { type: 'boolean', default: false },
        web: { type: 'boolean', default: false },
        room: { type: 'string', default: 'lobby' },
        nick: { type: 'string' },
        data: { type: 'string' },
        bootstrap: { type: 'string', multiple: true, default: [] },
        listen: { type: 'string', multiple: true },
        network: { type: 'string', default: 'local' },
        mdns: { type: 'boolean', default: true },
        port: { type: 'string', default: '5173' }
      }
    }))
  } catch (cause) {
    throw new ChatUsageError((cause as Error).message, { cause })
  }
  const { network, nick = '' } = values
  if (network !== 'local' && network !== 'public') throw new ChatUsageError(`--network is local or public, not "${network}"`)
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ChatUsageError(`--port is a port number, not "${values.port}"`)
  const needsNick = !values.help && !values.address && !values.web
  if (needsNick && nick === '') throw new ChatUsageError('--nick NAME is required')
  try {
    roomDatabaseName(values.room)
    if (nick !== '') checkNick(nick)
  } catch (cause) {
    throw new ChatUsageError((cause as Error).message, { cause })
  }
  return {
    help: values.help,
    address: values.address,
    web: values.web,
    room: values.room,
    nick,
    dataDir: values.data ?? join(tmpdir(), 'kadmium-chat', nick),
    bootstrap: values.bootstrap,
    listen: values.listen,
    network,
    mdns: values.mdns,
    port
  }
}
