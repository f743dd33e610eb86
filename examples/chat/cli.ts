/**
 * Kadmium chat in the terminal:
 *
 *   npm run chat -- --room lobby --nick ada [--bootstrap ADDR]
 *
 * A room is a database; peers on one machine or LAN find each other by
 * mDNS, others through a `kadmium serve` given with `--bootstrap` (which
 * also brings browsers in: `npm run chat -- --web`). See README.md.
 * @module
 */
import { nodePeer } from '@kadmium/node'
import { ChatUsageError, parseChatOptions, USAGE, type ChatOptions } from './cli-options.ts'
import { runSession } from './cli-session.ts'
import { Room, roomAddress } from './room.ts'
import { serveWebPage } from './web-server.ts'

async function chat (options: ChatOptions): Promise<void> {
  const peer = await nodePeer({
    dataDir: options.dataDir,
    bootstrap: options.bootstrap,
    network: options.network,
    mdns: options.mdns,
    ...(options.listen === undefined ? {} : { listen: options.listen })
  })
  try {
    const room = await Room.open(peer, options.room, options.nick)
    try {
      console.log(`* room ${options.room}: address ${room.db.address}, peer ${peer.peerId.toString()}`)
      await runSession(room, { input: process.stdin, output: process.stdout, until: signalled() })
    } finally {
      await room.close()
    }
  } finally {
    await peer.close()
  }
}

/** Resolves on the first SIGINT or SIGTERM (handled: the process then closes what it opened). */
function signalled (): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => { resolve() })
    process.once('SIGTERM', () => { resolve() })
  })
}

try {
  const options = parseChatOptions(process.argv.slice(2))
  if (options.help) process.stdout.write(USAGE)
  else if (options.address) console.log(await roomAddress(options.room))
  else if (options.web) {
    const server = await serveWebPage(options)
    console.log(`* the chat page: ${server.url}`)
    await signalled()
    await server.close()
  } else await chat(options)
} catch (error) {
  if (error instanceof ChatUsageError) {
    process.stderr.write(`${error.message}\n\n${USAGE}`)
    process.exitCode = 2
  } else {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error)
    process.exitCode = 1
  }
}
