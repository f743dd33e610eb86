/**
 * `kadmium serve` as a separate process for the `serve` scenario: started
 * from the CLI's sources (`node --conditions=development`), ready when it
 * prints "ready"; its RSS read from `/proc`.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../packages/node-adapter/src/cli/bin.ts', import.meta.url))

/** A running server process. */
export interface ServeProcess {
  readonly child: ChildProcess
  /** Its TCP addresses. */
  readonly tcp: readonly string[]
  /** ms from spawn to "ready". */
  readonly readyMs: number
  /** Its resident set size now (MB), from /proc. */
  rssMB: () => number
  /** Sends SIGTERM; resolves its exit code and the ms it took to exit. */
  stop: () => Promise<{ code: number | null, ms: number }>
}

/** Spawns `kadmium serve ...args`; resolves once it printed "ready" (rejects with its output if it exits first or after `timeoutMs`). */
export async function spawnServe (args: readonly string[], timeoutMs: number): Promise<ServeProcess> {
  const started = performance.now()
  const child = spawn(process.execPath, ['--conditions=development', BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  const exited = new Promise<number | null>((resolve) => { child.on('close', (code) => { resolve(code) }) })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`kadmium serve not ready within ${timeoutMs} ms:\n${out}`))
    }, timeoutMs)
    child.stdout.on('data', () => {
      if (!/^ready$/m.test(out)) return
      clearTimeout(timer)
      resolve()
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`kadmium serve exited with ${String(code)}:\n${out}`))
    })
  })
  const readyMs = performance.now() - started
  return {
    child,
    tcp: out.split('\n').filter((line) => line.startsWith('  /') && !line.includes('/ws/')).map((line) => line.trim()),
    readyMs,
    rssMB: () => {
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid ?? 0}/status`, 'utf8'))?.[1]
      return Number(kb ?? NaN) / 1024
    },
    stop: async () => {
      const at = performance.now()
      if (child.exitCode === null) child.kill('SIGTERM')
      const code = await exited
      return { code, ms: performance.now() - at }
    }
  }
}
