/**
 * The todo app's sync server: a real `kadmium serve` (the command of
 * `@kadmium/node`) as a child process, read from what it prints, and
 * `kadmium pin` to keep a list on it. Run from the package's sources when
 * this process has the `development` condition (`npm start` does), from its
 * build otherwise.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `kadmium serve` exited before it was ready, or a `kadmium pin` failed. */
export class SyncServerError extends Error {
  override name = 'SyncServerError'
}

/** Options of {@link startSyncServer}. */
export interface SyncServerOptions {
  /** Its data directory: its key (its peer id) and the lists it keeps live there. */
  readonly dataDir: string
  /** The interface to listen on: `0.0.0.0` for the LAN, `127.0.0.1` for this machine alone. */
  readonly host: string
  /** The port of its WebSockets listener (what pages served over http dial), and of its WebRTC-Direct one (UDP); 0: any free one. */
  readonly port: number
  /** Listen on WebRTC-Direct too: what pages served over https dial (they may not dial plain ws). */
  readonly webRTCDirect: boolean
  /** Where its log lines go, once it is ready. */
  readonly log: (line: string) => void
}

/** A running `kadmium serve`. */
export interface SyncServer {
  readonly peerId: string
  /** The port of its WebSockets listener. */
  readonly wsPort: number
  /** Its WebRTC-Direct listener, if it has one: its UDP port and certificate hash (`/certhash/...`, kept in the data directory). */
  readonly webRTCDirect: { readonly port: number, readonly certhash: string } | undefined
  /** Its addresses for Node peers (TCP), as it printed them. */
  readonly tcp: readonly string[]
  /** Pins a list (a database address): the server opens it and keeps it, across restarts too. */
  pin (address: string): Promise<void>
  /** Resolves once it has exited. */
  readonly exited: Promise<number | null>
  /** Stops it (SIGTERM, SIGKILL past the bound); resolves once it has exited. */
  stop (): Promise<void>
}

const START_BOUND_MS = 60_000
const PIN_BOUND_MS = 30_000
const STOP_BOUND_MS = 15_000

/** The CLI's entry, beside `@kadmium/node`'s entry point as this process resolves it (`src/index.ts` or `dist/src/index.js`). */
function cliEntry (): string {
  const entry = fileURLToPath(import.meta.resolve('@kadmium/node'))
  return join(dirname(entry), 'cli', `bin${extname(entry)}`)
}

function kadmium (args: readonly string[]): ChildProcess {
  const entry = cliEntry()
  const conditions = entry.endsWith('.ts') ? ['--conditions=development'] : []
  return spawn(process.execPath, [...conditions, entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Starts `kadmium serve` on the local network and resolves once it printed `ready`. */
export async function startSyncServer (options: SyncServerOptions): Promise<SyncServer> {
  await mkdir(options.dataDir, { recursive: true })
  const { host, port } = options
  // TCP for Node peers, WebSockets and WebRTC-Direct for the pages.
  const listen = [`/ip4/${host}/tcp/0`, `/ip4/${host}/tcp/${port}/ws`, ...(options.webRTCDirect ? [`/ip4/${host}/udp/${port}/webrtc-direct`] : [])]
  const child = kadmium(['serve', '--data', options.dataDir, '--network', 'local', ...listen.flatMap((a) => ['--listen', a])])
  const exited = new Promise<number | null>((resolve) => { child.on('close', resolve) })
  let out = ''
  let ready = false
  let partial = ''
  const onOutput = (chunk: string): void => {
    if (!ready) {
      out += chunk
      return
    }
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) if (line.trim() !== '') options.log(line)
  }
  child.stdout?.setEncoding('utf8').on('data', onOutput)
  child.stderr?.setEncoding('utf8').on('data', onOutput)

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, STOP_BOUND_MS)
      await exited
      clearTimeout(timer)
    })()
    return stopping
  }

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new SyncServerError(`kadmium serve was not ready within ${START_BOUND_MS} ms:\n${out}`)) }, START_BOUND_MS)
      child.stdout?.on('data', () => {
        if (/^ready$/m.test(out)) {
          clearTimeout(timer)
          resolve()
        }
      })
      void exited.then((code) => {
        clearTimeout(timer)
        reject(new SyncServerError(`kadmium serve exited with ${String(code)}:\n${out}`))
      })
    })
  } catch (error) {
    await stop()
    throw error
  }
  ready = true

  const addresses = out.split('\n').filter((line) => line.startsWith('  /')).map((line) => line.trim())
  const ws = addresses.find((a) => a.includes('/ws/'))
  const direct = addresses.map((a) => /\/udp\/(\d+)\/webrtc-direct\/certhash\/([^/]+)\//.exec(a)).find((m) => m !== null)
  const peerId = /^peer id (\S+)$/m.exec(out)?.[1]
  const wsPort = ws === undefined ? undefined : /\/tcp\/(\d+)\/ws\//.exec(ws)?.[1]
  if (peerId === undefined || wsPort === undefined || (options.webRTCDirect && direct === undefined)) {
    await stop()
    throw new SyncServerError(`kadmium serve printed no peer id, or not the addresses asked for:\n${out}`)
  }

  const pinned = new Map<string, Promise<void>>()
  const pin = (address: string): Promise<void> => {
    let pinning = pinned.get(address)
    if (pinning === undefined) {
      pinning = runPin(address, options.dataDir)
      pinned.set(address, pinning)
      // A failed pin may be asked again.
      pinning.catch(() => { pinned.delete(address) })
    }
    return pinning
  }

  return {
    peerId,
    wsPort: Number(wsPort),
    webRTCDirect: direct === undefined ? undefined : { port: Number(direct[1]), certhash: direct[2] as string },
    tcp: addresses.filter((a) => !a.includes('/ws/') && !a.includes('/webrtc-direct/')),
    pin,
    exited,
    stop
  }
}

/** `kadmium pin ADDRESS --data DIR`, which asks the running server over its control socket. */
async function runPin (address: string, dataDir: string): Promise<void> {
  const child = kadmium(['pin', address, '--data', dataDir])
  let printed = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { printed += chunk })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { printed += chunk })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, PIN_BOUND_MS)
  const code = await new Promise<number | null>((resolve) => { child.on('close', resolve) })
  clearTimeout(timer)
  if (code !== 0) throw new SyncServerError(`kadmium pin exited with ${String(code)}: ${printed.trim()}`)
}
