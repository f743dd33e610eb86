/**
 * `npm run bench:check`, the last step of `npm test`: the benchmark harness
 * in its small version (`npm run bench -- --quick`), so that it never rots.
 * Every scenario must run to the end and report numbers; the numbers
 * themselves are not asserted (the machine is shared and noisy).
 *
 * The run writes its results where every quick run does, beside the full
 * runs' results: `bench/results/quick.json` (git-ignored); the check reads
 * the file the run says it wrote, and checks that the full runs'
 * `bench/results/latest.json` (committed, the source of
 * `docs/benchmarks.md`) was left as it was.
 *
 * The run is bounded and leaves nothing else behind: `bench/run.ts` runs in
 * a process group of its own (its scenario processes and theirs join it),
 * killed as a whole once the run overruns {@link RUN_LIMIT_MS}; a scenario
 * that hangs is killed by the harness after `QUICK_SCENARIO_LIMIT_MS` and
 * reported failed, the others still run. Every temp dir (LevelDB, the
 * compile cache) goes to a directory of this test's own, checked empty and
 * removed at the end; no process of the group may outlive the run.
 * @module
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { scenarios } from './scenarios/index.ts'

const root = join(import.meta.dirname, '..')
/** Where quick runs write their results. */
const QUICK_RESULTS = join(root, 'bench', 'results', 'quick.json')
/** The full runs' results, which a quick run must not touch. */
const FULL_RESULTS = join(root, 'bench', 'results', 'latest.json')

/** The whole quick run is killed after this long (it takes 45–90 s on a loaded 2-core machine). */
const RUN_LIMIT_MS = 300_000

/** What one run of `bench/run.ts` did. */
interface BenchRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
  /** Whether a process of the run's group was still alive after the run ended (then killed). */
  readonly leftovers: boolean
  readonly ms: number
}

/**
 * Runs `node bench/run.ts ...args` from the repository root in a new
 * process group, with `TMPDIR` set to `tmp`; kills the group after
 * `timeoutMs`, and whatever of it outlives the run.
 */
function bench (args: readonly string[], tmp: string, timeoutMs: number): Promise<BenchRun> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=development', '--expose-gc', join(root, 'bench', 'run.ts'), ...args], {
      cwd: root,
      detached: true,
      env: { ...process.env, TMPDIR: tmp, NODE_COMPILE_CACHE: undefined },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const group = child.pid
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      if (group !== undefined) killGroup(group)
    }, timeoutMs)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      void (async () => {
        // A scenario process is waited for by the harness; give a straggler a moment, then kill it.
        let leftovers = false
        if (group !== undefined) {
          for (let i = 0; i < 20 && groupAlive(group); i++) await sleep(100)
          leftovers = groupAlive(group)
          if (leftovers) killGroup(group)
        }
        resolve({ code, signal, stdout, stderr, timedOut, leftovers, ms: performance.now() - started })
      })()
    })
  })
}

/**
 * Whether a process of group `pgid` is alive. On Linux from `/proc`, not
 * counting zombies (an orphan that exited stays one where PID 1 does not
 * reap); elsewhere any member, zombies included.
 */
function groupAlive (pgid: number): boolean {
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    try {
      process.kill(-pgid, 0)
      return true
    } catch {
      return false
    }
  }
  return pids.some((pid) => {
    try {
      // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return Number(pgrp) === pgid && state !== 'Z'
    } catch {
      return false // gone meanwhile
    }
  })
}

function killGroup (pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** The scenario entries of the JSON results that matter here. */
interface ResultsJson {
  readonly quick: boolean
  readonly environment: { readonly node: string, readonly cpu: string, readonly date: string }
  readonly scenariosRun: readonly string[]
  readonly scenarios: ReadonlyArray<{
    readonly name: string
    readonly durationMs: number
    readonly error?: string
    readonly rows?: ReadonlyArray<{ readonly case: string, readonly samples: readonly unknown[], readonly summary: { readonly median: unknown } }>
  }>
}

test('npm run bench -- --quick runs every scenario, reports numbers and leaves nothing behind', { timeout: RUN_LIMIT_MS + 30_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'kadmium-bench-quick-'))
  const fullBefore = existsSync(FULL_RESULTS) ? readFileSync(FULL_RESULTS, 'utf8') : undefined
  try {
    const r = await bench(['--quick'], tmp, RUN_LIMIT_MS)
    const tail = (text: string): string => text.split('\n').slice(-40).join('\n')
    const output = `\n--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`
    assert.equal(r.timedOut, false, `the quick bench did not finish within ${RUN_LIMIT_MS / 1000} s; killed${output}`)
    assert.equal(r.code, 0, `the quick bench exited with ${String(r.code ?? r.signal)}${output}`)
    assert.equal(r.leftovers, false, 'a process of the quick bench outlived it')
    assert.match(r.stdout, /^case +records +system +median +unit/m, 'a results table was printed')
    assert.match(r.stdout, /\d+ pass, \d+ miss, \d+ not measured; 0 scenario\(s\) failed/)

    // The file the run says it wrote (relative to its working directory, the repository root).
    const written = /^results: (.+)$/m.exec(r.stdout)?.[1]
    assert.ok(written !== undefined, 'the run named its results file')
    const out = resolve(root, written)
    assert.equal(out, QUICK_RESULTS, 'a quick run writes bench/results/quick.json')
    assert.equal(existsSync(FULL_RESULTS) ? readFileSync(FULL_RESULTS, 'utf8') : undefined, fullBefore, 'the quick run left bench/results/latest.json as it was')
    const json = JSON.parse(readFileSync(out, 'utf8')) as ResultsJson
    assert.equal(json.quick, true)
    assert.ok(json.environment.node.length > 0 && json.environment.cpu.length > 0 && json.environment.date.length > 0, 'the JSON names the machine and date')
    assert.deepEqual(json.scenariosRun, scenarios.map((s) => s.name), 'every scenario ran')
    for (const name of json.scenariosRun) {
      const scenario = json.scenarios.find((s) => s.name === name)
      assert.ok(scenario !== undefined, `scenario ${name} is in the JSON`)
      assert.equal(scenario.error, undefined, `scenario ${name} failed: ${scenario.error ?? ''}`)
      assert.ok(Number.isFinite(scenario.durationMs), `scenario ${name} has its wall time`)
      const rows = scenario.rows ?? []
      assert.ok(rows.length > 0, `scenario ${name} reported rows`)
      for (const row of rows) {
        assert.ok(row.samples.length > 0 && row.samples.every((x) => typeof x === 'number' && Number.isFinite(x)), `${name}, ${row.case}: measured numbers`)
        assert.ok(typeof row.summary.median === 'number' && Number.isFinite(row.summary.median), `${name}, ${row.case}: a median`)
      }
    }
    assert.deepEqual(readdirSync(tmp), [], 'the quick bench removed its temp dirs')
    const times = json.scenarios.map((s) => `${s.name} ${(s.durationMs / 1000).toFixed(1)} s`).join(', ')
    t.diagnostic(`quick bench: ${(r.ms / 1000).toFixed(1)} s in all; ${times}`)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
})
