/**
 * `npm run chat -- --web`: serves the browser page (`web/`) with Vite's
 * dev server on 127.0.0.1, and gives its link with the room and the
 * bootstrap addresses in the query.
 * @module
 */
import { join } from 'node:path'
import { createServer } from 'vite'

/** What the page's link carries. */
export interface WebPageOptions {
  readonly room: string
  readonly bootstrap: readonly string[]
  readonly network: 'local' | 'public'
  readonly port: number
}

/** The page's server, running. */
export interface WebPageServer {
  /** The page's link: `http://127.0.0.1:<port>/?room=...&bootstrap=...`. */
  readonly url: string
  close (): Promise<void>
}

/** The page's folder. */
export const WEB_ROOT = join(import.meta.dirname, 'web')

/** The link to the page at `origin`, with the room, network and bootstrap addresses in its query (the nick is asked on the page). */
export function pageLink (origin: string, options: Omit<WebPageOptions, 'port'>): string {
  const query = new URLSearchParams({ room: options.room, network: options.network })
  for (const address of options.bootstrap) query.append('bootstrap', address)
  return `${origin}/?${query.toString()}`
}

/** Starts Vite on `web/` (no config file; the workspace's packages resolve to their sources). */
export async function serveWebPage (options: WebPageOptions): Promise<WebPageServer> {
  const server = await createServer({
    root: WEB_ROOT,
    configFile: false,
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: options.port }
  })
  await server.listen()
  const origin = (server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${options.port}/`).replace(/\/$/, '')
  return { url: pageLink(origin, options), close: async () => { await server.close() } }
}
