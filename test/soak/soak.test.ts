/**
 * The soak run in small (5 peers for 30 s, with churn and a hostile peer):
 * it runs, measures and converges; and its growth check, on series made up
 * for it: a steady climb is found, a flat or sawtooth series is not.
 * `npm run soak` is the real thing (see docs/reliability.md).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { GROWTH_LIMITS } from './analyze.ts'
import { histogram, quantile, record } from './histogram.ts'
import { runSoak } from './soak.ts'
import { growth, theilSen, type Point } from './trend.ts'
import { freshSeed } from '../chaos/random.ts'

/** `minutes` of samples every 5 s, from `f(seconds)`. */
function series (minutes: number, f: (s: number) => number): Point[] {
  return Array.from({ length: minutes * 12 + 1 }, (_, i) => ({ t: i * 5000, v: f(i * 5) }))
}

describe('the growth check', () => {
  const rss = GROWTH_LIMITS.rss
  test('Theil–Sen finds the slope of a line, and is not thrown by a few wild points', () => {
    const line = series(5, (s) => 100 + s / 10)
    assert.ok(Math.abs(theilSen(line).slope * 1000 - 0.1) < 1e-9)
    const wild = line.map((p, i) => i % 10 === 3 ? { ...p, v: p.v + 200 } : p)
    assert.ok(Math.abs(theilSen(wild).slope * 1000 - 0.1) < 0.01)
  })

  test('a steady climb is growth: 200 MB gaining 30 MB in 5 minutes, with noise', () => {
    const g = growth(series(5, (s) => 200 + s * 0.1 + 4 * Math.sin(s)), rss)
    assert.equal(g.judged, true)
    assert.equal(g.growing, true, JSON.stringify(g))
    assert.ok(g.per10Min > 55 && g.per10Min < 65, `${g.per10Min} MB per 10 min`)
  })

  test('a flat series is not growth, nor a GC sawtooth, nor a rise smaller than the limits', () => {
    assert.equal(growth(series(5, () => 200), rss).growing, false)
    assert.equal(growth(series(5, (s) => 200 + (s % 40)), rss).growing, false, 'a sawtooth of 40 MB every 40 s')
    assert.equal(growth(series(5, (s) => 200 + s * 0.01 + 2 * Math.sin(s)), rss).growing, false, '3 MB in 5 minutes: under 16 MB and 10% per 10 minutes')
    assert.equal(growth(series(5, (s) => 2000 + s * 0.05), rss).growing, false, '30 MB per 10 minutes of 2 GB: under 10%')
  })

  test('a climb lost in its noise is not growth', () => {
    // 60 MB per 10 minutes (over the limits), but only 12 MB in the 2 minutes judged, under a scatter of ±60 MB.
    const noisy = growth(series(2, (s) => 200 + s / 10 + (s % 10 === 0 ? 60 : -60)), rss)
    assert.ok(noisy.judged && noisy.per10Min > rss.absolute && noisy.per10Min > rss.relative * noisy.level, JSON.stringify(noisy))
    assert.equal(noisy.growing, false)
  })

  test('too few points or too short a span is not judged', () => {
    assert.equal(growth(series(1, (s) => 200 + s * 10), rss).judged, false)
    assert.equal(growth(series(5, (s) => s).slice(0, 5), rss).judged, false)
  })

  test('a backlog that keeps climbing is growth; one that stays near its level is not', () => {
    const limits = GROWTH_LIMITS.backlog
    assert.equal(growth(series(5, (s) => 20 + s), limits).growing, true)
    assert.equal(growth(series(5, (s) => 20 + (s % 15)), limits).growing, false)
  })
})

describe('propagation histograms', () => {
  test('percentiles land within a bucket of the true ones', () => {
    const h = histogram()
    for (let ms = 1; ms <= 1000; ms++) record(h, ms)
    for (const [p, want] of [[50, 500], [95, 950], [99, 990]] as const) {
      const got = quantile(h, p)
      assert.ok(Math.abs(got - want) / want < 0.13, `p${p}: ${got} for ${want}`)
    }
    assert.ok(Number.isNaN(quantile(histogram(), 50)))
  })
})

describe('a small soak run', () => {
  const seed = freshSeed()
  test(`5 peers for 30 s with churn and a hostile peer: writes arrive, garbage is refused, replicas converge (seed ${seed})`, { timeout: 240_000 }, async () => {
    const lines: string[] = []
    const report = await runSoak({
      minutes: 0.5, peers: 5, rate: 50, flood: 50, seed, churnEverySec: 5, downSec: 3,
      sampleMs: 1000, quietTimeoutMs: 60_000, log: (line) => { lines.push(line) }
    })
    const why = lines.join('\n')
    assert.deepEqual(report.problems, [], why)
    assert.equal(report.convergence.converged, true, why)
    // 5 peers' 20 records each.
    assert.equal(report.convergence.records, 100, why)
    assert.ok(report.totals.writes > 0 && report.totals.propagation.timed > 0, why)
    assert.ok(report.churn.some((e) => e.kind === 'rejoin'), `a peer left and came back\n${why}`)
    assert.ok(report.totals.hostileSent > 0 && report.totals.rejected > 0, `the garbage was published and refused\n${why}`)
    assert.equal(Object.keys(report.series).length, 5)
    assert.ok(Object.values(report.retained).length === 5 && Object.values(report.retained).every((m) => m.heap > 0 && m.rss > m.heap), 'each peer\'s memory once quiet')
    assert.ok(report.intervals.length > 10 && report.intervals.every((i) => Number.isFinite(i.rssMedian) && i.rssMedian > 0))
  })
})
