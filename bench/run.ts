/**
 * The benchmark harness.
 *
 *     npm run bench                      every scenario
 *     npm run bench -- insert find       some scenarios
 *     npm run bench -- --quick           a small version (about a minute; the last step of npm test),
 *                                        results to bench/results/quick.json
 *     npm run bench -- --reps 9          more measured rounds
 *     npm run bench -- --list            the scenarios
 *     npm run bench -- --in-process      all scenarios in this process
 *     npm run bench -- --out FILE        results to FILE instead of bench/results/latest.json (or quick.json)
 *
 * Each scenario runs in a fresh Node process (with `--expose-gc`), so that
 * one scenario's heap, JIT state and RSS do not leak into the next.
 * Tables go to stdout, progress to stderr (a status line with a bar on a
 * terminal, plain lines otherwise), and machine-readable results to
 * `bench/results/latest.json` (scenarios not run keep their last results
 * there, each marked with the run it came from). That file is the full
 * runs' (committed; `npm run bench:report` writes the docs from it): quick
 * runs write `bench/results/quick.json` instead (git-ignored), beside it.
 * Targets print PASS or MISS; a miss never fails the run (errors do).
 * @module
 */
import { spawnSync } from 'node:child_process'
import { flushCompileCache } from 'node:module'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { QUICK_SCENARIO_LIMIT_MS } from './lib/budget.ts'
import { useCompileCache } from './lib/compile-cache.ts'
import { environment } from './lib/env.ts'
import { canGc } from './lib/memory.ts'
import { fmt, type ResultRow, type ScenarioReport, type TargetResult } from './lib/report.ts'
import { formatTable } from './lib/table.ts'
import { EXIT_AFTER_RESULT, runIsolated } from './lib/isolate.ts'
import { Progress } from './lib/progress.ts'
import type { RunScenarioArgs } from './scenarios/index.ts'

const RESULTS = new URL('./results/', import.meta.url)
/** Longest a scenario's process may run before it is killed and the scenario reported failed. */
const SCENARIO_LIMIT_MS = 2 * 3600_000

const { values: flags, positionals: names } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    list: { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
const quick = flags.quick === true

// Quick runs (CI) share Node's compile cache between their processes: each imports the same sources.
// Full runs do not, so that what they measure stays as it was.
// Their processes also exit as soon as their result is out (EXIT_AFTER_RESULT).
const compileCache = quick ? useCompileCache() : undefined
if (quick) process.env[EXIT_AFTER_RESULT] = '1'

// Restart with --expose-gc, so that memory readings follow a full GC.
// (The scenarios are imported below, after this: the first process loads none of them.)
if (!canGc() && process.env.KADMIUM_BENCH_RESPAWNED === undefined) {
  const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', import.meta.filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, KADMIUM_BENCH_RESPAWNED: '1' }
  })
  process.exit(child.status ?? 1)
}

const { runScenario, scenarios } = await import('./scenarios/index.ts')
const { kadmiumStorage } = await import('./lib/storage.ts')
// Every scenario's sources are compiled now: write them to the cache for the scenario processes (else written at exit).
if (compileCache !== undefined) flushCompileCache()

if (flags.help === true || flags.list === true) {
  if (flags.help === true) console.log('usage: npm run bench -- [scenario ...] [--quick] [--reps N] [--in-process] [--out FILE] [--list]\n')
  for (const s of scenarios) console.log(`${s.name.padEnd(Math.max(...scenarios.map((x) => x.name.length)))} ${s.description}`)
  process.exit(0)
}

