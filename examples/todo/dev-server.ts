/**
 * The todo app's web server: Vite's dev server for `examples/todo`, with
 * two endpoints the app calls, backed by the sync server:
 *
 * - `GET /api/sync`: `{ bootstrap: [...] }`, the sync server's address for
 *   the page, on the host the page was loaded from (a phone on the LAN that
 *   opened `https://192.168.1.20:5173` dials `192.168.1.20` too);
 * - `POST /api/pin` with `{ "address": "..." }`: the server keeps that list.
 *
 * Vite resolves the workspace packages through their `development`
 * condition, so the app runs on their TypeScript sources: no build needed.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { isDatabaseAddress } from '@kadmium/core'
import type { Certificate } from './certificate.ts'
import { createServer, type Plugin, type ViteDevServer } from 'vite'
import type { SyncServer } from './sync-server.ts'

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  readonly sync: SyncServer
  /** The interface to listen on. */
  readonly host: string
  /** The port; the next free one if taken, any free one if 0. */
  readonly port: number
  /** Serve over https with this certificate. @default http */
  readonly https?: Certificate
}

/** A running dev server. */
export interface DevServer {
  /** Where the app is served: on this machine, then on the network (empty when listening on loopback only). */
  readonly urls: { readonly local: readonly string[], readonly network: readonly string[] }
  close (): Promise<void>
}

/**
 * Where Vite keeps the app's optimized dependencies: a folder of its own, so that another Vite
 * server of the workspace running at the same time (the chat example's) does not replace them.
 */
const CACHE_DIR = join(import.meta.dirname, '..', '..', 'node_modules', '.vite-todo')
/** Largest request body accepted (bytes). */
const MAX_BODY = 4096

/** Starts Vite's dev server for the app. */
export async function startDevServer (options: DevServerOptions): Promise<DevServer> {
  // Vite stops the whole process on SIGTERM (after closing itself); start.ts stops it, and the sync server, itself.
  const sigterm = new Set(process.listeners('SIGTERM'))
  const server: ViteDevServer = await createServer({
    configFile: false,
    root: import.meta.dirname,
    clearScreen: false,
    logLevel: 'warn',
    cacheDir: CACHE_DIR,
    server: { host: options.host, port: options.port, strictPort: false, ...(options.https === undefined ? {} : { https: options.https }) },
    oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
    plugins: [syncApi(options.sync)]
  })
  for (const listener of process.listeners('SIGTERM')) if (!sigterm.has(listener)) process.off('SIGTERM', listener)
  try {
    await server.listen()
  } catch (error) {
    await server.close()
    throw error
  }
  const urls = server.resolvedUrls ?? { local: [], network: [] }
  return { urls: { local: urls.local, network: urls.network }, close: () => server.close() }
}

/** The endpoints of the app's server. */
function syncApi (sync: SyncServer): Plugin {
  return {
    name: 'kadmium-todo-sync-api',
    configureServer (server) {
      server.middlewares.use('/api/sync', (req, res) => {
        json(res, 200, { bootstrap: browserAddresses(sync, hostOf(req), (req.socket as Partial<TLSSocket>).encrypted === true) })
      })
      server.middlewares.use('/api/pin', (req, res) => {
        if (req.method !== 'POST') {
          json(res, 405, { error: 'POST { "address": "..." }' })
          return
        }
        readBody(req).then(async (body) => {
          const address = addressIn(body)
          if (address === undefined) {
            json(res, 400, { error: 'POST { "address": "<a database address>" }' })
            return
          }
          await sync.pin(address)
          json(res, 200, { pinned: address })
        }).catch((error: unknown) => {
          json(res, 500, { error: error instanceof Error ? error.message : String(error) })
        })
      })
    }
  }
}

/** The database address a request body (`{ "address": "..." }`) names, if it names one. */
function addressIn (body: string): string | undefined {
  try {
    const { address } = JSON.parse(body) as { address?: unknown }
    return isDatabaseAddress(address) ? address : undefined
  } catch {
    return undefined
  }
}

/** The host name the page was loaded from (`Host` header, without the port). */
function hostOf (req: IncomingMessage): string {
  const host = req.headers.host ?? '127.0.0.1'
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')
  return name === 'localhost' || name === '' ? '127.0.0.1' : name
}

/**
 * The sync server's address for a browser that reached this server at `host`: its WebSockets
 * listener there for a page served over http; its WebRTC-Direct listener for one served over https
 * (which may not dial plain ws, and WebRTC-Direct needs no certificate of the server's own).
 */
export function browserAddresses (sync: SyncServer, host: string, https: boolean): string[] {
  const ip = isIP(host)
  const base = ip === 4 ? `/ip4/${host}` : ip === 6 ? `/ip6/${host}` : `/dns4/${host}`
  const peer = `/p2p/${sync.peerId}`
  if (!https) return [`${base}/tcp/${sync.wsPort}/ws${peer}`]
  // WebRTC-Direct is dialed at an IP address.
  if (sync.webRTCDirect === undefined || ip === 0) return []
  return [`${base}/udp/${sync.webRTCDirect.port}/webrtc-direct/certhash/${sync.webRTCDirect.certhash}${peer}`]
}

async function readBody (req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) {
    body += String(chunk)
    if (body.length > MAX_BODY) throw new Error('request body too large')
  }
  return body
}

function json (res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status
  res.setHeader('content-type', 'application/json')
  res.setHeader('cache-control', 'no-store')
  res.end(JSON.stringify(value))
}
