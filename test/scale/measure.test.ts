/**
 * The scale run's arithmetic: percentiles, hops from a lookup's events,
 * the k closest peers and coverage, gossip delivery, and costs from two
 * usage readings.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { beyondIdle, costs, restRate, spends, writeCost, type PeerSpend } from './costs.ts'
import { closestPeers, coverage, delivery, kadId, lookupHops, summarize, type DhtPeer } from './measure.ts'
import type { Usage } from './scale-node.ts'

describe('summarize', () => {
  test('nearest-rank percentiles, mean, min and max; zeros for nothing', () => {
    const s = summarize([5, 1, 4, 2, 3, 6, 7, 8, 9, 10])
    assert.deepEqual([s.count, s.mean, s.p50, s.p90, s.p99, s.min, s.max], [10, 5.5, 5, 9, 10, 1, 10])
    assert.deepEqual(summarize([]), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, min: 0, max: 0 })
  })
})

describe('lookupHops', () => {
  test('a peer is one hop past the first peer that named it; peers from the routing table are hop 1', () => {
    const hops = lookupHops([
      { kind: 'send', to: 'a' }, { kind: 'send', to: 'b' },
      { kind: 'response', from: 'a', closer: ['c', 'd'], value: false },
      { kind: 'response', from: 'b', closer: ['c'], value: false }, // c was named by a first
      { kind: 'send', to: 'c' }, { kind: 'send', to: 'd' },
      { kind: 'response', from: 'c', closer: ['e'], value: false },
      { kind: 'error', from: 'd' },
      { kind: 'send', to: 'e' },
      { kind: 'response', from: 'e', closer: [], value: true }
    ])
    assert.deepEqual(hops, { depth: 3, valueHop: 3, queried: 5, answered: 4 })
  })
  test('a lookup that only asked its own routing table is one hop; none asked: zero', () => {
    assert.deepEqual(lookupHops([{ kind: 'send', to: 'a' }, { kind: 'response', from: 'a', closer: [], value: true }]), { depth: 1, valueHop: 1, queried: 1, answered: 1 })
    assert.deepEqual(lookupHops([]), { depth: 0, valueHop: undefined, queried: 0, answered: 0 })
  })
})

describe('closest peers and coverage', () => {
  const peers: DhtPeer[] = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'].map((id) => ({ id, kadId: kadId(Buffer.from(id)) }))
  const key = Buffer.from('a record').toString('hex')
  const target = kadId(Buffer.from(key, 'hex'))
  const xor = (a: Buffer): bigint => BigInt(`0x${Buffer.from(a.map((b, i) => b ^ (target[i] as number))).toString('hex')}`)

  test('closestPeers orders by XOR distance to the key', () => {
    const closest = closestPeers(target, peers, 3)
    const expected = [...peers].sort((a, b) => (xor(a.kadId) < xor(b.kadId) ? -1 : 1)).slice(0, 3)
    assert.deepEqual(closest.map((p) => p.id), expected.map((p) => p.id))
  })

  test('coverage counts holders among the k closest, keys every closest peer holds, and keys no peer holds', () => {
    const [first, second] = closestPeers(target, peers, 2) as [DhtPeer, DhtPeer]
    const far = closestPeers(target, peers, 6)[5] as DhtPeer
    const held = new Map([[key, new Set([first.id, far.id])], [Buffer.from('other').toString('hex'), new Set(peers.map((p) => p.id))]])
    const c = coverage(held, peers, 2, [Buffer.from('lost').toString('hex')])
    assert.equal(c.keys, 3)
    assert.equal(c.lost, 1)
    assert.equal(c.complete, 1) // "other": held by all, so by both closest
    assert.deepEqual([c.ofClosest.min, c.ofClosest.max], [0, 2])
    assert.deepEqual([c.holders.min, c.holders.max], [0, 6])
    assert.ok(second.id !== first.id)
  })
})

describe('delivery', () => {
  test('pairs delivered within the window, latency to each and to all, writes complete', () => {
    const writes = [{ id: 'w1', at: 1000, to: ['a', 'b'] }, { id: 'w2', at: 2000, to: ['a', 'b'] }]
    const arrivals = new Map([['a', new Map([['w1', 1010], ['w2', 2050]])], ['b', new Map([['w1', 1030], ['w2', 9000]])]])
    const d = delivery(writes, arrivals, 5000)
    assert.deepEqual([d.writes, d.expected, d.delivered, d.ratio, d.complete], [2, 4, 3, 0.75, 1])
    assert.deepEqual([d.latency.min, d.latency.max, d.toAll.max], [10, 50, 30])
    assert.equal(delivery(writes, arrivals, Infinity).complete, 2)
  })
})

describe('costs', () => {
  const usage = (at: number, cpuMicros: number, tx: number, rx: number): Usage => ({
    rss: 0, privateBytes: 0, heapUsed: 0, cpuMicros, net: { txBytes: tx, rxBytes: rx, txPackets: 0, rxPackets: 0 }, connections: 0, opened: 0, closed: 0, routingTable: 0, loopDelayP99: 0, at
  })
  test('per peer CPU % and traffic, totals; peers read once are left out', () => {
    const before = new Map([['a', usage(0, 0, 0, 0)], ['b', usage(0, 1e6, 100, 100)]])
    const after = new Map([['a', usage(10_000, 1e6, 5000, 3000)], ['b', usage(10_000, 3e6, 1100, 2100)], ['c', usage(10_000, 9e9, 9, 9)]])
    const c = costs(before, after)
    assert.deepEqual([c.peers, c.seconds, c.cpuSeconds, c.bytesSent], [2, 10, 3, 6000])
    assert.deepEqual([c.cpuPercent.min, c.cpuPercent.max], [10, 20])
    assert.deepEqual([c.bytesPerSecond?.min, c.bytesPerSecond?.max], [300, 800])
  })
  test('beyondIdle takes off what the same peers spend at rest over as long', () => {
    const idle = costs(new Map([['a', usage(0, 0, 0, 0)]]), new Map([['a', usage(10_000, 1e6, 1000, 0)]]))
    const work = costs(new Map([['a', usage(0, 0, 0, 0)]]), new Map([['a', usage(5000, 2e6, 9000, 0)]]))
    assert.deepEqual(beyondIdle(work, idle), { cpuSeconds: 1.5, bytesSent: 8500 })
  })
  test('writeCost: the writers per write, each other peer per write it received, beyond the rate at rest', () => {
    const before = new Map([['w', usage(0, 0, 0, 0)], ['a', usage(0, 0, 0, 0)], ['b', usage(0, 0, 0, 0)], ['idle', usage(0, 0, 0, 0)]])
    const after = new Map([['w', usage(10_000, 3e6, 60_000, 20_000)], ['a', usage(10_000, 2e6, 15_000, 25_000)], ['b', usage(10_000, 4e6, 30_000, 30_000)], ['idle', usage(10_000, 1e6, 500, 500)]])
    const rest = restRate(spends(new Map([['r', usage(0, 0, 0, 0)]]), new Map([['r', usage(10_000, 1e6, 1000, 0)]])).get('r') as PeerSpend)
    assert.deepEqual(rest, { cpuPerSecond: 0.1, bytesPerSecond: 100 })
    const c = writeCost(spends(before, after), new Set(['w']), 4, (peer) => peer === 'idle' ? 0 : 4, () => rest)
    assert.deepEqual(c.writer, { cpuSeconds: 0.5, bytes: 19_750 })
    assert.deepEqual([c.receiver.cpuSeconds.min, c.receiver.cpuSeconds.max], [0.25, 0.75])
    assert.deepEqual([c.receiver.bytes?.min, c.receiver.bytes?.max], [9750, 14_750])
    assert.equal(c.receiver.cpuSeconds.count, 2, 'a peer that received nothing is left out')
  })
  test('on loopback (no interface of its own) there is no traffic to count', () => {
    const a = { ...usage(0, 0, 0, 0), net: undefined }
    const c = costs(new Map([['a', a]]), new Map([['a', { ...a, at: 1000 }]]))
    assert.equal(c.bytesSent, undefined)
    assert.equal(c.bytesPerSecond, undefined)
  })
})
