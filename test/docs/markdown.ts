/**
 * The fenced code blocks of a Markdown file, each with the `doctest`
 * directives written in HTML comments just before it (invisible on a
 * rendered page): `<!-- doctest: script peers; with peer -->`.
 * @module
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  /** The file, relative to the repository (`docs/getting-started.md`). */
  readonly file: string
  /** The line of the opening fence (1-based). */
  readonly line: number
  /** The fence's language (`ts`, `sh`, `text`; `''` for none). */
  readonly lang: string
  /** What is between the fences. */
  readonly code: string
  /** The directives of the `<!-- doctest: ... -->` comments just before it, in order. */
  readonly directives: readonly Directive[]
}

/** One directive: `script peers` is `{ name: 'script', value: 'peers' }`. */
export interface Directive {
  readonly name: string
  readonly value: string
}

const DIRECTIVE = /^<!--\s*doctest:\s*(.*?)\s*-->$/

/** Reads the code blocks of `file` (relative to `root`). */
export function codeBlocks (root: string, file: string): CodeBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const blocks: CodeBlock[] = []
  let pending: Directive[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const directive = DIRECTIVE.exec(line.trim())
    if (directive !== null) {
      pending.push(...parseDirectives(directive[1] as string, `${file}:${i + 1}`))
      continue
    }
    const fence = /^(`{3,})\s*([\w-]*)/.exec(line)
    if (fence === null) {
      if (line.trim() !== '') pending = []
      continue
    }
    const close = fence[1] as string
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !(lines[i] as string).startsWith(close); i++) body.push(lines[i] as string)
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: a code block that is never closed`)
    blocks.push({ file, line: start + 1, lang: fence[2] as string, code: body.join('\n') + '\n', directives: pending })
    pending = []
  }
  if (pending.length > 0) throw new Error(`${file}: doctest directives after the last code block`)
  return blocks
}

/** `script peers; with peer` → two directives. */
function parseDirectives (text: string, where: string): Directive[] {
  return text.split(';').map((part) => part.trim()).filter((part) => part !== '').map((part) => {
    const space = part.indexOf(' ')
    const name = space === -1 ? part : part.slice(0, space)
    const value = space === -1 ? '' : part.slice(space + 1).trim()
    if (!KNOWN.has(name)) throw new Error(`${where}: unknown doctest directive "${name}" (known: ${[...KNOWN].join(', ')})`)
    if ((name === 'skip' || name === 'no-run') && value === '') throw new Error(`${where}: "${name}" needs a reason`)
    return { name, value }
  })
}

/** The directives the docs test understands (see test/docs.test.ts). */
const KNOWN = new Set(['script', 'with', 'skip', 'no-run', 'output', 'type'])
