/**
 * Writes `docs/benchmarks.md` (the latest tables and targets) and
 * `docs/benchmarks.svg` (a chart of how Kadmium compares) from the bench's
 * JSON results of full runs.
 *
 *     npm run bench:report                       from bench/results/latest.json
 *     npm run bench:report -- results.json       from another results file
 *
 * Quick runs (`npm run bench -- --quick`, which write
 * `bench/results/quick.json`) are too small to publish: a results file
 * that holds any scenario from a quick run is refused.
 * @module
 */
import type { Environment } from './lib/env.ts'
import { readFileSync, writeFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, type ResultRow, type TargetResult } from './lib/report.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DOCS = resolve(ROOT, 'docs')

interface RunInfo {
  readonly date: string
  readonly quick: boolean
  readonly commit?: string
  readonly dirty?: boolean
}

interface ScenarioEntry {
  readonly name: string
  readonly description: string
  readonly durationMs: number
  readonly error?: string
  readonly rows?: readonly ResultRow[]
  readonly targets?: readonly TargetResult[]
  readonly notes?: readonly string[]
  readonly run?: RunInfo
}

interface Results {
  /** (Older result files may lack fields a run writes today.) */
  readonly environment: Omit<Environment, 'exposeGc' | 'git'> & { readonly git: { readonly commit?: string | undefined, readonly dirty?: boolean | undefined } }
  readonly quick: boolean
  readonly kadmiumStorage?: string
  readonly baseline?: string
  readonly scenarios: readonly ScenarioEntry[]
}

/** One bar of the chart: how many times better Kadmium did than what it was compared with. */
interface Bar {
  readonly label: string
  /** > 1: Kadmium better; < 1: worse. */
  readonly advantage: number
  readonly against: 'baseline' | 'orbitdb'
}

const input = resolve(process.argv[2] ?? resolve(ROOT, 'bench/results/latest.json'))
const results = JSON.parse(readFileSync(input, 'utf8')) as Results
const quickOnes = results.scenarios.filter((s) => (s.run?.quick ?? results.quick) === true).map((s) => s.name)
if (quickOnes.length > 0) {
  console.error(`${relative(process.cwd(), input)}: ${quickOnes.join(', ')} ${quickOnes.length === 1 ? 'comes' : 'come'} from a quick run; the docs are written from full runs only (npm run bench -- ${quickOnes.join(' ')}, into bench/results/latest.json)`)
  process.exit(2)
}

