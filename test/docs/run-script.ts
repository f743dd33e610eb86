/**
 * Runs a docs snippet as its own Node.js process, as a reader would run
 * it (`node --conditions=development file`), in a working directory of its
 * own (so `./todo-data` lands there), and in a network namespace of its own
 * that has only loopback: a snippet may use its defaults (listening on every
 * interface, mDNS, a placeholder bootstrap address) and nothing leaves the
 * machine. Needs `unshare` (util-linux) and `ip` (iproute2), and the right
 * to make a user and network namespace (root, or unprivileged user
 * namespaces), as the browser tests' network namespace does
 * (packages/browser-adapter/test/fixtures/network-namespace.ts).
 * @module
 */
import { spawn } from 'node:child_process'

/** How a snippet's run ended. */
export interface ScriptRun {
  /** Its exit code; `null` if it was killed for running past its bound. */
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Brings loopback up, says so, then runs the command. */
const SETUP = 'set -e; ip link set lo up; echo "namespace ready" >&2; exec "$@"'

/**
 * Runs `file` with the Node.js running this test, in `cwd`; kills it (its
 * whole process group) once it runs past `boundMs`.
 */
export async function runScript (file: string, cwd: string, boundMs: number): Promise<ScriptRun> {
  const env = { ...process.env }
  delete env.NODE_TEST_CONTEXT // the snippet is not a test file
  delete env.NODE_OPTIONS
  const child = spawn('unshare', ['--net', '--map-root-user', '--', 'sh', '-c', SETUP, 'sh', process.execPath, '--conditions=development', file], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const ended = new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) => { reject(new Error(`cannot run unshare (util-linux): ${error.message}`, { cause: error })) })
    child.once('close', (code) => { resolve(code) })
  })
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<'hung'>((resolve) => { timer = setTimeout(() => { resolve('hung') }, boundMs) })
  try {
    if (await Promise.race([ended, bound]) === 'hung') {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      await ended
      return { code: null, stdout, stderr: `${stderr}\n(still running after ${boundMs} ms: killed)` }
    }
    const code = await ended
    if (!stderr.includes('namespace ready')) {
      throw new Error(`the network namespace could not be set up (needs unshare, ip and the right to make namespaces):\n${stderr}`)
    }
    return { code, stdout, stderr: stderr.replace('namespace ready\n', '') }
  } finally {
    clearTimeout(timer)
  }
}
