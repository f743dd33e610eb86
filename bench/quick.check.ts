import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

const root = join(import.meta.dirname, '..')

/** Runs `node bench/run.ts ...args` from the repository root; resolves its exit code and output. */
function bench (args: readonly string[], timeoutMs: number): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=development', '--expose-gc', join(root, 'bench', 'run.ts'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL'
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', reject)
    child.on('close', (code) => { resolve({ code, stdout, stderr }) })
  })
}

// `npm run bench:check`: the benchmark harness in its small version; every scenario must
// run to the end and print its table. Its numbers are not asserted (the machine is shared and noisy).
test('npm run bench -- --quick runs every scenario and prints the results table', { timeout: 360_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kadmium-bench-quick-'))
  const out = join(dir, 'quick.json')
  try {
    const r = await bench(['--quick', '--out', out], 330_000)
    const tail = (text: string): string => text.split('\n').slice(-40).join('\n')
    assert.equal(r.code, 0, `the quick bench exited with ${String(r.code)}\n--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`)
    assert.match(r.stdout, /^case +records +system +median +unit/m, 'a results table was printed')
    assert.match(r.stdout, /^Targets$/m, 'the targets were listed')
    assert.match(r.stdout, /\d+ pass, \d+ miss, \d+ not measured; 0 scenario\(s\) failed/)
    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      quick: boolean
      environment: { node: string, cpu: string, date: string }
      scenariosRun: string[]
      scenarios: Array<{ name: string, error?: string, rows?: unknown[] }>
    }
    assert.equal(json.quick, true)
    assert.ok(json.environment.node.length > 0 && json.environment.cpu.length > 0 && json.environment.date.length > 0, 'the JSON names the machine and date')
    for (const name of json.scenariosRun) {
      const scenario = json.scenarios.find((s) => s.name === name)
      assert.ok(scenario !== undefined, `scenario ${name} is in the JSON`)
      assert.equal(scenario.error, undefined, `scenario ${name} failed: ${scenario.error ?? ''}`)
      assert.ok((scenario.rows?.length ?? 0) > 0, `scenario ${name} reported rows`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
