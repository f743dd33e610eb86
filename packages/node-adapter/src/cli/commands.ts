/**
 * The server's subcommands of `kadmium` (`id`, `serve`, `pin`, `unpin`,
 * `status`) and what every subcommand shares: each its spec (arguments,
 * options, help) and what it does. Output goes through {@link Io}; a command resolves its
 * exit code.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { loadPeerKey } from '../peer-key.ts'
import { isDatabaseAddress } from '@kadmium/core'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { NetworkMode } from '../node-peer-options.ts'
import { metricsAddress } from './metrics.ts'
import { requestControl, type ControlRequest } from './control.ts'
import { readPins, writePins } from './pins.ts'
import { KadmiumServer } from './server.ts'
import { list, text, UsageError, type CommandSpec, type Parsed } from './usage.ts'

/** Where a command writes, and what it reads. */
export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  /** Standard input, for `put -`. */
  readonly stdin: NodeJS.ReadableStream
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM): `serve` closes then. */
  readonly stopped: Promise<string>
}

/** A subcommand. */
export interface Command {
  readonly spec: CommandSpec
  run (parsed: Parsed, io: Io): Promise<number>
}

/** The data directory when `--data` is not given. */
export const DEFAULT_DATA = process.env.KADMIUM_DATA ?? 'kadmium-data'
/**
 * What `serve` listens on when `--listen` is not given: TCP for Node
 * peers, WebSockets and WebRTC-Direct (UDP) for browsers.
 */
export const DEFAULT_SERVE_LISTEN = ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws', '/ip4/0.0.0.0/udp/4001/webrtc-direct']

export const DATA = { type: 'string', value: 'DIR', help: `the data directory (default: $KADMIUM_DATA or ./${DEFAULT_DATA})` } as const
export const NETWORK = { type: 'string', value: 'MODE', help: "'public' (default) or 'local' (loopback and LAN test networks)" } as const
export const BOOTSTRAP = { type: 'string', multiple: true, value: 'ADDR', help: 'a peer to join through (multiaddr with /p2p/<peer id>)' } as const
export const TIMEOUT = { type: 'string', value: 'MS', help: 'how long to wait for the database and its peers (default 15000)' } as const

export function network (parsed: Parsed): NetworkMode {
  const mode = text(parsed, 'network') ?? 'public'
  if (mode !== 'public' && mode !== 'local') throw new UsageError(`--network is 'public' or 'local', not "${mode}"`)
  return mode
}

export const dataDir = (parsed: Parsed): string => text(parsed, 'data') ?? DEFAULT_DATA

/** Prints a JSON value on one line. */
export const json = (io: Io, value: unknown): void => { io.out(JSON.stringify(value) + '\n') }

export const id: Command = {
  spec: { name: 'id', args: '', minArgs: 0, maxArgs: 0, summary: 'Shows the peer id of the identity in the data directory, creating the identity if there is none.', options: { data: DATA } },
  async run (parsed, io) {
    const key = await loadPeerKey(dataDir(parsed))
    io.out(peerIdFromPrivateKey(key).toString() + '\n')
    return 0
  }
}

export const serve: Command = {
  spec: {
    name: 'serve',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Runs an always-on peer: a DHT server, relay for browsers, and a full replica of every pinned database. Stops on SIGINT or SIGTERM, storing what it holds.',
    options: {
      data: DATA,
      listen: { type: 'string', multiple: true, value: 'ADDR', help: `an address to listen on (default: ${DEFAULT_SERVE_LISTEN.join(' ')})` },
      announce: { type: 'string', multiple: true, value: 'ADDR', help: 'an address to announce instead (a wss:// endpoint behind a TLS proxy: /dns4/example.org/tcp/443/wss)' },
      pin: { type: 'string', multiple: true, value: 'ADDRESS', help: 'a database to pin (kept in the data directory with earlier pins)' },
      bootstrap: BOOTSTRAP,
      network: NETWORK,
      mdns: { type: 'boolean', help: 'also find peers on the local network with mDNS' },
      metrics: { type: 'string', value: 'HOST:PORT', help: 'serve /metrics (Prometheus text format) and /health over HTTP here' },
      config: { type: 'string', value: 'FILE', help: 'a JSON file of these options ({ "listen": [...], "pin": [...], ... }); flags add to it' }
    },
    details: [
      'It prints its peer id and the addresses to give Node peers (TCP) and browsers (WebSockets: ws from an http page,',
      'wss behind a TLS proxy from an https page; WebRTC-Direct from any page, no certificate needed), then "ready".'
    ]
  },
  async run (parsed, io) {
    const config = await readConfig(text(parsed, 'config'))
    const from = (name: string): string[] => [...config.list(name), ...list(parsed, name)]
    const badPin = from('pin').find((pin) => !isDatabaseAddress(pin))
    if (badPin !== undefined) throw new UsageError(`kadmium serve: --pin "${String(badPin)}" is not a database address`)
    const metrics = text(parsed, 'metrics') ?? config.text('metrics')
    if (metrics !== undefined) metricsAddress(metrics)
    const server = await KadmiumServer.start({
      dataDir: text(parsed, 'data') ?? config.text('data') ?? DEFAULT_DATA,
      listen: from('listen').length > 0 ? from('listen') : DEFAULT_SERVE_LISTEN,
      announce: from('announce'),
      bootstrap: from('bootstrap'),
      pins: from('pin'),
      network: text(parsed, 'network') !== undefined ? network(parsed) : config.text('network') === 'local' ? 'local' : 'public',
      mdns: parsed.values.mdns === true || config.flag('mdns'),
      openTimeout: 15_000,
      log: (line) => { io.out(`${new Date().toISOString()} ${line}\n`) },
      ...(metrics === undefined ? {} : { metrics: metricsAddress(metrics) })
    })
    io.out(addressLines(server.peer.multiaddrs.map(String), server.peer.peerId.toString(), server.metricsUrl).join('\n') + '\n')
    const signal = await io.stopped
    io.out(`${signal}: storing and closing\n`)
    await server.close()
    io.out('closed\n')
    return 0
  }
}

