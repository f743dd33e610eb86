/**
 * The chat's terminal: lines read from stdin, lines printed above the
 * prompt, and whether the user is typing a line (a line started and not
 * sent yet). Works on a terminal (readline's prompt, keypresses) and on
 * piped input (each chunk that ends inside a line counts as typing).
 * @module
 */
import { createInterface, type Interface } from 'node:readline'
import type { MessageRow } from './room.ts'

/** After this long with no keypress (ms), a started line no longer counts as typing. */
const TYPING_IDLE_MS = 4000

/** What the terminal reports. */
export interface TerminalEvents {
  /** A line was entered (trimmed, not empty). */
  readonly line: (text: string) => void
  /** The user started typing a line, or stopped (sent it, cleared it, or paused). */
  readonly typing: (active: boolean) => void
  /** The input ended (Ctrl-D, end of the piped input) or Ctrl-C was pressed. */
  readonly end: () => void
}

/** `[HH:MM] nick: text`, in local time: how a message is printed. */
export function formatMessage (message: MessageRow): string {
  const at = new Date(message.at)
  const time = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`
  return `[${time}] ${message.nick}: ${message.text}`
}

/** The terminal of one chat session. */
export class Terminal {
  readonly #rl: Interface
  readonly #input: NodeJS.ReadStream
  readonly #output: NodeJS.WriteStream
  readonly #events: TerminalEvents
  readonly #interactive: boolean
  #typing = false
  #idle: ReturnType<typeof setTimeout> | undefined
  #closed = false

  constructor (input: NodeJS.ReadStream, output: NodeJS.WriteStream, events: TerminalEvents) {
    this.#input = input
    this.#output = output
    this.#events = events
    this.#interactive = input.isTTY && output.isTTY
    this.#rl = createInterface({ input, output, terminal: this.#interactive, prompt: '> ' })
    this.#rl.on('line', (line) => {
      this.#setTyping(false)
      const text = line.trim()
      if (text !== '') events.line(text)
      if (this.#interactive && !this.#closed) this.#rl.prompt()
    })
    this.#rl.on('SIGINT', () => { events.end() })
    this.#rl.on('close', () => { if (!this.#closed) events.end() })
    input.on('data', this.#onData)
    if (this.#interactive) this.#rl.prompt()
  }

  /** Prints `line` above the prompt (and the line being typed). */
  print (line: string): void {
    if (this.#closed) return
    if (!this.#interactive) {
      this.#output.write(`${line}\n`)
      return
    }
    this.#output.write(`\r\x1b[K${line}\n`)
    this.#rl.prompt(true)
  }

  /** Stops reading; the process may exit once the rest is closed. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#idle)
    this.#input.off('data', this.#onData)
    this.#rl.close()
    if (this.#interactive) this.#output.write('\n')
  }

  /** After readline took the chunk: is a line started and not sent? */
  readonly #onData = (chunk: Buffer | string): void => {
    const endsLine = /[\r\n]$/.test(String(chunk))
    setImmediate(() => {
      if (this.#closed) return
      this.#setTyping(this.#interactive ? this.#rl.line.length > 0 : !endsLine)
    })
  }

  #setTyping (active: boolean): void {
    clearTimeout(this.#idle)
    if (active) this.#idle = setTimeout(() => { this.#setTyping(false) }, TYPING_IDLE_MS)
    if (active === this.#typing) return
    this.#typing = active
    this.#events.typing(active)
  }
}