function cell (text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function xml (text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}

function verdict (t: TargetResult): string {
  return t.pass === undefined ? 'not measured' : t.pass ? '**PASS**' : '**MISS**'
}

function runLabel (run: RunInfo | undefined): string {
  if (run === undefined) return ''
  return `${run.date.slice(0, 16).replace('T', ' ')} UTC${run.quick ? ', quick run' : ''}${run.commit === undefined ? '' : `, ${run.commit.slice(0, 7)}${run.dirty === true ? ' (dirty)' : ''}`}`
}

/** The comparator row of a Kadmium row with a ratio. */
function comparator (rows: readonly ResultRow[], row: ResultRow): ResultRow | undefined {
  if (row.ratio === undefined) return undefined
  const against = row.ratio.against
  return rows.find((r) => r.system !== 'kadmium' && r.case === against && r.records === row.records)
}

function bars (scenarios: readonly ScenarioEntry[]): Bar[] {
  const list: Bar[] = []
  for (const s of scenarios) {
    const rows = s.rows ?? []
    for (const row of rows) {
      if (row.system !== 'kadmium' || row.ratio === undefined || !(row.ratio.median > 0) || !Number.isFinite(row.ratio.median)) continue
      const other = comparator(rows, row)
      const against = other?.system === 'orbitdb' ? 'orbitdb' : 'baseline'
      const advantage = row.better === 'higher' ? row.ratio.median : 1 / row.ratio.median
      list.push({ label: `${s.name}: ${row.case} (${fmt(row.records, 0)})`, advantage, against })
    }
  }
  return list
}

function svg (list: readonly Bar[]): string {
  const width = 1000
  const labelWidth = 560
  const rowHeight = 18
  const top = 56
  const bottom = 40
  const left = labelWidth + 10
  const right = width - 60
  const height = top + Math.max(1, list.length) * rowHeight + bottom
  const lo = Math.min(0.1, ...list.map((b) => b.advantage))
  const hi = Math.max(10, ...list.map((b) => b.advantage))
  const min = Math.log10(Math.max(1e-3, lo)) - 0.1
  const max = Math.log10(Math.min(1e4, hi)) + 0.1
  const x = (v: number): number => left + ((Math.log10(Math.min(1e4, Math.max(1e-3, v))) - min) / (max - min)) * (right - left)
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="11">`)
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  parts.push(`<text x="10" y="20" font-size="15" font-weight="600">How Kadmium compares (${xml(results.environment.date.slice(0, 10))}, node ${xml(results.environment.node)}, ${xml(results.environment.cpu)} × ${results.environment.cores})</text>`)
  parts.push('<text x="10" y="38" fill="#555">Times better (right of 1×) or worse (left) than the raw-library baseline or OrbitDB 4, median of paired rounds; log scale.</text>')
  for (let p = Math.ceil(min); p <= Math.floor(max); p++) {
    const tx = x(10 ** p)
    parts.push(`<line x1="${tx.toFixed(1)}" y1="${top - 6}" x2="${tx.toFixed(1)}" y2="${height - bottom + 4}" stroke="${p === 0 ? '#333' : '#ddd'}" stroke-width="${p === 0 ? 1.2 : 1}"/>`)
    parts.push(`<text x="${tx.toFixed(1)}" y="${height - bottom + 18}" text-anchor="middle" fill="#333">${p >= 0 ? fmt(10 ** p, 0) : String(10 ** p)}×</text>`)
  }
  list.forEach((b, i) => {
    const y = top + i * rowHeight
    const x1 = x(1)
    const x2 = x(b.advantage)
    const good = b.advantage >= 1
    const fill = b.against === 'orbitdb' ? (good ? '#2b6cb0' : '#c05621') : (good ? '#2f855a' : '#c53030')
    parts.push(`<text x="${labelWidth}" y="${y + 12}" text-anchor="end" fill="#222">${xml(b.label.length > 95 ? b.label.slice(0, 94) + '…' : b.label)}</text>`)
    parts.push(`<rect x="${Math.min(x1, x2).toFixed(1)}" y="${y + 3}" width="${Math.max(1, Math.abs(x2 - x1)).toFixed(1)}" height="${rowHeight - 6}" fill="${fill}"/>`)
    parts.push(`<text x="${(good ? x2 + 4 : x2 - 4).toFixed(1)}" y="${y + 12}" text-anchor="${good ? 'start' : 'end'}" fill="#222">${xml(fmt(b.advantage, b.advantage >= 100 ? 0 : 2))}×</text>`)
  })
  const ly = height - 10
  parts.push(`<rect x="10" y="${ly - 9}" width="10" height="10" fill="#2f855a"/><text x="24" y="${ly}">vs raw-library baseline</text>`)
  parts.push(`<rect x="170" y="${ly - 9}" width="10" height="10" fill="#2b6cb0"/><text x="184" y="${ly}">vs OrbitDB 4</text>`)
  parts.push(`<text x="300" y="${ly}" fill="#555">red / orange: Kadmium behind</text>`)
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}

/** The scenario the page leads with: what a fresh app process meets first. */
const LEAD = 'cold-join'

/**
 * Labels of scenarios whose figures come from a warm process, so that
 * they are not read as what a user meets first (that is {@link LEAD}).
 */
const WARM: Readonly<Record<string, string>> = {
  'orbitdb-replicate': '**Warm figures** (one long-running process, repeated rounds). What a fresh app process meets is `cold-join`, at the top of this page.'
}

/** The scenarios in page order: {@link LEAD} first, the others as the results list them. */
function ordered (scenarios: readonly ScenarioEntry[]): ScenarioEntry[] {
  return [...scenarios.filter((s) => s.name === LEAD), ...scenarios.filter((s) => s.name !== LEAD)]
}

/** A scenario's description, table, targets and notes (its heading aside). */
function section (s: ScenarioEntry): string[] {
  const out: string[] = []
  const label = WARM[s.name]
  if (label !== undefined) out.push(label, '')
  out.push(`${s.description}.${s.run === undefined ? '' : ` Run: ${runLabel(s.run)}, ${fmt(s.durationMs / 1000, 0)} s.`}`, '')
  if (s.error !== undefined) {
    out.push(`**Failed:** ${cell(s.error)}`, '')
    return out
  }
  out.push('| case | records | system | median | unit | min | max | K/B |', '| --- | ---: | --- | ---: | --- | ---: | ---: | ---: |')
  for (const row of s.rows ?? []) {
    const ratio = row.ratio === undefined ? '' : `${fmt(row.ratio.median, 2)}×`
    out.push(`| ${cell(row.case)} | ${fmt(row.records, 0)} | ${row.system} | ${fmt(row.summary.median)} | ${row.unit} | ${fmt(row.summary.min)} | ${fmt(row.summary.max)} | ${ratio} |`)
  }
  out.push('')
  for (const t of s.targets ?? []) out.push(`- ${verdict(t)} ${cell(t.target)}: ${cell(t.actual)}`)
  for (const note of s.notes ?? []) out.push(`- ${note}`)
  out.push('')
  return out
}

function markdown (): string {
  const env = results.environment
  const scenarios = ordered(results.scenarios)
  const lead = scenarios.find((s) => s.name === LEAD)
  const out: string[] = []
  out.push('# Benchmarks', '')
  out.push(`Generated by \`npm run bench:report\` from \`${relative(ROOT, input)}\`; do not edit by hand.`)
  out.push('Run the benchmarks with `npm run bench` (all scenarios) or `npm run bench -- <name> ...` (some), which write `bench/results/latest.json`, then `npm run bench:report`.')
  out.push('`npm run bench -- --quick` runs a small version of each (in about a minute: at least 3 rounds, 1,000 records (50 for OrbitDB and for cold join, whose OrbitDB joiner runs once), fanout and DHT on 5 and 6 peers, none of the 10,000- and 100,000-record sizes) and writes `bench/results/quick.json` instead, from which this page is never written. `npm test` ends with the quick run (`npm run bench:check`): every scenario must run and report numbers; the numbers are not checked.', '')
  out.push(`Machine: ${env.cpu} × ${env.cores}, ${fmt(env.totalMemoryMB / 1024, 1)} GB, ${env.platform}; Node ${env.node} (V8 ${env.v8}).`)
  out.push(`Last run: ${env.date}${results.quick ? ' (quick)' : ''}, commit ${env.git.commit?.slice(0, 7) ?? 'unknown'}${env.git.dirty === true ? ' (dirty)' : ''}, load average ${env.loadAverage.join(' ')} at the start. The machine is shared and noisy: compare ratios (paired by round) rather than absolute numbers.`)
  out.push('Scenarios not run in the last run keep their previous results; each table says which run it comes from.', '')
  if (results.kadmiumStorage !== undefined) out.push(`Kadmium storage: ${results.kadmiumStorage}.`)
  if (results.baseline !== undefined) out.push(`Baselines: ${results.baseline}. OrbitDB: \`@orbitdb/core\` 4 on Helia 6, documents databases, LevelDB storage, TCP on 127.0.0.1 (\`bench/lib/orbitdb.ts\`).`)
  out.push('')
  out.push('## What a fresh process meets: cold join', '')
  out.push('What a user meets first: a new app process starts its node, opens a shared database by its address and shows every record. Each round runs in a fresh OS process; the other network scenarios measure peers inside one long-running, warm process. K/B here: Kadmium ÷ the raw limit on the "node started" rows, Kadmium ÷ OrbitDB 4 on the "process start" rows, paired by round.', '')
  if (lead === undefined) out.push(`Not in \`${relative(ROOT, input)}\` yet: \`npm run bench -- ${LEAD}\`.`, '')
  else out.push(...section(lead))
  out.push('![How Kadmium compares](benchmarks.svg)', '')
  out.push('## Targets', '')
  out.push('| verdict | target | measured | scenario | run |', '| --- | --- | --- | --- | --- |')
  for (const s of scenarios) {
    for (const t of s.targets ?? []) out.push(`| ${verdict(t)} | ${cell(t.target)} | ${cell(t.actual)} | ${s.name} | ${cell(runLabel(s.run))} |`)
  }
  out.push('', 'A miss does not fail the run. "K/B" in the tables is Kadmium ÷ the comparator row (the raw-library baseline; OrbitDB 4 in the `orbitdb-*` scenarios and on cold join\'s "process start → all readable" rows), paired by round.', '')
  for (const s of scenarios) {
    if (s.name === LEAD) continue
    out.push(`## ${s.name}`, '', ...section(s))
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n')
}

const chart = bars(ordered(results.scenarios))
writeFileSync(resolve(DOCS, 'benchmarks.svg'), svg(chart))
writeFileSync(resolve(DOCS, 'benchmarks.md'), markdown())
console.log(`wrote docs/benchmarks.md and docs/benchmarks.svg (${chart.length} bars) from ${relative(process.cwd(), input)}`)
