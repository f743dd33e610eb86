import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

const script = join(import.meta.dirname, 'todo.ts')

function run (dir: string, ...args: string[]): { out: string, err: string, code: number | null } {
  const r = spawnSync(process.execPath, ['--conditions=development', script, ...args], {
    env: { ...process.env, TODO_DIR: dir },
    encoding: 'utf8',
    timeout: 30_000
  })
  return { out: r.stdout.trim(), err: r.stderr.trim(), code: r.status }
}

test('the todo CLI keeps its list across runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kadmium-todo-'))
  try {
    const milk = run(dir, 'add', 'buy', 'milk')
    assert.equal(milk.code, 0, milk.err)
    const bread = run(dir, 'add', 'bake bread').out
    assert.equal(run(dir, 'done', milk.out).code, 0)
    assert.deepEqual(run(dir, 'list').out.split('\n'), [`[ ] ${bread} bake bread`, `[x] ${milk.out} buy milk`])
    assert.equal(run(dir, 'remove', bread).code, 0)
    assert.deepEqual(run(dir, 'list').out.split('\n'), [`[x] ${milk.out} buy milk`])
    const missing = run(dir, 'done', 'nope')
    assert.equal(missing.code, 1)
    assert.match(missing.err, /no todo nope/)
    const empty = run(dir, 'add')
    assert.equal(empty.code, 1)
    assert.match(empty.err, /ValidationError/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
