/**
 * A joiner process of the `cold-join` scenario: what a fresh app process
 * does to open a shared database by its address and show its data.
 *
 *     node --conditions=development cold-join-child.ts '<JoinArgs as JSON>'
 *
 * It imports the joiner of its mode (`cold-join-kadmium.ts`,
 * `cold-join-orbitdb.ts` or `cold-join-raw.ts`: nothing else heavy is
 * loaded), runs it, prints one {@link JOIN_RESULT} line with the timings
 * (ms since this process started), then closes what the joiner opened
 * (each close bounded) and exits. If the joiner throws, the process says
 * why on stderr and exits with 1; if it runs past `timeoutMs`, it says
 * what it was doing and exits with 5. It never outlives the bench: it
 * exits when its stdin (a pipe from the bench, never written) ends.
 * @module
 */
import { fstatSync } from 'node:fs'
import { JOIN_RESULT, type JoinArgs, type JoinContext, type JoinTimes } from './cold-join-protocol.ts'

/** Longest wait for one close after the result. */
const CLOSE_MS = 10_000

const json = process.argv[2]
if (json === undefined) throw new Error('usage: cold-join-child.ts <JoinArgs as JSON>')
const args = JSON.parse(json) as JoinArgs
const label = `cold-join ${args.mode} joiner (${args.records} records)`

// The bench holds the other end of stdin: when it ends, the bench is gone. Do not outlive it.
const stdin = fstatSync(0)
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', () => {
    process.stderr.write(`${label}: the bench process is gone; exiting\n`)
    process.exit(4)
  })
  process.stdin.resume()
  process.stdin.unref()
}

let phase = 'loading its modules'
const closers: Array<{ readonly what: string, readonly close: () => Promise<unknown> }> = []
const context: JoinContext = {
  args,
  phase: (what) => { phase = what },
  onClose: (what, close) => { closers.push({ what, close }) }
}
const deadline = setTimeout(() => {
  process.stderr.write(`${label}: gave up after ${Math.round(args.timeoutMs / 1000)} s, while ${phase}\n`)
  process.exit(5)
}, args.timeoutMs)

/** The joiner of a mode (each import spelled out, so that only that joiner's modules load). */
async function joiner (): Promise<(context: JoinContext) => Promise<JoinTimes>> {
  switch (args.mode) {
    case 'kadmium': return (await import('./cold-join-kadmium.ts')).join
    case 'orbitdb': return (await import('./cold-join-orbitdb.ts')).join
    case 'raw': return (await import('./cold-join-raw.ts')).join
    default: throw new Error(`unknown joiner mode ${String(args.mode)}`)
  }
}

let code = 0
try {
  const times = await (await joiner())(context)
  clearTimeout(deadline)
  // (stdout to a pipe is written synchronously.)
  process.stdout.write(JOIN_RESULT + JSON.stringify(times) + '\n')
} catch (error) {
  clearTimeout(deadline)
  process.stderr.write(`${label}: failed while ${phase}: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  code = 1
}
for (const { what, close } of closers.reverse()) {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([close(), new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`not closed within ${CLOSE_MS} ms`)) }, CLOSE_MS) })])
  } catch (error) {
    process.stderr.write(`${label}: closing ${what}: ${(error as Error).message}\n`)
  } finally {
    clearTimeout(timer)
  }
}
// Everything is closed; lingering library timers (libp2p, Helia) would keep the process up for a second or so.
process.exit(code)
