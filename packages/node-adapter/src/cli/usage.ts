/**
 * How the `kadmium` command reads its arguments: each subcommand's
 * options and help, parsed with `node:util`'s `parseArgs`; a mistake is a
 * {@link UsageError} (one line, exit code 2).
 * @module
 */
import { parseArgs } from 'node:util'
import { KadmiumError } from '@kadmium/core'

/** The command line is wrong: a subcommand, option or argument that is not one. The command prints one line and exits with 2. */
export class UsageError extends KadmiumError {
  override name = 'UsageError'
}

/** An option of a subcommand. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  /** Given more than once, every value counts. */
  readonly multiple?: boolean
  /** The value's name in the help (`--data DIR`). */
  readonly value?: string
  readonly help: string
}

/** A subcommand: its arguments, options and help. */
export interface CommandSpec {
  readonly name: string
  /** The positional arguments, as the help shows them (`ADDRESS COLLECTION [ID]`). */
  readonly args: string
  /** How many positional arguments it takes. */
  readonly minArgs: number
  readonly maxArgs: number
  readonly summary: string
  /** More lines of help after the options. */
  readonly details?: readonly string[]
  readonly options: Readonly<Record<string, OptionSpec>>
}

/** What a subcommand was given. */
export interface Parsed {
  readonly positionals: readonly string[]
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>
  readonly help: boolean
}

/** The `--help` text of a subcommand. */
export function helpOf (spec: CommandSpec): string {
  const lines = [`usage: kadmium ${spec.name}${spec.args === '' ? '' : ' ' + spec.args} [options]`, '', spec.summary, '', 'options:']
  const shown = Object.entries(spec.options).map(([name, o]) => [`  --${name}${o.value === undefined ? '' : ' ' + o.value}${o.multiple === true ? ' ...' : ''}`, o.help] as const)
  shown.push(['  --help', 'show this help'])
  const width = Math.max(...shown.map(([left]) => left.length)) + 2
  for (const [left, help] of shown) lines.push(left.padEnd(width) + help)
  if (spec.details !== undefined) lines.push('', ...spec.details)
  return lines.join('\n') + '\n'
}

/**
 * Parses a subcommand's arguments.
 * @throws {UsageError} an unknown option, a missing value, too few or too many arguments
 */
export function parse (spec: CommandSpec, argv: readonly string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean', multiple?: boolean }> = { help: { type: 'boolean' } }
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type, ...(o.multiple === true ? { multiple: true } : {}) }
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (cause) {
    throw new UsageError(`kadmium ${spec.name}: ${(cause as Error).message.split('\n')[0] ?? 'bad arguments'} (see kadmium ${spec.name} --help)`, { cause })
  }
  const help = parsed.values.help === true
  if (!help && (parsed.positionals.length < spec.minArgs || parsed.positionals.length > spec.maxArgs)) {
    const want = spec.minArgs === spec.maxArgs ? `${spec.minArgs}` : `${spec.minArgs} to ${spec.maxArgs}`
    throw new UsageError(`kadmium ${spec.name} takes ${want} argument${spec.maxArgs === 1 ? '' : 's'} (${spec.args || 'none'}), not ${parsed.positionals.length} (see kadmium ${spec.name} --help)`)
  }
  return { positionals: parsed.positionals, values: parsed.values as Parsed['values'], help }
}

/** A string option's value, if given. */
export function text (parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name]
  return typeof value === 'string' ? value : undefined
}

/** A repeatable option's values (none: `[]`). */
export function list (parsed: Parsed, name: string): string[] {
  const value = parsed.values[name]
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : []
}

/**
 * A whole number option.
 * @throws {UsageError} it is not one
 */
export function whole (parsed: Parsed, name: string, fallback: number): number {
  const value = text(parsed, name)
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number of milliseconds, not "${value}"`)
  return n
}
