/**
 * A soak run's figures as a Markdown table, for the terminal and for
 * `docs/reliability.md`.
 * @module
 */
import { fmt } from '../../bench/lib/report.ts'
import { GROWTH_LIMITS } from './analyze.ts'
import type { SoakReport } from './soak.ts'

function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** The figures of a run, in Markdown. */
export function summary (report: SoakReport): string {
  const t = report.totals
  const o = report.options
  const e = report.environment
  const half = report.intervals.filter((i) => i.t * 1000 >= report.loadMs / 2)
  const first = half[0]
  const last = half[half.length - 1]
  const judged = report.trends.filter((x) => x.judged)
  const growing = judged.filter((x) => x.growing)
  const steepest = (metric: keyof typeof GROWTH_LIMITS): string => {
    const of = judged.filter((x) => x.metric === metric).sort((a, b) => b.per10Min - a.per10Min)[0]
    return of === undefined ? 'not judged' : `steepest: peer ${of.peer}, ${fmt(of.per10Min, 1)} ${GROWTH_LIMITS[metric].unit} per 10 min from ${fmt(of.level, 1)} (noise ${fmt(of.noise, 1)})`
  }
  const kept = Object.values(report.retained)
  const loads = report.intervals.map((i) => i.machineLoad).filter(Number.isFinite)
  const failed = Object.entries(t.failed).map(([name, n]) => `${name} ${n}`).join(', ')
  const rows: Array<[string, string]> = [
    ['run', `${o.peers} peers, ${fmt(report.loadMs / 60_000, 1)} min, ${fmt(o.rate, 0)} writes/s asked, churn every ${o.churnEverySec} s (${o.downSec} s away), flood ${fmt(o.flood, 0)}/s, seed ${o.seed}`],
    ['machine', `${e.cpu} × ${e.cores}, node ${e.node}, commit ${e.git.commit?.slice(0, 7) ?? '?'}${e.git.dirty === true ? ' (dirty)' : ''}; 1-minute load average ${e.loadAverage[0] ?? '?'} at the start, ${loads.length === 0 ? '?' : `${fmt(Math.min(...loads), 1)} to ${fmt(Math.max(...loads), 1)}`} during the load (the run's peers count in it)`],
    ['peers\' CPU', `${fmt(report.intervals.reduce((a, i) => a + i.cpu, 0) / Math.max(1, report.intervals.length), 0)}% of one core in all (mean); event loop delay p99 up to ${fmt(Math.max(0, ...report.intervals.map((i) => i.loopP99)), 0)} ms`],
    ['start', `${fmt(report.startMs / 1000, 0)} s until every peer replicated with every other`],
    ['writes acknowledged', `${fmt(t.writes, 0)}: ${fmt(t.writesPerSecond, 0)}/s (${fmt(100 * t.writesPerSecond / o.rate, 0)}% of the rate asked); ${fmt(t.skipped, 0)} due but not issued${failed === '' ? '' : `; rejected: ${failed}`}`],
    ['received per peer', `${fmt(t.receivedPerPeerPerSecond, 0)} remote changes/s`],
    ['propagation (writer → another peer\'s live view)', `p50 ${fmt(t.propagation.p50, 1)} ms, p95 ${fmt(t.propagation.p95, 1)} ms, p99 ${fmt(t.propagation.p99, 1)} ms, max ${fmt(t.propagation.max, 0)} ms (${fmt(t.propagation.timed, 0)} updates timed)`],
    ['RSS per peer, second half', first === undefined || last === undefined ? 'no sample' : `median ${fmt(first.rssMedian, 0)} → ${fmt(last.rssMedian, 0)} MB; largest ${fmt(t.rssMax, 0)} MB`],
    ['heap after GC per peer, second half', first === undefined || last === undefined ? 'no sample' : `median ${fmt(first.heapMedian, 1)} → ${fmt(last.heapMedian, 1)} MB; largest ${fmt(t.heapMax, 1)} MB`],
    ['kept once quiet (after full GCs)', kept.length === 0 ? 'not measured' : `RSS median ${fmt(median(kept.map((k) => k.rss)), 0)} MB, heap median ${fmt(median(kept.map((k) => k.heap)), 1)} MB (largest ${fmt(Math.max(...kept.map((k) => k.heap)), 1)} MB)`],
    ['backlog per peer', `largest ${fmt(Math.max(0, ...report.intervals.map((i) => i.backlogMax)), 0)}; mean over the run ${fmt(report.intervals.reduce((a, i) => a + i.backlogSum / Math.max(1, i.peers), 0) / Math.max(1, report.intervals.length), 1)}`],
    ['live envelopes dropped (then caught up)', fmt(t.dropped, 0)],
    ['hostile garbage published / refused', `${fmt(t.hostileSent, 0)} / ${fmt(t.rejected, 0)} \`rejected\` events`],
    ['churn', `${t.churn} peers left or crashed and came back`],
    ['convergence', report.convergence.converged ? `every replica agreed on ${report.convergence.records} records ${fmt(report.convergence.quietMs / 1000, 1)} s after the load stopped` : `**not converged** after ${fmt(report.convergence.quietMs / 1000, 0)} s: ${report.convergence.difference ?? ''}`],
    ['growth trends', `${judged.length} series judged, ${growing.length} growing; RSS ${steepest('rss')}; heap ${steepest('heap')}; backlog ${steepest('backlog')}`],
    ['verdict', report.problems.length === 0 ? '**passed**' : `**failed**: ${report.problems.length} problem(s)`]
  ]
  return ['| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v.replaceAll('|', '\\|')} |`)].join('\n')
}
