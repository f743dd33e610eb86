/**
 * `npm run soak -- --minutes 10 --peers 20 [--rate 1000] [--flood 100] [--seed S] [--churn 30] [--down 10] [--out docs/reliability-soak]`:
 * one soak run (see soak.ts). Prints progress and a summary; writes the
 * results as JSON (`<out>.json`) and a chart (`<out>.svg`); exits 1 if
 * the replicas did not converge or a peer's memory or backlog grew.
 * @module
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { freshSeed } from '../chaos/random.ts'
import { chart } from './chart.ts'
import { runSoak, samplePeriod, SOAK_DEFAULTS } from './soak.ts'
import { summary } from './summary.ts'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    peers: { type: 'string', default: '20' },
    rate: { type: 'string', default: String(SOAK_DEFAULTS.rate) },
    flood: { type: 'string', default: String(SOAK_DEFAULTS.flood) },
    seed: { type: 'string' },
    churn: { type: 'string', default: String(SOAK_DEFAULTS.churnEverySec) },
    down: { type: 'string', default: String(SOAK_DEFAULTS.downSec) },
    out: { type: 'string', default: 'docs/reliability-soak' },
    help: { type: 'boolean', default: false }
  }
})
if (values.help) {
  console.log('npm run soak -- [--minutes M (10)] [--peers N (20)] [--rate writes/s in all (1000)] [--flood garbage/s (100, 0: none)] [--seed S] [--churn every s (30, 0: none)] [--down s (10)] [--out path without extension (docs/reliability-soak)]')
  process.exit(0)
}
const minutes = Number(values.minutes)
const peers = Number(values.peers)
const rate = Number(values.rate)
const flood = Number(values.flood)
const seed = values.seed === undefined ? freshSeed() : Number(values.seed)
const churnEverySec = Number(values.churn)
const downSec = Number(values.down)
if (!(minutes > 0) || !Number.isSafeInteger(peers) || peers < 2 || !(rate > 0) || !(flood >= 0) || !Number.isSafeInteger(seed) || !(churnEverySec >= 0) || !(downSec > 0)) {
  console.error('--minutes and --rate are positive, --peers a whole number of at least 2, --flood, --churn at least 0, --down positive, --seed a whole number')
  process.exit(2)
}
const report = await runSoak({
  minutes, peers, rate, flood, seed, churnEverySec, downSec,
  sampleMs: samplePeriod(minutes),
  quietTimeoutMs: SOAK_DEFAULTS.quietTimeoutMs,
  log: (line) => { console.log(line) }
})
const out = resolve(values.out)
// One line per interval, per trend and per sample row (flat arrays and objects on one line): readable, and a fraction of the size of one value per line.
const json = JSON.stringify(report, (_key, value: unknown) => typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value, 1)
  .replace(/\[\n\s*([^[\]{}]*?)\n\s*\]/g, (_all, inner: string) => `[${inner.replace(/\n\s*/g, ' ')}]`)
  .replace(/\{\n\s*([^[\]{}]*?)\n\s*\}/g, (_all, inner: string) => `{ ${inner.replace(/\n\s*/g, ' ')} }`)
writeFileSync(`${out}.json`, json + '\n')
writeFileSync(`${out}.svg`, chart(report))
console.log(summary(report))
console.log(`wrote ${out}.json and ${out}.svg`)
for (const problem of report.problems) console.log(`problem: ${problem}`)
process.exit(report.problems.length === 0 ? 0 : 1)
