/**
 * `kadmium`: the command line of Kadmium for Node.js. {@link main} runs
 * one subcommand; `bin.ts` runs it for the process.
 * @module
 */
import { id, pin, serve, status, unpin, type Command, type Io } from './commands.ts'
import { exportCommand, get, importCommand, put, watch } from './shell-commands.ts'
import { helpOf, parse, UsageError } from './usage.ts'

/** Every subcommand, by name. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map([id, serve, pin, unpin, status, get, put, watch, exportCommand, importCommand].map((c) => [c.spec.name, c]))

/** The top-level help. */
export function usage (): string {
  const width = Math.max(...[...COMMANDS.keys()].map((n) => n.length)) + 2
  return [
    'usage: kadmium COMMAND [ARGS] [options]',
    '',
    'commands:',
    ...[...COMMANDS.values()].map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`),
    '',
    'kadmium COMMAND --help shows a command\'s arguments and options.',
    ''
  ].join('\n')
}

/**
 * Runs `kadmium` with `argv` (without the node and script paths).
 * Resolves the exit code: 0 done, 1 failed (the error's one line on
 * stderr), 2 the command line is wrong.
 */
export async function main (argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage())
    return name === undefined ? 2 : 0
  }
  const command = COMMANDS.get(name)
  if (command === undefined) {
    io.err(`kadmium: "${name}" is not a command (kadmium --help lists them)\n`)
    return 2
  }
  try {
    const parsed = parse(command.spec, rest)
    if (parsed.help) {
      io.out(helpOf(command.spec))
      return 0
    }
    return await command.run(parsed, io)
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error))
    io.err(e instanceof UsageError ? `${e.message}\n` : `kadmium ${name}: ${e.name}: ${e.message}\n`)
    return e instanceof UsageError ? 2 : 1
  }
}
