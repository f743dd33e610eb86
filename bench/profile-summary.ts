/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): where the time went,
 * by function (self and inclusive time) and by package or file.
 *
 *     node bench/profile-summary.ts <file.cpuprofile> [--top 25] [--filter packages/] [--last MS]
 *
 * `--filter` keeps only frames whose file contains the text in the
 * inclusive-time table (e.g. `packages/` for Kadmium's own code);
 * `--last` counts only the profile's last MS milliseconds (to leave out
 * setup, or a first, cold round); `--windows FILE` counts only samples
 * inside the time windows the file lists, a JSON array of `[start, end]`
 * pairs in µs of the monotonic clock (`process.hrtime.bigint() / 1000n`,
 * the clock of the profile's timestamps on Linux): to see what runs while
 * a bench measures, not between its samples.
 * @module
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: readonly number[]
}

interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
  readonly startTime: number
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, filter: { type: 'string', default: 'packages/' }, last: { type: 'string' }, windows: { type: 'string' } }
})
const file = positionals[0]
if (file === undefined) {
  console.error('usage: node bench/profile-summary.ts <file.cpuprofile> [--top N] [--filter text] [--last MS] [--windows FILE]')
  process.exit(2)
}
const top = Number(values.top)
const filter = values.filter ?? 'packages/'
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const span = profile.timeDeltas.reduce((a, b) => a + b, 0)
const from = values.last === undefined ? 0 : span - Number(values.last) * 1000
const windows = values.windows === undefined ? undefined : (JSON.parse(readFileSync(values.windows, 'utf8')) as Array<[number, number]>).sort((a, b) => a[0] - b[0])

/** Whether a sample at `at` (µs, the profile's clock) falls in a window (`windows` sorted; `at` never decreases). */
let nextWindow = 0
function inWindow (at: number): boolean {
  if (windows === undefined) return true
  while (nextWindow < windows.length && (windows[nextWindow] as [number, number])[1] < at) nextWindow++
  const w = windows[nextWindow]
  return w !== undefined && w[0] <= at
}

const byId = new Map<number, ProfileNode>()
const parent = new Map<number, number>()
for (const node of profile.nodes) {
  byId.set(node.id, node)
  for (const child of node.children ?? []) parent.set(child, node.id)
}

/** A short place: the path from the repository's packages/ or node_modules/ on. */
function where (frame: CallFrame): string {
  let url = frame.url.replace(/^file:\/\//, '')
  const cut = Math.max(url.lastIndexOf('node_modules/'), url.indexOf('/packages/') + 1, url.indexOf('/bench/') + 1)
  if (cut > 0) url = url.slice(cut)
  return url === '' ? '(native)' : `${url}:${frame.lineNumber + 1}`
}

function key (frame: CallFrame): string {
  return `${frame.functionName === '' ? '(anonymous)' : frame.functionName}  ${where(frame)}`
}

/** The package (node_modules/<pkg>) or Kadmium package file a frame belongs to. */
function owner (frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '')
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return (rest[0] ?? '').startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0] ?? url
  }
  const pk = url.indexOf('/packages/')
  if (pk >= 0) return url.slice(pk + 1)
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)'
  return url.startsWith('node:') ? 'node:*' : url
}

const self = new Map<string, number>()
const inclusive = new Map<string, number>()
const owners = new Map<string, number>()
let total = 0
let clock = 0
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0
  clock += dt
  if (clock < from || !inWindow(profile.startTime + clock)) continue
  let id: number | undefined = profile.samples[i]
  const leaf = id === undefined ? undefined : byId.get(id)
  if (leaf === undefined) continue
  total += dt
  self.set(key(leaf.callFrame), (self.get(key(leaf.callFrame)) ?? 0) + dt)
  owners.set(owner(leaf.callFrame), (owners.get(owner(leaf.callFrame)) ?? 0) + dt)
  const seen = new Set<string>()
  while (id !== undefined) {
    const node = byId.get(id)
    if (node === undefined) break
    const k = key(node.callFrame)
    if (!seen.has(k) && node.callFrame.url.includes(filter)) {
      seen.add(k)
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt)
    }
    id = parent.get(id)
  }
}

const pct = (x: number): string => `${(100 * x / total).toFixed(1).padStart(5)}%`
const show = (title: string, map: Map<string, number>): void => {
  console.log(`\n${title}`)
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`)
}
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`)
show('self time by package or file', owners)
show('self time by function', self)
show(`inclusive time, frames in files containing "${filter}"`, inclusive)
