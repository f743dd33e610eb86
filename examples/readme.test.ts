import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

const root = join(import.meta.dirname, '..')

/** The TypeScript code blocks of a Markdown file. */
function codeBlocks (file: string): string[] {
  return [...readFileSync(join(root, file), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string)
}

test('the README example runs as written', () => {
  const [example] = codeBlocks('README.md')
  assert.ok(example !== undefined, 'the README has a ts example')
  const data = mkdtempSync(join(tmpdir(), 'kadmium-readme-'))
  // Beside the examples, so that the packages resolve as they would in an app.
  const file = join(import.meta.dirname, `.readme-${process.pid}.ts`)
  try {
    writeFileSync(file, example.replaceAll("'./data'", JSON.stringify(data)))
    const r = spawnSync(process.execPath, ['--conditions=development', file], { encoding: 'utf8', timeout: 30_000 })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /title: 'milk', done: true, id: '[0-9A-Z]{26}'/, 'the query printed the updated record')
  } finally {
    rmSync(file, { force: true })
    rmSync(data, { recursive: true, force: true })
  }
})
