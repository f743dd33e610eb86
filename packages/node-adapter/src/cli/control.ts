/**
 * The control socket of a running `kadmium serve`: a Unix socket in its
 * data directory (`control.sock`, only its owner may connect) on which
 * `kadmium pin`, `unpin` and `status` send one JSON request line and read
 * one JSON answer line.
 * @module
 */
import { createConnection, createServer, type Server } from 'node:net'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { ServerStatus } from './server-status.ts'

/** The socket's file, in the data directory. */
export const CONTROL_SOCKET = 'control.sock'

/** A request to the server. */
export type ControlRequest =
  | { readonly op: 'pin', readonly address: string }
  | { readonly op: 'unpin', readonly address: string }
  | { readonly op: 'status' }

/** Its answer: what the operation returned, or why it failed. */
export type ControlAnswer = { readonly ok: true, readonly result: unknown } | { readonly ok: false, readonly error: string }

/** Longest request line accepted. */
const MAX_LINE = 64 * 1024

/** Serves requests on the data directory's socket (a stale socket file of a dead server is replaced). */
export async function serveControl (dataDir: string, handle: (request: ControlRequest) => Promise<unknown>): Promise<Server> {
  const path = join(dataDir, CONTROL_SOCKET)
  await rm(path, { force: true })
  const server = createServer((socket) => {
    let buffer = ''
    socket.setEncoding('utf8')
    socket.on('error', () => {})
    socket.on('data', (chunk: string) => {
      buffer += chunk
      if (buffer.length > MAX_LINE) {
        socket.end(JSON.stringify({ ok: false, error: 'request too long' }) + '\n')
        return
      }
      const end = buffer.indexOf('\n')
      if (end < 0) return
      const line = buffer.slice(0, end)
      buffer = ''
      void answer(line, handle).then((reply) => { socket.end(JSON.stringify(reply) + '\n') })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ path, readableAll: false, writableAll: false }, () => { resolve() })
  })
  return server
}

async function answer (line: string, handle: (request: ControlRequest) => Promise<unknown>): Promise<ControlAnswer> {
  let request: ControlRequest
  try {
    request = JSON.parse(line) as ControlRequest
    if (typeof request !== 'object' || request === null || !['pin', 'unpin', 'status'].includes(request.op)) throw new Error('unknown request')
  } catch (error) {
    return { ok: false, error: `bad request: ${(error as Error).message}` }
  }
  try {
    return { ok: true, result: await handle(request) }
  } catch (error) {
    return { ok: false, error: `${(error as Error).name}: ${(error as Error).message}` }
  }
}

/**
 * Sends a request to the server running on `dataDir`. Resolves its
 * answer, or `undefined` if no server runs there (no socket, or nobody
 * listening on it).
 */
export async function requestControl (dataDir: string, request: ControlRequest, timeoutMs = 30_000): Promise<ControlAnswer | undefined> {
  const path = join(dataDir, CONTROL_SOCKET)
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path })
    let text = ''
    const timer = setTimeout(() => { socket.destroy(new Error(`the server on ${dataDir} did not answer within ${timeoutMs} ms`)) }, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('connect', () => { socket.write(JSON.stringify(request) + '\n') })
    socket.on('data', (chunk: string) => { text += chunk })
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(undefined)
      else reject(error)
    })
    socket.on('end', () => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(text) as ControlAnswer)
      } catch (cause) {
        reject(new Error(`the server on ${dataDir} answered something that is not JSON`, { cause }))
      }
    })
  })
}

/**
 * The status of the `kadmium serve` running on `dataDir` (peer id,
 * addresses, connections, pins with their record counts), or `undefined`
 * if none runs there.
 * @throws {Error} the server answered with an error
 */
export async function serverStatus (dataDir: string): Promise<ServerStatus | undefined> {
  const answer = await requestControl(dataDir, { op: 'status' })
  if (answer === undefined) return undefined
  if (!answer.ok) throw new Error(answer.error)
  return answer.result as ServerStatus
}
