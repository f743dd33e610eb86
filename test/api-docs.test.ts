/**
 * The API reference builds: `npm run docs` (TypeDoc, typedoc.json) over
 * every package's entry points ends with no warning — every export is
 * documented and every `{@link}` resolves — and its entry points are the
 * packages' `exports`, so a new entry point cannot be left out.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import ts from 'typescript'

const root = join(import.meta.dirname, '..')

/** typedoc.json (JSON with comments). */
function typedocConfig (): { entryPoints: string[] } {
  const read = ts.readConfigFile(join(root, 'typedoc.json'), (path) => ts.sys.readFile(path))
  if (read.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'))
  return read.config as { entryPoints: string[] }
}

/** The TypeScript source of each code entry point of each workspace package (its `development` export; `./package.json` aside). */
function exportedSources (): string[] {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }
  return workspaces.flatMap((workspace) => {
    const { exports } = JSON.parse(readFileSync(join(root, workspace, 'package.json'), 'utf8')) as { exports: Record<string, string | { development?: string }> }
    return Object.values(exports).flatMap((target) => typeof target === 'object' && target.development !== undefined ? [join(workspace, target.development)] : [])
  })
}

test("the API reference's entry points are the packages' exports", () => {
  assert.deepEqual(typedocConfig().entryPoints.map((p) => join(p)).sort(), exportedSources().sort())
})

test('npm run docs builds the API reference with no warning', { timeout: 180_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'kadmium-api-docs-'))
  try {
    // `npm run docs` is `typedoc`; into a temporary folder here, so that docs/api is left as it was.
    const child = spawn(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    const problems = output.split('\n').filter((line) => /\[(warning|error)\]/.test(line))
    assert.deepEqual(problems, [], output)
    assert.equal(code, 0, output)
    assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /@kadmium\/node/, 'the reference lists the packages')
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
