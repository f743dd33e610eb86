/**
 * `npm run scale -- --peers N [--seed S] [--out FILE] [--loopback] [--quick]`:
 * one scale run (see scale.ts). Prints progress, a summary, the per-unit
 * costs and the projection to 10,000 and 1,000,000 peers, and writes the
 * whole report (with the per-unit costs) as JSON (default
 * `bench/results/scale.json`). Peers run in
 * network namespaces (root, or unprivileged user namespaces); where those
 * cannot be made, on loopback, which the output says.
 * @module
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { projectionLines } from './projection-table.ts'
import { availableMemory, runScale, type ScaleOptions } from './scale.ts'
import { summaryLines } from './summary.ts'
import { unitCosts } from './units.ts'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: join(import.meta.dirname, '..', '..', 'bench', 'results', 'scale.json') },
    loopback: { type: 'boolean', default: false },
    'peer-node-options': { type: 'string', default: '' },
    'peer-mib': { type: 'string', default: '220' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})
if (values.help) {
  console.log([
    'npm run scale -- [--peers N (20)] [--seed S (1)] [--out FILE (bench/results/scale.json)] [--loopback]',
    '  [--quick: fewer writes, lookups and rounds, short idle windows]',
    '  [--peer-node-options="--max-semi-space-size=2": Node.js options of every peer\'s process]',
    '  [--peer-mib M (220): memory a peer is expected to take, for the check that the run fits]'
  ].join('\n'))
  process.exit(0)
}
const peers = Number(values.peers)
const seed = Number(values.seed)
if (!Number.isSafeInteger(peers) || peers < 2 || !Number.isSafeInteger(seed) || !(Number(values['peer-mib']) > 0)) {
  console.error('--peers is a whole number of at least 2, --seed a whole number, --peer-mib a number of MiB')
  process.exit(2)
}
// About what a peer's process holds (its private memory, and its share of what the processes share): the run
// starts only with room for every peer and 2 GiB to spare (the machine is shared).
const PER_PEER_BYTES = Number(values['peer-mib']) * 2 ** 20
const available = availableMemory()
if (available !== undefined && available < peers * PER_PEER_BYTES + 2 * 2 ** 30) {
  const fits = Math.max(0, Math.floor((available - 2 * 2 ** 30) / PER_PEER_BYTES))
  console.error(`${peers} peers need about ${Math.round(peers * PER_PEER_BYTES / 2 ** 30)} GiB and 2 GiB to spare; ${Math.round(available / 2 ** 30)} GiB are available: about ${fits} peers fit now`)
  process.exit(2)
}
const quick: Partial<ScaleOptions> = values.quick
  ? { wideWrites: 5, burstWrites: 8, burstBaselineMs: 3000, groupWrites: 2, durableWrites: 2, lookups: 3, lookupPeers: 4, newcomers: 1, churnRounds: 1, churnWrites: 3, idleMs: 5000, settleMs: 0, emptyMs: 3000 }
  : {}
const peerNodeOptions = values['peer-node-options'].split(/\s+/).filter((a) => a.length > 0)
const report = await runScale({ peers, seed, loopback: values.loopback, peerNodeOptions, ...quick, log: (line) => { console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`) } })
const units = unitCosts(report)
await writeFile(values.out, `${JSON.stringify({ ...report, units }, null, 2)}\n`)
console.log(summaryLines(report).join('\n'))
console.log(`\nper-unit costs: ${JSON.stringify(units)}\n`)
console.log(projectionLines(units).join('\n'))
console.log(`report: ${values.out}`)
process.exit(report.problems.length === 0 ? 0 : 1)
