/**
 * `nextTask()` is a macrotask, with Node's `setImmediate` and without it
 * (browsers: a `MessageChannel` message): every microtask queued before and
 * after the call runs first.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { nextTask } from '../../src/util/next-task.ts'

/** The order in which a chain of 50 microtasks and `nextTask()` finish. */
async function order (next: () => Promise<void>): Promise<string[]> {
  const seen: string[] = []
  const task = next().then(() => { seen.push('task') })
  let chain = Promise.resolve()
  for (let i = 0; i < 50; i++) chain = chain.then(() => { seen.push('micro') })
  await Promise.all([task, chain])
  return seen
}

test('nextTask resolves after every microtask queued before and after it', async () => {
  const seen = await order(nextTask)
  assert.equal(seen.indexOf('task'), 50)
})

test('without setImmediate (as in browsers) it is a macrotask too', async () => {
  const module = new URL('../../src/util/next-task.ts', import.meta.url).href
  const code = `
    delete globalThis.setImmediate
    const { nextTask } = await import(${JSON.stringify(module)})
    const seen = []
    const task = nextTask().then(() => { seen.push('task') })
    let chain = Promise.resolve()
    for (let i = 0; i < 50; i++) chain = chain.then(() => { seen.push('micro') })
    await Promise.all([task, chain])
    console.log(seen.indexOf('task'))`
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    timeout: 30_000
  })
  assert.equal(stdout.trim(), '50')
})
