/**
 * `npm run chaos -- --seed S --peers N --ops K [--mode memory|processes] [--restricted]`:
 * one seeded chaos run (see chaos.ts). Prints the seed first, progress,
 * and the report; exits 1 if a check failed.
 * @module
 */
import { parseArgs } from 'node:util'
import { runChaos } from './chaos.ts'
import { freshSeed } from './random.ts'

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    peers: { type: 'string', default: '5' },
    ops: { type: 'string', default: '300' },
    mode: { type: 'string', default: 'memory' },
    restricted: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})
if (values.help) {
  console.log('npm run chaos -- [--seed S] [--peers N (5)] [--ops K (300)] [--mode memory|processes] [--restricted]')
  process.exit(0)
}
const seed = values.seed === undefined ? freshSeed() : Number(values.seed)
const peers = Number(values.peers)
const ops = Number(values.ops)
const mode = values.mode
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(peers) || peers < 2 || !Number.isSafeInteger(ops) || ops < 1 || (mode !== 'memory' && mode !== 'processes')) {
  console.error('--seed is a whole number, --peers at least 2, --ops at least 1, --mode memory or processes')
  process.exit(2)
}
console.log(`seed ${seed}`)
const report = await runChaos({ seed, peers, ops, mode, restricted: values.restricted, log: (line) => { console.log(line) } })
console.log(JSON.stringify({ ...report, problems: report.problems.slice(0, 20) }, null, 2))
process.exit(report.problems.length === 0 ? 0 : 1)
