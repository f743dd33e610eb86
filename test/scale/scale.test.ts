/**
 * A small scale run, as CI can afford it: 8 peers, each in its own
 * process and network namespace (loopback where namespaces cannot be
 * made: the test says which), on the public profile. Records written are
 * found in the DHT, gossip reaches every subscriber, a newcomer opens the
 * database by address and gets every record, and every measurement the
 * docs quote comes out as a number. No churn here: `npm run scale` has it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { projectionLines } from './projection-table.ts'
import { runScale } from './scale.ts'
import { summaryLines } from './summary.ts'
import { unitCosts } from './units.ts'

test('8 peers in their own namespaces: records found, gossip delivered to all, every figure measured', { timeout: 300_000 }, async () => {
  const lines: string[] = []
  const report = await runScale({
    peers: 8,
    groupSize: 4,
    wideWrites: 4,
    groupWrites: 2,
    gapMs: 200,
    burstWrites: 4,
    burstBaselineMs: 1000,
    durableWrites: 1,
    lookupPeers: 3,
    lookups: 2,
    newcomers: 1,
    churnRounds: 0,
    idleMs: 1000,
    settleMs: 0,
    emptyMs: 0,
    log: (line) => { lines.push(line) }
  })
  const context = `${lines.join('\n')}\n${summaryLines(report).join('\n')}`
  console.log(`scale: ${report.network.kind}${report.network.fallback === '' ? '' : ` (${report.network.fallback})`}`)
  assert.deepEqual(report.problems, [], context)

  // Gossip reached every subscriber of every database.
  for (const round of [report.gossip.wide, report.gossip.groups]) {
    assert.ok(round.eventually.expected > 0, context)
    assert.equal(round.eventually.delivered, round.eventually.expected, context)
    assert.equal(round.delivery.toAll.count, round.delivery.complete, context)
  }
  assert.equal(report.gossip.wide.delivery.expected, 4 * 7, 'each wide write goes to the 7 other peers')

  // Every record is in the DHT, held by its closest peers, and found by peers that do not hold it.
  const { coverage } = report.dht.holdings
  assert.ok(coverage.keys > 0 && coverage.lost === 0 && coverage.ofClosest.min >= 1, context)
  assert.equal(report.dht.get.failed, 0, context)
  assert.ok(report.dht.get.count > 0 && report.dht.get.firstValueMs.count === report.dht.get.count, context)
  assert.equal(report.durable.ms.count, 1, context)

  // A newcomer opened the wide database by address and got every record.
  assert.equal(report.newcomers.complete, 1, context)

  // The measurements themselves.
  assert.equal(report.start.nodeMs.count, 8)
  assert.ok(report.dht.closest.count === 6 && report.dht.closest.depth.mean >= 1 && report.dht.closest.queried.mean >= 1, context)
  for (const stretch of [report.idle.bare, report.idle.wide, report.idle.groups]) {
    assert.equal(stretch.costs.peers, 8)
    assert.ok(stretch.costs.cpuSeconds > 0)
  }
  if (report.network.kind === 'namespaces') {
    // (A second at rest with no database may carry no byte at all: only that it is measured is checked there.)
    assert.ok((report.gossip.wide.costs.bytesSent ?? 0) > 0 && report.idle.bare.costs.bytesPerSecond !== undefined,
      `traffic is counted on each peer's interface: ${JSON.stringify({ gossip: report.gossip.wide.costs, idle: report.idle.bare.costs })}`)
  }
  assert.ok(report.end.memory.rss.min > 0 && report.end.connections.min > 0)
  const units = unitCosts(report)
  for (const [name, value] of Object.entries(units)) {
    const numbers = typeof value === 'number' ? [value] : Object.values(value as Record<string, number>)
    assert.ok(numbers.every(Number.isFinite), `${name} is measured: ${JSON.stringify(value)}`)
  }
  assert.match(projectionLines(units).join('\n'), /1,000,000 peers/)
})
