/**
 * The shell side of the docs (README.md, docs/*.md): every `kadmium`
 * command they show exists with the options they give it, `kadmium
 * serve`'s synopsis lists every option it has, what `serve` prints and its
 * config file and metrics are as docs/operations.md says, and the `npm`
 * commands name scripts and packages that exist. (The TypeScript blocks
 * run in docs.test.ts.)
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { addressLines } from '../packages/node-adapter/src/cli/commands.ts'
import { COMMANDS } from '../packages/node-adapter/src/cli/main.ts'
import { codeBlocks } from './docs/markdown.ts'

const root = join(import.meta.dirname, '..')
const FILES = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]
const blocks = FILES.flatMap((file) => codeBlocks(root, file))
const OPERATIONS = blocks.filter((b) => b.file === 'docs/operations.md')

/** A command line the docs show, and where. */
interface Shown {
  readonly where: string
  readonly words: readonly string[]
}

/** Shell lines (`\` continuations joined, comments dropped) and inline code spans, as words. */
function shown (): Shown[] {
  const lines: Shown[] = []
  for (const block of blocks.filter((b) => b.lang === 'sh' || b.lang === '')) {
    block.code.replace(/\\\n/g, ' ').split('\n').forEach((line, i) => {
      lines.push({ where: `${block.file}:${block.line + 1 + i}`, words: line.replace(/(^|\s)#.*$/, '').split(/\s+/).filter((w) => w !== '') })
    })
  }
  for (const file of FILES) {
    const text = readFileSync(join(root, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '')
    for (const span of text.matchAll(/`([^`\n]+)`/g)) lines.push({ where: `${file} (\`${span[1] as string}\`)`, words: (span[1] as string).split(/\s+/) })
  }
  return lines
}

/** The `kadmium` commands shown: the subcommand and the options given to it. */
function kadmiumCommands (): Array<{ where: string, command: string, options: string[] }> {
  const found = []
  for (const { where, words } of shown()) {
    for (let i = words.indexOf('kadmium'); i !== -1; i = words.indexOf('kadmium', i + 1)) {
      const command = words[i + 1]
      if (command === undefined || /^[A-Z]/.test(command)) continue // `kadmium COMMAND --help`
      const rest = words.slice(i + 2)
      const end = rest.findIndex((w) => ['|', '<', '>', '&&', ';'].includes(w))
      const options = (end === -1 ? rest : rest.slice(0, end)).filter((w) => /^\[?--/.test(w)).map((w) => w.replace(/^\[?--/, '').replace(/[=\]].*$/, ''))
      found.push({ where, command, options })
    }
  }
  return found
}

test('every kadmium command the docs show exists, with the options they give it', () => {
  const commands = kadmiumCommands()
  assert.ok(commands.some((c) => c.command === 'serve'), 'the docs show kadmium serve')
  for (const { where, command, options } of commands) {
    if (command === '--help') continue
    const spec = COMMANDS.get(command)?.spec
    assert.ok(spec !== undefined, `${where}: kadmium ${command} is not a command (${[...COMMANDS.keys()].join(', ')})`)
    for (const option of options) {
      assert.ok(option === 'help' || Object.hasOwn(spec.options, option), `${where}: kadmium ${command} has no option --${option}`)
    }
  }
})

test("operations.md's synopsis of kadmium serve lists every option serve has", () => {
  const synopsis = OPERATIONS.find((b) => b.lang === '' && b.code.startsWith('kadmium serve '))
  assert.ok(synopsis !== undefined, 'docs/operations.md has the synopsis block')
  const listed = [...synopsis.code.matchAll(/--([a-z-]+)/g)].map((m) => m[1]).sort()
  assert.deepEqual(listed, Object.keys(COMMANDS.get('serve')?.spec.options ?? {}).sort())
})

test('what operations.md says kadmium serve prints is what it prints for those addresses', () => {
  const printed = OPERATIONS.find((b) => b.lang === '' && b.code.startsWith('peer id '))
  assert.ok(printed !== undefined, 'docs/operations.md shows what serve prints')
  const lines = printed.code.trimEnd().split('\n')
  const peerId = (lines[0] as string).slice('peer id '.length)
  const addresses = lines.filter((l) => l.startsWith('  ')).map((l) => l.trim())
  assert.deepEqual(lines, addressLines(addresses, peerId, undefined))
})

test("operations.md's config file holds serve's options", () => {
  const configs = OPERATIONS.filter((b) => b.lang === 'json' && !b.directives.some((d) => d.name === 'type'))
  assert.ok(configs.length > 0, 'docs/operations.md shows a config file')
  const options = COMMANDS.get('serve')?.spec.options ?? {}
  for (const config of configs) {
    for (const key of Object.keys(JSON.parse(config.code) as object)) {
      assert.ok(Object.hasOwn(options, key), `${config.file}:${config.line}: "${key}" is not an option of kadmium serve`)
    }
  }
})

test("operations.md's metrics are the ones kadmium serve exports, with their types", () => {
  const source = readFileSync(join(root, 'packages/node-adapter/src/cli/metrics.ts'), 'utf8')
  const exported = new Map([...source.matchAll(/^ {2}(kadmium_\w+): \['(gauge|counter)'/gm)].map((m) => [m[1] as string, m[2] as string]))
  const text = readFileSync(join(root, 'docs/operations.md'), 'utf8')
  const documented = new Map([...text.matchAll(/^\| `(kadmium_\w+)(?:\{[^}]*\})?` \| (\w+) \|/gm)].map((m) => [m[1] as string, m[2] as string]))
  assert.ok(exported.size > 0, 'metrics.ts names its metrics')
  assert.deepEqual(documented, exported)
})

test('the npm commands the docs show name scripts and packages that exist', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>, workspaces: string[] }
  const packages = new Map(pkg.workspaces.map((w) => {
    const manifest = JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')) as { name: string, version: string }
    return [manifest.name, manifest.version]
  }))
  for (const { where, words } of shown()) {
    for (let i = words.indexOf('npm'); i !== -1; i = words.indexOf('npm', i + 1)) {
      const script = words[i + 1] === 'run' ? words[i + 2] : words[i + 1] === 'start' || words[i + 1] === 'test' ? words[i + 1] : undefined
      if (script !== undefined) assert.ok(Object.hasOwn(pkg.scripts, script), `${where}: the repository has no npm script "${script}"`)
    }
    for (const word of words) {
      const tarball = /kadmium-(\w+)-(\d+\.\d+\.\d+)\.tgz$/.exec(word)
      if (tarball !== null) assert.equal(packages.get(`@kadmium/${tarball[1] as string}`), tarball[2], `${where}: ${word} is not what npm pack makes of a package`)
      const name = /^(@kadmium\/[\w-]+)/.exec(word)
      if (name !== null && words.includes('npm')) assert.ok(packages.has(name[1] as string), `${where}: no package ${name[1] as string}`)
    }
  }
})
