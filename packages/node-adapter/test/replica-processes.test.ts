import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import { waitFor } from './fixtures/peers.ts'

const fixture = join(import.meta.dirname, 'fixtures', 'replica-process.ts')
const children = new Set<ChildProcessWithoutNullStreams>()
let root: string | undefined
after(async () => {
  for (const child of children) child.kill('SIGKILL')
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

/** A replica in its own process, answering one JSON line per request. */
class Replica {
  readonly child: ChildProcessWithoutNullStreams
  readonly #answers: Array<(value: Record<string, unknown>) => void> = []
  readonly ready: Promise<{ peerId: string, addrs: string[] }>
  stderr = ''

  constructor (dataDir: string, bootstrap: string[] = []) {
    this.child = spawn(process.execPath, ['--conditions=development', fixture, dataDir, ...bootstrap], { stdio: ['pipe', 'pipe', 'pipe'] })
    children.add(this.child)
    this.child.on('exit', () => children.delete(this.child))
    this.child.stderr.on('data', (chunk: Buffer) => { this.stderr += chunk.toString() })
    let ready!: (value: { peerId: string, addrs: string[] }) => void
    this.ready = new Promise((resolve) => { ready = resolve })
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const value = JSON.parse(line) as Record<string, unknown>
      if (value.ready === true) ready(value as unknown as { peerId: string, addrs: string[] })
      else this.#answers.shift()?.(value)
    })
  }

  async ask (command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = new Promise<Record<string, unknown>>((resolve) => this.#answers.push(resolve))
    this.child.stdin.write(JSON.stringify(command) + '\n')
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`no answer to ${JSON.stringify(command)}: ${this.stderr}`)) }, 20_000)
    })
    try {
      return await Promise.race([answer, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async exited (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    await new Promise((resolve) => this.child.once('exit', resolve))
  }
}

test('replicas in separate OS processes sync; one killed with SIGKILL restarts with its identity and data and catches up', { timeout: 120_000 }, async () => {
  root = await mkdtemp(join(tmpdir(), 'kadmium-processes-'))
  const a = new Replica(join(root, 'a'))
  const aInfo = await a.ready
  const b = new Replica(join(root, 'b'), aInfo.addrs)
  const bInfo = await b.ready

  const first = (await a.ask({ op: 'insert', title: 'from process a' })).id as string
  await waitFor('the record to reach process b', async () => ((await b.ask({ op: 'get', id: first })).row as { title?: string } | null)?.title === 'from process a', 30_000)
  const fromB = (await b.ask({ op: 'insert', title: 'from process b' })).id as string
  await waitFor('the record to reach process a', async () => (await a.ask({ op: 'get', id: fromB })).row !== null, 30_000)

  // Kill b without warning; a writes meanwhile.
  b.child.kill('SIGKILL')
  await b.exited()
  const missed = (await a.ask({ op: 'insert', title: 'written while b was dead' })).id as string

  const b2 = new Replica(join(root, 'b'), aInfo.addrs)
  const b2Info = await b2.ready
  assert.equal(b2Info.peerId, bInfo.peerId, 'the restarted process keeps its identity')
  assert.equal(((await b2.ask({ op: 'get', id: fromB })).row as { title: string }).title, 'from process b', 'and its data')
  await waitFor('the restarted process to catch up', async () => (await b2.ask({ op: 'get', id: missed })).row !== null, 30_000)
  assert.equal((await b2.ask({ op: 'count' })).count, 3)
  a.child.stdin.end()
  b2.child.stdin.end()
  await Promise.all([a.exited(), b2.exited()])
  assert.equal(a.child.exitCode, 0, a.stderr)
  assert.equal(b2.child.exitCode, 0, b2.stderr)
})
