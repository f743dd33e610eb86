/**
 * The programs the code blocks of a Markdown file make (see
 * test/docs.test.ts for the directives): blocks run in order as one
 * script per file, or per `script NAME`; `output` blocks say what a script
 * prints.
 * @module
 */
import type { CodeBlock } from './markdown.ts'
import { PRELUDES, type Prelude } from './preludes.ts'

/** The languages of code blocks that run. */
const CODE = new Set(['ts', 'typescript', 'js', 'javascript'])

/** One program made of a file's blocks. */
export interface DocScript {
  readonly file: string
  readonly name: string
  readonly blocks: CodeBlock[]
  /** What `with` named. */
  prelude: Prelude | undefined
  /** Why it is only type-checked (`no-run`), if it is. */
  noRun: string | undefined
  /** JavaScript blocks: run, not type-checked. */
  readonly js: boolean
  /** The `output` blocks: lines it must print, in order. */
  readonly outputs: CodeBlock[]
}

/** What a file's blocks make: its scripts, and the blocks it skips. */
export interface DocPrograms {
  readonly scripts: DocScript[]
  readonly skipped: CodeBlock[]
}

/** Groups a file's code blocks into scripts. */
export function docPrograms (blocks: readonly CodeBlock[]): DocPrograms {
  const scripts = new Map<string, DocScript>()
  const skipped: CodeBlock[] = []
  let current = 'main'
  let last: DocScript | undefined
  for (const block of blocks) {
    const where = `${block.file}:${block.line}`
    const value = (name: string): string | undefined => block.directives.find((d) => d.name === name)?.value
    if (value('output') !== undefined) {
      if (last === undefined) throw new Error(`${where}: an output block before any code block`)
      last.outputs.push(block)
      continue
    }
    const type = value('type')
    if (type !== undefined) {
      scripts.set(`json-${block.line}`, typedSample(block, type))
      continue
    }
    if (!CODE.has(block.lang)) {
      if (block.directives.length > 0) throw new Error(`${where}: doctest directives on a ${block.lang || 'plain'} block`)
      continue
    }
    if (value('skip') !== undefined) {
      skipped.push(block)
      continue
    }
    current = value('script') ?? current
    const js = block.lang.startsWith('j')
    let script = scripts.get(current)
    if (script === undefined) {
      script = { file: block.file, name: current, blocks: [], prelude: undefined, noRun: undefined, js, outputs: [] }
      scripts.set(current, script)
    }
    if (script.js !== js) throw new Error(`${where}: script "${current}" mixes TypeScript and JavaScript blocks`)
    const prelude = value('with')
    if (prelude !== undefined) {
      if (PRELUDES[prelude] === undefined) throw new Error(`${where}: no prelude "${prelude}" (test/docs/preludes.ts has ${Object.keys(PRELUDES).join(', ')})`)
      if (script.blocks.length > 0) throw new Error(`${where}: "with" goes on a script's first block`)
      script.prelude = PRELUDES[prelude]
    }
    script.noRun ??= value('no-run')
    script.blocks.push(block)
    last = script
  }
  return { scripts: [...scripts.values()], skipped }
}

/**
 * A JSON sample of a type (`<!-- doctest: type ServerStatus from @kadmium/node -->`):
 * a script, type-checked only, that says the sample `satisfies` the type,
 * so a field the type lacks, or one it needs that the sample leaves out,
 * fails.
 */
function typedSample (block: CodeBlock, type: string): DocScript {
  const m = /^(\w+) from (\S+)$/.exec(type)
  if (m === null) throw new Error(`${block.file}:${block.line}: "type" is "NAME from MODULE", not "${type}"`)
  const code = `import type { ${m[1] as string} } from '${m[2] as string}'; export const sample = (\n${block.code}) satisfies ${m[1] as string}\n`
  // One line before the fence, so that the sample's lines keep their numbers.
  const wrapped = { ...block, line: block.line - 1, code }
  return { file: block.file, name: `json-${block.line}`, blocks: [wrapped], prelude: undefined, noRun: 'a JSON sample', js: false, outputs: [] }
}

/**
 * The source of a script: its prelude, its blocks in order (each after a
 * comment saying where it comes from), the prelude's end. An import a
 * block repeats word for word is left out the second time (a reader's
 * file would hold it once), as a comment: lines keep their places.
 */
export function scriptSource (script: DocScript): string {
  const seen = new Set<string>()
  const parts: string[] = []
  if (script.prelude !== undefined) parts.push('// ---- prelude (test/docs/preludes.ts)', script.prelude.before)
  for (const block of script.blocks) {
    const lines = block.code.split('\n').map((line) => {
      if (!/^import .* from '[^']+'\s*(\/\/.*)?$/.test(line)) return line
      const key = line.replace(/\s*\/\/.*$/, '')
      if (seen.has(key)) return '// (imported above)'
      seen.add(key)
      return line
    })
    parts.push(`// ---- ${block.file}:${block.line}`, ...lines)
  }
  if (script.prelude !== undefined) parts.push('// ---- prelude end', script.prelude.after)
  parts.push('export {}', '')
  return parts.join('\n')
}

/** A file name for a script: `docs-getting-started.peers.ts`. */
export function scriptFileName (script: DocScript): string {
  const base = script.file.replace(/\.md$/, '').replace(/[^\w-]+/g, '-')
  return `${base}.${script.name.replace(/[^\w-]+/g, '-')}.${script.js ? 'mjs' : 'ts'}`
}

/**
 * Where line `line` (1-based) of a script's source comes from:
 * `docs/getting-started.md:42`, or the prelude.
 */
export function docLocation (source: string, line: number): string {
  const lines = source.split('\n')
  for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) {
    const header = /^\/\/ ---- (.+?):(\d+)$/.exec(lines[i] as string)
    if (header !== null) return `${header[1] as string}:${Number(header[2]) + (line - 1 - i)}`
    if ((lines[i] as string).startsWith('// ---- prelude')) return 'the prelude (test/docs/preludes.ts)'
  }
  return 'the script'
}
