/**
 * The projection's arithmetic on made-up per-unit costs: every formula
 * docs/scaling.md states, checked by hand.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { K, limits, MAX_CONNECTIONS, modelHops, project, PROVIDER_ENTRY_BYTES, type UnitCosts } from './projection.ts'
import { bytes, projectionLines } from './projection-table.ts'

const unit: UnitCosts = {
  n: 100,
  hops: 2,
  queried: 30,
  bytesPerQuery: 1000,
  cpuPerQuery: 0.001,
  headBytes: 400,
  keysPerRecord: 1.5,
  writeBytes: { fixed: 50_000, perSubscriber: 3000 },
  writeCpu: { fixed: 0.01, perSubscriber: 0.002 },
  bare: { bytesPerSecond: 1000, cpuPercent: 1 },
  databaseIdle: { fixed: 500, perConnectedPeer: 100 },
  memoryBytes: 100e6
}
const close = (actual: number, expected: number): void => { assert.ok(Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${actual} ≈ ${expected}`) }

describe('modelHops', () => {
  test('one hop up to k peers, then log2(k) bits a hop', () => {
    assert.equal(modelHops(10), 1)
    assert.equal(modelHops(K), 1)
    close(modelHops(K * K), 2)
    close(modelHops(K ** 3), 3)
  })
})

describe('project', () => {
  const workload = { databasesPerPeer: 4, subscribers: 10, recordsPerDatabase: 1000, writesPerPeerPerDay: 80 }

  test('at the measured size it gives back what was measured', () => {
    const p = project(unit, workload, 100)
    close(p.hops, 2)
    close(p.queried, 30)
    close(p.lookupBytes, 30_000)
  })

  test('hops and peers queried grow as the model, calibrated', () => {
    const p = project(unit, workload, 1_000_000)
    close(p.hops, 2 * modelHops(1_000_000) / modelHops(100))
    close(p.queried, 30 * p.hops / 2)
    close(p.lookupBytes, p.queried * 1000)
  })

  test('DHT values per peer: d·r·keys·k/s, each a head set of min(s, 16) heads', () => {
    const p = project(unit, workload, 10_000)
    close(p.storedValues, 4 * 1000 * 1.5 * 20 / 10)
    close(p.storedBytes, p.storedValues * 10 * 400)
    const wide = project(unit, { ...workload, subscribers: 1000 }, 10_000)
    close(wide.storedBytes, wide.storedValues * 16 * 400)
  })

  test('puts a day: every record held, every 22 h, and each write; DHT traffic counts a put\'s bytes sent and received', () => {
    const p = project(unit, workload, 10_000)
    close(p.putsPerDay, 4 * 1000 * 1.5 * 24 / 22 + 80 * 1.5)
    close(p.dhtBytesPerSecond, 2 * p.putsPerDay * (p.lookupBytes + 2 * K * 400) / 86_400)
    close(p.discoveryBytesPerSecond, 4 * 2 * p.lookupBytes / 60)
  })

  test('gossip: a peer\'s writes spread over its databases, each write reaching every subscriber', () => {
    const p = project(unit, workload, 10_000)
    close(p.gossip.writesPerSecond, 10 * 80 / 4 / 86_400)
    close(p.gossip.networkBytesPerWrite, (50_000 + 10 * 3000) / 2)
    close(p.gossip.bytesPerSecond, 4 * p.gossip.writesPerSecond * 3000 + 80 / 86_400 * 50_000)
    close(p.gossip.cpuPercent, 100 * (4 * p.gossip.writesPerSecond * 0.002 + 80 / 86_400 * 0.01))
    close(p.gossip.meshHops, Math.log(10) / Math.log(8))
  })

  test('a database every peer has open: subscribers are the peers; connections and the address\'s peers', () => {
    const everyone = { databasesPerPeer: 1, subscribers: Infinity, recordsPerDatabase: 10_000, writesPerPeerPerDay: 10 }
    const p = project(unit, everyone, 10_000)
    assert.equal(p.connections, MAX_CONNECTIONS)
    assert.equal(p.hotspot.providers, 10_000)
    close(p.hotspot.requestsPerSecond, 2 * 10_000 / 60)
    close(p.hotspot.answerBytes, 10_000 * PROVIDER_ENTRY_BYTES)
    close(p.hotspot.bytesPerSecond, 10_000 / 60 * 10_000 * PROVIDER_ENTRY_BYTES)
    close(p.hotspot.cpuPercent, 100 * p.hotspot.requestsPerSecond * 0.001)
    close(p.idleBytesPerSecond, 1000 + 500 + MAX_CONNECTIONS * 100)
    close(p.bytesPerSecond, p.dhtBytesPerSecond + p.discoveryBytesPerSecond + p.gossip.bytesPerSecond + p.idleBytesPerSecond)
  })
})

describe('limits', () => {
  test('each limit at the subscribers where it is met, nearest first', () => {
    const found = limits(unit, 10)
    assert.deepEqual(found.map((l) => l.subscribers), [
      MAX_CONNECTIONS + 1,
      Math.floor(86_400 / (10 * 0.002)),
      Math.floor(60 / (2 * 0.001)),
      Math.floor(4 * 1024 * 1024 / PROVIDER_ENTRY_BYTES)
    ].sort((a, b) => a - b))
  })
})

describe('the projection table', () => {
  test('bytes in binary units; a table per workload at the measured size, 10,000 and 1,000,000 peers, then the limits', () => {
    assert.deepEqual([bytes(512), bytes(1536), bytes(3 * 2 ** 20)], ['512 B', '1.5 KiB', '3.0 MiB'])
    const text = projectionLines(unit).join('\n')
    assert.match(text, /\| per peer unless said \| 100 peers \| 10,000 peers \| 1,000,000 peers \|/)
    assert.equal(text.match(/\| lookup hops/g)?.length, 2)
    assert.match(text, /at 301 subscribers: more peers of the database than libp2p keeps connections to/)
  })
})
