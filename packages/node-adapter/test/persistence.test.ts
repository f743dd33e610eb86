import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

const FIXTURE = join(import.meta.dirname, 'fixtures', 'notes-process.ts')
const CHILD_TIMEOUT_MS = 30_000

/** Runs the fixture in a fresh Node.js process; resolves its stdout once it exits with 0. */
function runFixture (mode: 'write' | 'read', directory: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=development', FIXTURE, mode, directory], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
      killSignal: 'SIGKILL'
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout)
      else reject(new Error(`the "${mode}" process ended with ${signal === null ? `code ${String(code)}` : `signal ${signal} (timeout ${CHILD_TIMEOUT_MS} ms?)`}:\n${stderr}`))
    })
  })
}

let directory: string
before(async () => { directory = await mkdtemp(join(tmpdir(), 'kadmium-persistence-')) })
after(async () => { await rm(directory, { recursive: true, force: true }) })

test('records written by one process are read back by another', async () => {
  await runFixture('write', join(directory, 'db'))
  const output = await runFixture('read', join(directory, 'db'))
  const result: unknown = JSON.parse(output)
  assert.deepEqual(result, {
    rows: [
      { id: 'a', title: 'first', rank: 1, done: false, body: 'Hello, wide world' },
      { id: 'b', title: 'second', rank: 2, done: true }
    ],
    deleted: null,
    count: 2,
    bodyIsText: true
  })
})
