/**
 * The soak run's chart (SVG): throughput, propagation percentiles, each
 * peer's RSS and heap, and each peer's backlog over the run, churn marked.
 * @module
 */
import { fmt } from '../../bench/lib/report.ts'
import type { SoakReport } from './soak.ts'

const WIDTH = 1000
const LEFT = 70
const RIGHT = WIDTH - 150
const PANEL = 150
const GAP = 46
const TOP = 60

type Line = ReadonlyArray<readonly [number, number]>

function xml (text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}

/** A round step for about `n` ticks up to `max`. */
function step (max: number, n: number): number {
  const raw = max / n
  const power = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw
}

/** One panel: axes, ticks, title and its lines. */
class Panel {
  readonly #top: number
  readonly #xMax: number
  readonly #yMax: number
  readonly #log: boolean
  readonly #yMin: number
  readonly parts: string[] = []

  constructor (index: number, title: string, xMax: number, yMax: number, options: { log?: boolean, yMin?: number } = {}) {
    this.#top = TOP + index * (PANEL + GAP)
    this.#xMax = Math.max(1, xMax)
    this.#log = options.log === true
    this.#yMin = options.yMin ?? (this.#log ? 1 : 0)
    this.#yMax = Math.max(this.#log ? this.#yMin * 10 : 1, yMax)
    this.parts.push(`<text x="${LEFT}" y="${this.#top - 8}" font-size="13" font-weight="600">${xml(title)}</text>`)
    this.parts.push(`<rect x="${LEFT}" y="${this.#top}" width="${RIGHT - LEFT}" height="${PANEL}" fill="none" stroke="#999"/>`)
    const ticks = this.#log
      ? Array.from({ length: Math.floor(Math.log10(this.#yMax / this.#yMin)) + 1 }, (_, i) => this.#yMin * 10 ** i)
      : Array.from({ length: Math.floor(this.#yMax / step(this.#yMax, 4)) + 1 }, (_, i) => i * step(this.#yMax, 4))
    for (const v of ticks) {
      const y = this.y(v)
      this.parts.push(`<line x1="${LEFT}" y1="${y.toFixed(1)}" x2="${RIGHT}" y2="${y.toFixed(1)}" stroke="#eee"/>`)
      this.parts.push(`<text x="${LEFT - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#333">${fmt(v, v < 10 && v !== 0 && !Number.isInteger(v) ? 1 : 0)}</text>`)
    }
    const minutes = this.#xMax / 60
    const every = step(minutes, 10)
    for (let m = 0; m <= minutes + 1e-9; m += every) {
      const x = this.x(m * 60)
      this.parts.push(`<text x="${x.toFixed(1)}" y="${this.#top + PANEL + 14}" text-anchor="middle" fill="#333">${fmt(m, every < 1 ? 1 : 0)}</text>`)
    }
  }

  x (seconds: number): number {
    return LEFT + (seconds / this.#xMax) * (RIGHT - LEFT)
  }

  y (value: number): number {
    const v = Math.min(this.#yMax, Math.max(this.#yMin, value))
    const f = this.#log ? Math.log10(v / this.#yMin) / Math.log10(this.#yMax / this.#yMin) : (v - this.#yMin) / (this.#yMax - this.#yMin)
    return this.#top + PANEL - f * PANEL
  }

  line (points: Line, color: string, width = 1.5, dash = ''): void {
    const finite = points.filter(([, v]) => Number.isFinite(v))
    if (finite.length === 0) return
    const d = finite.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${this.x(t).toFixed(1)},${this.y(v).toFixed(1)}`).join(' ')
    this.parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}"${dash === '' ? '' : ` stroke-dasharray="${dash}"`} stroke-linejoin="round"/>`)
  }

  mark (seconds: number, color: string): void {
    const x = this.x(seconds).toFixed(1)
    this.parts.push(`<line x1="${x}" y1="${this.#top}" x2="${x}" y2="${this.#top + PANEL}" stroke="${color}" stroke-width="1" stroke-dasharray="2 3"/>`)
  }

  legend (row: number, color: string, label: string, dash = ''): void {
    const y = this.#top + 12 + row * 16
    this.parts.push(`<line x1="${RIGHT + 10}" y1="${y - 4}" x2="${RIGHT + 30}" y2="${y - 4}" stroke="${color}" stroke-width="2"${dash === '' ? '' : ` stroke-dasharray="${dash}"`}/>`)
    this.parts.push(`<text x="${RIGHT + 36}" y="${y}" fill="#222">${xml(label)}</text>`)
  }
}

/** The chart of a run. */
export function chart (report: SoakReport): string {
  const seconds = report.loadMs / 1000
  const iv = report.intervals
  const at = (f: (i: (typeof iv)[number]) => number): Line => iv.map((i) => [i.t, f(i)] as const)
  const peers = Object.entries(report.series)
  const pieces = (pick: (row: readonly [number, number, number, number, number]) => number): Line[] => peers.flatMap(([, rows]) => {
    const byIncarnation = new Map<number, Array<readonly [number, number]>>()
    for (const row of rows) byIncarnation.set(row[1], [...(byIncarnation.get(row[1]) ?? []), [row[0], pick(row)] as const])
    return [...byIncarnation.values()]
  })
  const max = (lines: readonly Line[]): number => Math.max(0, ...lines.flatMap((l) => l.map(([, v]) => v)).filter(Number.isFinite))
  const o = report.options
  const e = report.environment
  const height = TOP + 4 * (PANEL + GAP) + 10
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="11">`)
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="10" y="20" font-size="15" font-weight="600">Soak: ${o.peers} peers (OS processes, TCP 127.0.0.1), ${fmt(o.rate, 0)} writes/s asked, ${fmt(seconds / 60, 1)} min, churn every ${o.churnEverySec} s, hostile flood ${fmt(o.flood, 0)}/s</text>`)
  out.push(`<text x="10" y="38" fill="#555">${xml(`${e.date.slice(0, 16).replace('T', ' ')} UTC, node ${e.node}, ${e.cpu} × ${e.cores}, commit ${e.git.commit?.slice(0, 7) ?? '?'}; x: minutes; dotted lines: a peer leaves (grey) or crashes (red)`)}</text>`)

  const throughput = new Panel(0, 'Throughput (per second)', seconds, max([at((i) => i.writes), at((i) => i.received), at((i) => i.hostile)]) * 1.1)
  throughput.line(at((i) => i.writes), '#2f855a')
  throughput.line(at((i) => i.received), '#2b6cb0')
  throughput.line(at((i) => i.hostile), '#999', 1, '4 3')
  throughput.legend(0, '#2f855a', 'writes, all peers')
  throughput.legend(1, '#2b6cb0', 'received, per peer')
  throughput.legend(2, '#999', 'hostile garbage', '4 3')

  const p99 = max([at((i) => i.p99)])
  const propagation = new Panel(1, 'Propagation, writer → every other peer\'s live view (ms, log scale)', seconds, 10 ** Math.ceil(Math.log10(Math.max(10, p99))), { log: true })
  propagation.line(at((i) => i.p50), '#2b6cb0')
  propagation.line(at((i) => i.p95), '#d69e2e')
  propagation.line(at((i) => i.p99), '#c53030')
  propagation.legend(0, '#2b6cb0', 'p50')
  propagation.legend(1, '#d69e2e', 'p95')
  propagation.legend(2, '#c53030', 'p99')

  const rss = pieces((r) => r[2])
  const heap = pieces((r) => r[3])
  const memory = new Panel(2, 'Memory per peer (MB)', seconds, max([...rss, ...heap]) * 1.1)
  for (const l of rss) memory.line(l, '#90cdf4', 1)
  for (const l of heap) memory.line(l, '#f6ad55', 1)
  memory.line(at((i) => i.rssMedian), '#2b6cb0', 2)
  memory.line(at((i) => i.heapMedian), '#c05621', 2)
  memory.legend(0, '#90cdf4', 'RSS, each peer')
  memory.legend(1, '#2b6cb0', 'RSS, median')
  memory.legend(2, '#f6ad55', 'heap after GC, each')
  memory.legend(3, '#c05621', 'heap, median')

  const backlogs = pieces((r) => r[4])
  const backlog = new Panel(3, 'Backlog per peer (pending writes + parked DHT puts)', seconds, max(backlogs) * 1.1)
  for (const l of backlogs) backlog.line(l, '#b794f4', 1)
  backlog.line(at((i) => i.backlogSum / Math.max(1, i.peers)), '#553c9a', 2)
  backlog.legend(0, '#b794f4', 'each peer')
  backlog.legend(1, '#553c9a', 'mean')

  for (const panel of [throughput, propagation, memory, backlog]) {
    for (const c of report.churn) if (c.kind !== 'rejoin') panel.mark(c.at / 1000, c.kind === 'crash' ? '#e53e3e' : '#718096')
    out.push(...panel.parts)
  }
  out.push('</svg>')
  return out.join('\n') + '\n'
}