const unknown = names.filter((n) => !scenarios.some((s) => s.name === n))
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`)
  process.exit(2)
}
let rounds: number | undefined
if (flags.reps !== undefined) {
  rounds = Number(flags.reps)
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error('--reps takes a whole number >= 1')
    process.exit(2)
  }
}
const selected = names.length === 0 ? scenarios : scenarios.filter((s) => names.includes(s.name))
const inProcess = flags['in-process'] === true

interface ScenarioResult extends Partial<ScenarioReport> {
  readonly name: string
  readonly description: string
  readonly durationMs: number
  readonly error?: string
}

const env = environment()
const storage = await kadmiumStorage()
console.log(`Kadmium bench${quick ? ' (quick)' : ''} — ${env.date}`)
console.log(`node ${env.node}, ${env.cpu} × ${env.cores}, ${fmt(env.totalMemoryMB / 1024, 1)} GB, load ${env.loadAverage.join(' ')}, gc ${env.exposeGc ? 'exposed' : 'not exposed'}`)
console.log(`Kadmium storage: ${storage.source}; baseline: raw Yjs + classic-level\n`)

const results: ScenarioResult[] = []
const started = performance.now()
// In-process scenarios write their progress to stderr themselves: no status line then.
const progress = new Progress(selected.length, process.stderr, !inProcess)
/** Prints to stdout around the status line. */
const say = (text = ''): void => { progress.print(process.stdout, text + '\n') }
for (const scenario of selected) {
  const t0 = performance.now()
  progress.start(scenario.name, inProcess ? 'running' : 'running in a fresh process')
  try {
    const args: RunScenarioArgs = { name: scenario.name, quick, rounds }
    const report = inProcess
      ? await runScenario(args)
      : await runIsolated<ScenarioReport>(new URL('./scenarios/run-one.ts', import.meta.url).href, 'runScenario', args, {
        // A last resort against a hung or pathological scenario: it fails, the run goes on.
        timeoutMs: quick ? QUICK_SCENARIO_LIMIT_MS : SCENARIO_LIMIT_MS,
        ...(progress.interactive ? { onStderr: (line: string) => { progress.line(line) } } : {})
      })
    const result: ScenarioResult = { name: scenario.name, description: scenario.description, durationMs: performance.now() - t0, ...report }
    results.push(result)
    progress.end(`${fmt(result.durationMs / 1000, 1)} s`)
    printScenario(result, report)
  } catch (error) {
    progress.end(`FAILED after ${fmt((performance.now() - t0) / 1000, 1)} s`)
    say(`\n${scenario.name}: FAILED\n${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    results.push({ name: scenario.name, description: scenario.description, durationMs: performance.now() - t0, error: String(error) })
  }
}
progress.stop()

console.log('Wall time per scenario')
for (const r of results) console.log(`  ${r.name.padEnd(Math.max(...results.map((x) => x.name.length)))}  ${fmt(r.durationMs / 1000, 1).padStart(6)} s${r.error === undefined ? '' : '  FAILED'}`)
console.log()
const targets = results.flatMap((r) => (r.targets ?? []).map((t) => ({ scenario: r.name, ...t })))
console.log('Targets')
for (const t of targets) console.log(`  ${verdict(t)}  ${t.target}: ${t.actual}`)
const failed = results.filter((r) => r.error !== undefined)
console.log(`\n${targets.filter((t) => t.pass === true).length} pass, ${targets.filter((t) => t.pass === false).length} miss, ${targets.filter((t) => t.pass === undefined).length} not measured; ${failed.length} scenario(s) failed; ${fmt((performance.now() - started) / 1000, 1)} s`)

