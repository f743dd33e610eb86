/**
 * Progress while the bench runs, on stderr: on a terminal, one status line
 * kept at the bottom (a bar of scenarios done, the scenario running, time
 * elapsed, its latest progress line); otherwise plain progress lines, one
 * per event, as a log or CI wants them.
 * @module
 */
import { fmt } from './report.ts'

/** Scenario progress lines from a child process start with this (see `runScenario`). */
const PROGRESS_MARK = '  · '
const BAR_WIDTH = 20

export class Progress {
  readonly #total: number
  readonly #tty: boolean
  readonly #stream: NodeJS.WriteStream
  readonly #started = performance.now()
  #done = 0
  #scenario = ''
  #scenarioStarted = 0
  #detail = ''
  #shown = false
  #timer: ReturnType<typeof setInterval> | undefined

  /** `total` scenarios will run; with `statusLine` false, plain lines even on a terminal. */
  constructor (total: number, stream: NodeJS.WriteStream = process.stderr, statusLine = true) {
    this.#total = total
    this.#stream = stream
    this.#tty = statusLine && stream.isTTY && process.env.TERM !== 'dumb'
  }

  /** Whether a status line is drawn (stderr is a terminal). */
  get interactive (): boolean {
    return this.#tty
  }

  /** A scenario starts. */
  start (name: string, how: string): void {
    this.#scenario = name
    this.#scenarioStarted = performance.now()
    this.#detail = how
    if (!this.#tty) {
      this.#stream.write(`[${this.#done + 1}/${this.#total}] ${name}: ${how}\n`)
      return
    }
    this.#timer ??= setInterval(() => { this.#draw() }, 1000)
    this.#timer.unref()
    this.#draw()
  }

  /** A line of a scenario's stderr: progress lines update the status; anything else is printed above it. */
  line (text: string): void {
    if (!this.#tty) {
      this.#stream.write(text + '\n')
      return
    }
    if (text.startsWith(PROGRESS_MARK)) {
      this.#detail = text.slice(PROGRESS_MARK.length)
      this.#draw()
    } else {
      this.print(this.#stream, text + '\n')
    }
  }

  /** The running scenario ended; `outcome` (its wall time, say) is printed on a plain progress line. */
  end (outcome?: string): void {
    if (!this.#tty && outcome !== undefined) this.#stream.write(`[${this.#done + 1}/${this.#total}] ${this.#scenario}: ${outcome}\n`)
    this.#done++
    this.#detail = ''
    if (this.#tty) this.#draw()
  }

  /** Writes `text` to `stream` (stdout for tables) without tearing the status line. */
  print (stream: NodeJS.WriteStream, text: string): void {
    this.#clear()
    stream.write(text)
    if (this.#tty && this.#done < this.#total) this.#draw()
  }

  /** Removes the status line for good. */
  stop (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#clear()
  }

  #clear (): void {
    if (this.#shown) {
      this.#stream.write('\r\x1b[2K')
      this.#shown = false
    }
  }

  #draw (): void {
    if (!this.#tty) return
    const filled = Math.round((this.#done / Math.max(1, this.#total)) * BAR_WIDTH)
    const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled)
    const now = performance.now()
    const head = `${bar} ${this.#done}/${this.#total} ${clock(now - this.#started)}` +
      (this.#scenario === '' ? '' : ` · ${this.#scenario} ${clock(now - this.#scenarioStarted)}`)
    const columns: number | undefined = this.#stream.columns
    const width = columns !== undefined && columns > 20 ? columns : 100
    const line = this.#detail === '' ? head : `${head} · ${this.#detail}`
    this.#stream.write('\r\x1b[2K' + (line.length > width - 1 ? line.slice(0, Math.max(0, width - 2)) + '…' : line))
    this.#shown = true
  }
}

function clock (ms: number): string {
  const s = Math.floor(ms / 1000)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}:${fmt(s % 60, 0).padStart(2, '0')}`
}
