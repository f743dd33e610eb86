/**
 * `npm start`: the todo app and its sync server, on this machine and the LAN.
 *
 *   npm start [-- --host 0.0.0.0] [--port 5173] [--sync-port 4002] [--data examples/todo/.kadmium] [--https]
 *
 * Starts `kadmium serve` (data in `--data`, so lists stay across restarts),
 * then Vite's dev server for the app, and prints the app's URLs. Ctrl-C
 * (SIGINT) or SIGTERM stops both and exits. Nothing to build first: the
 * server and the app run on the workspace's TypeScript sources.
 * @module
 */
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { readCertificate, selfSignedCertificate, type Certificate } from './certificate.ts'
import { startDevServer, type DevServer } from './dev-server.ts'
import { startSyncServer, type SyncServer } from './sync-server.ts'

const USAGE = `usage: npm start [-- --host HOST] [--port PORT] [--sync-port PORT] [--data DIR] [--https [--cert FILE --key FILE]]

  --host HOST        interface to listen on (default 0.0.0.0: this machine and the LAN; 127.0.0.1: this machine only)
  --port PORT        port of the app (default 5173; the next free one if taken; 0: any)
  --sync-port PORT   port of the sync server: WebSockets (TCP), and WebRTC-Direct (UDP) with --https (default 4002; 0: any)
  --data DIR         the sync server's data directory (default examples/todo/.kadmium)
  --https            serve the app over https, as other devices need (a phone on the LAN): with a
                     self-signed certificate made with openssl (kept in DIR/tls), or --cert and --key
  --cert FILE        the certificate (PEM) for --https, e.g. from mkcert
  --key FILE         its private key (PEM)`

interface Options {
  readonly host: string
  readonly port: number
  readonly syncPort: number
  readonly dataDir: string
  readonly https: boolean
  readonly cert: string | undefined
  readonly key: string | undefined
}

function options (): Options {
  let values
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: 'string', default: '0.0.0.0' },
        port: { type: 'string', default: '5173' },
        'sync-port': { type: 'string', default: '4002' },
        data: { type: 'string', default: resolve(import.meta.dirname, '.kadmium') },
        https: { type: 'boolean', default: false },
        cert: { type: 'string' },
        key: { type: 'string' },
        help: { type: 'boolean', default: false }
      }
    }))
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    console.error(`--cert and --key go together\n\n${USAGE}`)
    process.exit(2)
  }
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const port = (name: 'port' | 'sync-port'): number => {
    const n = Number(values[name])
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      console.error(`--${name} takes a port number, not "${values[name]}"\n\n${USAGE}`)
      process.exit(2)
    }
    return n
  }
  return {
    host: values.host,
    port: port('port'),
    syncPort: port('sync-port'),
    dataDir: resolve(values.data),
    https: values.https || values.cert !== undefined,
    cert: values.cert,
    key: values.key
  }
}

const opts = options()
let sync: SyncServer | undefined
let web: DevServer | undefined
let stopping: Promise<void> | undefined

/** Stops the web server, then the sync server (which stores what it holds); exits. */
function stop (code: number): Promise<void> {
  stopping ??= (async () => {
    await web?.close().catch((error: unknown) => { console.error('closing the web server:', error) })
    await sync?.stop()
    const exited = await sync?.exited
    if (exited !== undefined && exited !== 0) console.error(`the sync server exited with ${String(exited)}`)
    process.exit(code)
  })()
  return stopping
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping === undefined) console.log(`\n${signal}: stopping`)
    void stop(0)
  })
}
// npm runs this through a shell, which on some systems does not pass npm's signals on (SIGTERM to
// npm ends npm and the shell alone): stop too when the parent is gone.
const parent = process.ppid
setInterval(() => {
  if (process.ppid !== parent && stopping === undefined) {
    console.log('\nthe parent process is gone: stopping')
    void stop(0)
  }
}, 1000).unref()

try {
  let certificate: Certificate | undefined
  if (opts.https) {
    certificate = opts.cert !== undefined && opts.key !== undefined
      ? await readCertificate(opts.cert, opts.key)
      : await selfSignedCertificate(join(opts.dataDir, 'tls'))
  }
  console.log('starting the sync server (kadmium serve)...')
  sync = await startSyncServer({ dataDir: opts.dataDir, host: opts.host, port: opts.syncPort, webRTCDirect: opts.https, log: (line) => { console.log(`  sync: ${line}`) } })
  void sync.exited.then(() => {
    if (stopping === undefined) {
      console.error('the sync server stopped')
      void stop(1)
    }
  })
  if (stopping === undefined) {
    console.log('starting the app (vite)...')
    web = await startDevServer({
      sync,
      host: opts.host,
      port: opts.port,
      ...(certificate === undefined ? {} : { https: certificate })
    })
  }
} catch (error) {
  const message = error instanceof Error ? error.message : String(error)
  console.error(message)
  if (message.includes('EADDRINUSE')) console.error(`port ${opts.syncPort} is taken (another npm start?): try npm start -- --sync-port 0`)
  await stop(1)
}

if (stopping === undefined && sync !== undefined && web !== undefined) {
  const lines = [
    '',
    'Kadmium todo is running. Open it in two windows:',
    ...web.urls.local.map((url) => `  ${url}`),
    ...(web.urls.network.length === 0
      ? []
      : opts.https
        ? ['or on another device of this network (accept the self-signed certificate, unless you gave your own):', ...web.urls.network.map((url) => `  ${url}`)]
        : ['Other devices of this network need https (browsers run it only in a secure context): npm start -- --https']),
    '',
    `sync server ${sync.peerId}, data in ${opts.dataDir}`,
    ...sync.tcp.map((a) => `  for Node peers: ${a}`),
    'Ctrl-C stops everything.',
    ''
  ]
  console.log(lines.join('\n'))
}