// Quick runs write beside the full runs' results, never over them.
const out = flags.out === undefined ? new URL(quick ? 'quick.json' : 'latest.json', RESULTS) : pathToFileURL(resolve(flags.out))
mkdirSync(new URL('.', out), { recursive: true })
// Every scenario entry says which run it came from; scenarios not run this time keep their last results.
const thisRun: RunInfo = { date: env.date, quick, rounds: rounds ?? 'default', commit: env.git.commit, dirty: env.git.dirty }
const fresh = results.map((r) => ({ ...r, run: thisRun }))
const kept = previousResults(out).filter((r) => !fresh.some((f) => f.name === r.name) && scenarios.some((s) => s.name === r.name))
const merged = scenarios.flatMap((s) => [...fresh, ...kept].filter((r) => r.name === s.name))
writeFileSync(out, JSON.stringify({
  schema: 2,
  environment: env,
  quick,
  rounds: rounds ?? 'default',
  isolation: inProcess ? 'in-process' : 'a fresh process per scenario',
  compileCache: compileCache !== undefined,
  scenariosRun: selected.map((s) => s.name),
  kadmiumStorage: storage.source,
  baseline: 'local scenarios: raw Yjs (Y.Doc per record, fields in a Y.Map, encodeStateAsUpdate) + classic-level, one awaited put per record; network scenarios: bare libp2p nodes or the same peers without Kadmium (see each scenario\'s notes)',
  durationMs: performance.now() - started,
  scenarios: merged,
  targets: merged.flatMap((r) => (r.targets ?? []).map((t) => ({ scenario: r.name, run: r.run.date, ...t })))
}, null, 2) + '\n')
console.log(`results: ${relative(process.cwd(), out.pathname)}`)
process.exitCode = failed.length > 0 ? 1 : 0

/** Which run a scenario's results in the results file come from. */
interface RunInfo {
  readonly date: string
  readonly quick: boolean
  readonly rounds: number | 'default'
  readonly commit: string | undefined
  readonly dirty: boolean | undefined
}

/** The scenario results already in `file`, each with the run it came from; none if it cannot be read. */
function previousResults (file: URL): Array<ScenarioResult & { run: RunInfo }> {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      environment?: { date?: string, git?: { commit?: string, dirty?: boolean } }
      quick?: boolean
      rounds?: number | 'default'
      scenarios?: Array<ScenarioResult & { run?: RunInfo }>
    }
    const old: RunInfo = {
      date: json.environment?.date ?? 'unknown',
      quick: json.quick ?? false,
      rounds: json.rounds ?? 'default',
      commit: json.environment?.git?.commit,
      dirty: json.environment?.git?.dirty
    }
    return (json.scenarios ?? []).map((r) => ({ ...r, run: r.run ?? old }))
  } catch {
    return []
  }
}

function verdict (t: TargetResult): string {
  return t.pass === undefined ? 'n/a ' : t.pass ? 'PASS' : 'MISS'
}

function printScenario (result: ScenarioResult, report: ScenarioReport): void {
  const lines: string[] = []
  const log = (line: string): void => { lines.push(line) }
  log(`${result.name} — ${result.description}`)
  const table = report.rows.map((row) => cells(row))
  log(formatTable(
    ['case', 'records', 'system', 'median', 'unit', 'min', 'max', 'spread', 'K/B', 'K/B range', 'RSS MB', 'heap MB'],
    table,
    ['left', 'right', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']
  ))
  for (const t of report.targets) log(`  ${verdict(t)}  ${t.target}: ${t.actual}`)
  for (const note of report.notes) log(`  note: ${note}`)
  log(`  (${report.rows[0]?.samples.length ?? 0} measured rounds per row, ${fmt(result.durationMs / 1000, 1)} s. spread: ± half the min–max range, of the median.`)
  log('   K/B: Kadmium ÷ baseline, paired by round. RSS/heap MB: the scenario process right after each run, median.)\n')
  say(lines.join('\n'))
}

function cells (row: ResultRow): string[] {
  const s = row.summary
  return [
    row.case,
    fmt(row.records, 0),
    row.system,
    fmt(s.median),
    row.unit,
    fmt(s.min),
    fmt(s.max),
    `±${fmt(s.spread * 50, 0)}%`,
    row.ratio === undefined ? '' : `${fmt(row.ratio.median, 2)}×`,
    row.ratio === undefined ? '' : `${fmt(row.ratio.min, 2)}–${fmt(row.ratio.max, 2)}`,
    row.rssMB === undefined ? '' : fmt(row.rssMB),
    row.heapUsedMB === undefined ? '' : fmt(row.heapUsedMB)
  ]
}