/**
 * What `serve` prints once it runs: its peer id, its addresses by who
 * dials them (each with `/p2p/<peer id>`), the metrics URL, then `ready`.
 */
export function addressLines (addresses: readonly string[], peerId: string, metricsUrl: string | undefined): string[] {
  const ws = addresses.filter((a) => a.includes('/ws/') || a.includes('/wss/'))
  const webRTCDirect = addresses.filter((a) => a.includes('/webrtc-direct/'))
  const tcp = addresses.filter((a) => !ws.includes(a) && !webRTCDirect.includes(a))
  const listed = (list: readonly string[], none: string): string[] => list.length === 0 ? [`  (none: add --listen ${none})`] : list.map((a) => `  ${a}`)
  return [
    `peer id ${peerId}`,
    'for Node peers (nodePeer({ bootstrap })):',
    ...listed(tcp, '/ip4/0.0.0.0/tcp/4001'),
    'for browsers (browserPeer({ bootstrap })), WebSockets:',
    ...listed(ws, '/ip4/0.0.0.0/tcp/4002/ws'),
    'for browsers, WebRTC-Direct:',
    ...listed(webRTCDirect, '/ip4/0.0.0.0/udp/4001/webrtc-direct'),
    ...(metricsUrl === undefined ? [] : [`metrics ${metricsUrl}`]),
    'ready'
  ]
}

/** Sends a request to the server running on the data directory; `undefined` if none runs. */
async function control (parsed: Parsed, request: ControlRequest): Promise<unknown> {
  const answer = await requestControl(dataDir(parsed), request)
  if (answer === undefined) return undefined
  if (!answer.ok) throw new Error(answer.error)
  return answer.result
}

export const pin: Command = {
  spec: { name: 'pin', args: 'ADDRESS', minArgs: 1, maxArgs: 1, summary: 'Pins a database on the server of the data directory (running, or at its next start).', options: { data: DATA } },
  async run (parsed, io) {
    const address = parsed.positionals[0] ?? ''
    if (!isDatabaseAddress(address)) throw new UsageError(`kadmium pin: "${String(address)}" is not a database address`)
    const result = await control(parsed, { op: 'pin', address })
    if (result !== undefined) {
      json(io, result)
      return 0
    }
    await writePins(dataDir(parsed), [...await readPins(dataDir(parsed)), address])
    io.out(`no server runs on ${dataDir(parsed)}: ${address} is pinned from its next start\n`)
    return 0
  }
}

export const unpin: Command = {
  spec: { name: 'unpin', args: 'ADDRESS', minArgs: 1, maxArgs: 1, summary: 'Unpins a database (its data stays on disk).', options: { data: DATA } },
  async run (parsed, io) {
    const address = parsed.positionals[0] ?? ''
    const result = await control(parsed, { op: 'unpin', address })
    if (result !== undefined) {
      json(io, result)
      return 0
    }
    const pins = await readPins(dataDir(parsed))
    await writePins(dataDir(parsed), pins.filter((p) => p !== address))
    json(io, { address, unpinned: pins.includes(address) })
    return 0
  }
}

export const status: Command = {
  spec: { name: 'status', args: '', minArgs: 0, maxArgs: 0, summary: 'Shows the running server: peer id, addresses, connections, and each pinned database with its record counts and last sync.', options: { data: DATA } },
  async run (parsed, io) {
    const result = await control(parsed, { op: 'status' })
    if (result === undefined) {
      io.err(`kadmium status: no server runs on ${dataDir(parsed)}\n`)
      return 1
    }
    io.out(JSON.stringify(result, null, 2) + '\n')
    return 0
  }
}

/** A `--config` file: its options, read as `serve`'s flags are. */
async function readConfig (path: string | undefined): Promise<{ list: (name: string) => string[], text: (name: string) => string | undefined, flag: (name: string) => boolean }> {
  let config: Record<string, unknown> = {}
  if (path !== undefined) {
    try {
      config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
    } catch (cause) {
      throw new UsageError(`--config ${path}: ${(cause as Error).message}`, { cause })
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new UsageError(`--config ${path}: not a JSON object`)
  }
  return {
    list: (name) => {
      const value = config[name]
      if (value === undefined) return []
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new UsageError(`--config ${path ?? ''}: "${name}" is a list of strings`)
      return value
    },
    text: (name) => typeof config[name] === 'string' ? config[name] : undefined,
    flag: (name) => config[name] === true
  }
}
