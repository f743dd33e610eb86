/**
 * Docs that run: every TypeScript and JavaScript code block of README.md
 * and docs/*.md is type-checked with tsc (against the packages' published
 * types, as an app sees them) and run with Node.js, so the docs cannot
 * drift from the code.
 *
 * How blocks become programs — HTML comments just before a block, invisible
 * on a rendered page, say more (several directives: `;` between them):
 *
 * - The code blocks of a file run in order as one script (`main`), so a
 *   later block uses what an earlier one made, as a reader's file would.
 * - `<!-- doctest: script NAME -->`: this block and the next ones make
 *   script NAME instead, a program of its own (back to another one with
 *   another `script`).
 * - `<!-- doctest: with peer -->`, on a script's first block: a hidden
 *   setup runs around it (test/docs/preludes.ts), for fragments of a
 *   larger program.
 * - `<!-- doctest: no-run REASON -->`: the block's script is type-checked
 *   only (code for a browser page).
 * - `<!-- doctest: skip REASON -->`: the block is neither run nor checked.
 *   Few, each with its reason.
 * - `<!-- doctest: output -->`, on a `text` block after a code block: lines
 *   the script must print, in order (`...` for any text, other lines may
 *   come between).
 *
 * Each script runs in a working directory of its own (its `./todo-data`
 * is made there, and removed after) and a network namespace with loopback
 * alone (test/docs/run-script.ts), bounded to a minute; a script must exit
 * by itself with 0, so closing what it opened is part of what is tested.
 * Shell blocks are checked by cli-docs.test.ts.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, suite, test } from 'node:test'
import { codeBlocks } from './docs/markdown.ts'
import { missingLines } from './docs/output.ts'
import { runScript } from './docs/run-script.ts'
import { docLocation, docPrograms, scriptFileName, scriptSource, type DocScript } from './docs/scripts.ts'

const root = join(import.meta.dirname, '..')
/** The docs whose code blocks run (docs/benchmarks.md is generated, and has none). */
const FILES = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]
const RUN_BOUND_MS = 60_000

// Inside the repository (its .tmp/ is ignored), so that `@kadmium/*`, zod and the rest resolve as in an app.
mkdirSync(join(root, '.tmp'), { recursive: true })
const work = mkdtempSync(join(root, '.tmp', 'doctest-'))
after(() => { rmSync(work, { recursive: true, force: true }) })

const programs = FILES.map((file) => docPrograms(codeBlocks(root, file)))
const scripts = programs.flatMap((p) => p.scripts)
const sources = new Map<DocScript, string>(scripts.map((s) => [s, scriptSource(s)]))
for (const [script, source] of sources) writeFileSync(join(work, scriptFileName(script)), source)

suite('docs that run', { concurrency: 3 }, () => {
  test('the docs have code to run', () => {
    assert.ok(scripts.some((s) => s.file === 'README.md' && s.noRun === undefined), 'the README has a script that runs')
    assert.ok(scripts.some((s) => s.file === 'docs/getting-started.md' && s.noRun === undefined), 'getting started has a script that runs')
  })

  test('every TypeScript snippet type-checks', { timeout: 120_000 }, async () => {
    writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, incremental: false, lib: ['ES2024', 'DOM'], types: ['node'] },
      include: ['*.ts']
    }))
    const { code, output } = await tsc(join(work, 'tsconfig.json'))
    assert.equal(code, 0, explainTypeErrors(output))
  })

  for (const script of scripts.filter((s) => s.noRun === undefined)) {
    test(`${script.file}: ${script.name} runs and prints what it says`, { timeout: RUN_BOUND_MS + 30_000 }, async () => {
      const name = scriptFileName(script)
      const cwd = join(work, name.replace(/\.[^.]+$/, ''))
      mkdirSync(cwd)
      const run = await runScript(join(work, name), cwd, RUN_BOUND_MS)
      const where = `${script.blocks.map((b) => `${b.file}:${b.line}`).join(', ')} (as ${join(work, name)})`
      assert.equal(run.code, 0, `${where} failed:\n${run.stderr}\n--- it printed:\n${run.stdout}`)
      for (const output of script.outputs) {
        const missing = missingLines(run.stdout, output.code)
        assert.deepEqual(missing, [], `${output.file}:${output.line}: the script did not print these lines (in this order):\n${missing.join('\n')}\n--- it printed:\n${run.stdout}`)
      }
    })
  }
})

/** Runs the repository's tsc on a project. */
async function tsc (project: string): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--pretty', 'false'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  return { code, output }
}

/** tsc's errors, each with the line of the doc it is about. */
function explainTypeErrors (output: string): string {
  return output.split('\n').map((line) => {
    const m = /([^/\\]+\.ts)\((\d+),\d+\): (.*)$/.exec(line)
    const script = m === null ? undefined : scripts.find((s) => scriptFileName(s) === m[1])
    if (m === null || script === undefined) return line
    return `${docLocation(sources.get(script) ?? '', Number(m[2]))}: ${m[3] as string}`
  }).join('\n')
}
