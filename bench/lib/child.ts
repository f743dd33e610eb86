/**
 * The entry point of {@link runIsolated}'s child processes:
 * `child.ts <module-url> <export> <json-arg>`.
 * @module
 */
import { fstatSync } from 'node:fs'
import { EXIT_AFTER_RESULT, RESULT_MARK } from './isolate.ts'

const [moduleUrl, exportName, json] = process.argv.slice(2)
if (moduleUrl === undefined || exportName === undefined || json === undefined) {
  throw new Error('usage: child.ts <module-url> <export> <json-arg>')
}
// The parent holds the other end of stdin: when it ends, the parent is gone (killed at its time limit, say). Do not outlive it.
const stdin = fstatSync(0)
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', () => {
    process.stderr.write(`${exportName}: the parent process is gone; exiting\n`)
    process.exit(4)
  })
  process.stdin.resume()
  process.stdin.unref()
}
const mod = await import(moduleUrl) as Record<string, unknown>
const fn = mod[exportName]
if (typeof fn !== 'function') throw new Error(`${moduleUrl} has no function export "${exportName}"`)
const result: unknown = await (fn as (arg: unknown) => unknown)(JSON.parse(json))
process.stdout.write(RESULT_MARK + JSON.stringify(result) + '\n')
// Quick runs (bench/run.ts sets EXIT_AFTER_RESULT): the result is out (stdout to a pipe is written synchronously)
// and the scenario closed what it opened; do not wait the second or so libraries' close timers take to run out.
if (process.env[EXIT_AFTER_RESULT] === '1') process.exit(0)
// A scenario stops what it started; should a handle linger anyway (a socket libp2p did not close), do not hang the run.
setTimeout(() => {
  process.stderr.write(`${exportName}: the process did not exit 10 s after its result; exiting\n`)
  process.exit(0)
}, 10_000).unref()
