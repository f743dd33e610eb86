/**
 * Runs a function in a fresh Node process (with `--expose-gc`), for
 * measurements that must not see what ran before: absolute RSS, cold
 * start. The function is an export of a module; it takes and returns JSON.
 * A child never outlives this process: it exits once its stdin (a pipe
 * from here, never written) ends, which happens when this process dies,
 * however it dies.
 * @module
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Marks the result line in the child's stdout. */
export const RESULT_MARK = '@@kadmium-bench-result '

/**
 * With this environment variable `'1'` (inherited by every process a
 * process starts), a child exits as soon as it has written its result,
 * instead of letting the event loop run dry (lingering close timers of
 * libp2p and Helia take about a second). Quick runs set it.
 */
export const EXIT_AFTER_RESULT = 'KADMIUM_BENCH_EXIT_AFTER_RESULT'

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))

/** A child process of {@link runIsolated} overran its `timeoutMs` and was killed. */
export class ChildTimeout extends Error {
  override readonly name = 'ChildTimeout'
}

/** Options of {@link runIsolated}. */
export interface IsolateOptions {
  /** Kill the child if it still runs after this long; the promise then rejects saying so. */
  readonly timeoutMs?: number
  /** Gets the child's stderr line by line (else the child writes to this process's stderr directly). */
  readonly onStderr?: (line: string) => void
}

/**
 * Calls `exportName` of module `moduleUrl` with `arg` in a new process and
 * resolves what it returns. The child's other output goes to stderr.
 */
export function runIsolated<T> (moduleUrl: string, exportName: string, arg: unknown, options: IsolateOptions = {}): Promise<T> {
  return resultOf<T>(['--conditions=development', '--expose-gc', CHILD, moduleUrl, exportName, JSON.stringify(arg)], exportName, options)
}

/**
 * Runs a plain-JavaScript entry script (`node --expose-gc script ...args`,
 * no TypeScript loader, packages resolved to their compiled `dist/`) that
 * prints one {@link RESULT_MARK} line, and resolves that result.
 */
export function runScript<T> (script: string, args: readonly string[], label: string, options: IsolateOptions = {}): Promise<T> {
  return resultOf<T>(['--expose-gc', script, ...args], label, options)
}

function resultOf<T> (argv: readonly string[], exportName: string, options: IsolateOptions): Promise<T> {
  const { timeoutMs, onStderr } = options
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      // stdin stays open and unused: the child exits when it ends, that is when this process is gone (child.ts).
      stdio: ['pipe', 'pipe', onStderr === undefined ? 'inherit' : 'pipe']
    })
    if (onStderr !== undefined && child.stderr !== null) {
      let partial = ''
      child.stderr.setEncoding('utf8')
      child.stderr.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n')
        partial = lines.pop() ?? ''
        for (const line of lines) onStderr(line)
      })
      child.stderr.on('end', () => { if (partial !== '') onStderr(partial) })
    }
    let timedOut = false
    const timer = timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
        timedOut = true
        child.kill('SIGKILL')
      }, timeoutMs)
    let out = ''
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => { out += chunk })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) {
        reject(new ChildTimeout(`${exportName} in a child process did not finish within ${Math.round((timeoutMs ?? 0) / 1000)} s; killed`))
        return
      }
      const lines = out.split('\n')
      const line = lines.find((l) => l.startsWith(RESULT_MARK))
      for (const other of lines) {
        if (other === line || other === '') continue
        if (onStderr === undefined) process.stderr.write(other + '\n')
        else onStderr(other)
      }
      if (code !== 0 || line === undefined) {
        reject(new Error(`${exportName} in a child process failed (exit ${String(code ?? signal)})`))
        return
      }
      resolve(JSON.parse(line.slice(RESULT_MARK.length)) as T)
    })
  })
}

/**
 * Runs an inline ES module (`node --expose-gc --input-type=module -e code`)
 * in a new process, from `cwd`, and resolves its stdout: for plain-JS
 * reference measurements that must not load the TypeScript loader.
 */
export function runInlineModule (code: string, cwd: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => { out += chunk })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(out)
      else reject(new Error(`inline module failed (exit ${String(code)})`))
    })
  })
}
