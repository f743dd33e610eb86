/**
 * The `kadmium` process: runs {@link main} with the command line, stdin,
 * stdout and stderr, and SIGINT/SIGTERM as the stop signal; exits with its
 * code.
 * @module
 */
import { main } from './main.ts'

const stopped = new Promise<string>((resolve) => {
  process.once('SIGINT', () => { resolve('SIGINT') })
  process.once('SIGTERM', () => { resolve('SIGTERM') })
})
const code = await main(process.argv.slice(2), {
  out: (text) => { process.stdout.write(text) },
  err: (text) => { process.stderr.write(text) },
  stdin: process.stdin,
  stopped
})
// Lingering library timers must not keep a finished command alive; let stdout drain first.
process.stdout.write('', () => { process.exit(code) })
