/**
 * The shell's subcommands of `kadmium` (`get`, `put`, `watch`, `export`,
 * `import`): each runs a peer for its length, opens the database by
 * address and reads or writes it as JSON.
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { isDatabaseAddress, NotFoundError } from '@kadmium/core'
import { anyRecord } from './any-record.ts'
import { BOOTSTRAP, DATA, dataDir, json, network, NETWORK, TIMEOUT, type Command, type Io } from './commands.ts'
import { caughtUp, openShell, type ShellDatabase } from './shell-peer.ts'
import { list, text, UsageError, whole, type Parsed } from './usage.ts'

const SHELL_OPTIONS = { data: { ...DATA, help: 'run in this data directory (default: a temporary one)' }, bootstrap: BOOTSTRAP, network: NETWORK, timeout: TIMEOUT } as const

export const get: Command = {
  spec: {
    name: 'get',
    args: 'ADDRESS COLLECTION [ID]',
    minArgs: 2,
    maxArgs: 3,
    summary: 'Prints a record (by id) or every record of a collection, as JSON lines, once caught up with a peer of the database.',
    options: SHELL_OPTIONS
  },
  async run (parsed, io) {
    const [address = '', collection = '', recordId] = parsed.positionals
    const shell = await shellOf(parsed, address)
    try {
      await caughtUp(shell.db, whole(parsed, 'timeout', 15_000))
      const records = shell.db.collection(collection, { schema: anyRecord })
      if (recordId !== undefined) {
        const row = await records.get(recordId)
        if (row === undefined) throw new NotFoundError(collection, recordId)
        json(io, row)
      } else {
        for (const row of await records.find({})) json(io, row)
      }
      return 0
    } finally {
      await shell.close()
    }
  }
}

export const put: Command = {
  spec: {
    name: 'put',
    args: 'ADDRESS COLLECTION JSON|-',
    minArgs: 3,
    maxArgs: 3,
    summary: 'Inserts a record (a JSON object; with "id", writes that record), or one per line of standard input with -, then catches up with the connected peers so that they hold it. Prints each id.',
    options: SHELL_OPTIONS
  },
  async run (parsed, io) {
    const [address = '', collection = '', source = ''] = parsed.positionals
    const lines = source === '-' ? await readLines(io.stdin) : [source]
    const values = lines.map((line, i) => {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        throw new UsageError(`kadmium put: ${source === '-' ? `line ${i + 1} of standard input` : 'the record'} is not JSON`)
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('kadmium put: a record is a JSON object')
      return value as Record<string, unknown>
    })
    const shell = await shellOf(parsed, address)
    try {
      const records = shell.db.collection(collection, { schema: anyRecord })
      for (const value of values) {
        const { id: given, ...fields } = value
        if (given !== undefined && typeof given !== 'string') throw new UsageError('kadmium put: "id" is a string')
        if (given === undefined) io.out(`${await records.insert(fields)}\n`)
        else {
          await records.upsert(given, fields)
          io.out(`${given}\n`)
        }
      }
      await shell.db.sync()
      return 0
    } finally {
      await shell.close()
    }
  }
}

/** Opens the database a shell command names (by address, on its own peer). */
async function shellOf (parsed: Parsed, address: string): Promise<ShellDatabase> {
  if (!isDatabaseAddress(address)) throw new UsageError(`"${String(address)}" is not a database address`)
  return openShell({ address, ...(text(parsed, 'data') !== undefined ? { dataDir: dataDir(parsed) } : {}), bootstrap: list(parsed, 'bootstrap'), network: network(parsed), openTimeout: whole(parsed, 'timeout', 15_000) })
}

export const watch: Command = {
  spec: {
    name: 'watch',
    args: 'ADDRESS COLLECTION',
    minArgs: 2,
    maxArgs: 2,
    summary: 'Once caught up with a peer, prints a JSON line per change of a collection ({"type","id","origin","record"}) until SIGINT or SIGTERM.',
    options: SHELL_OPTIONS
  },
  async run (parsed, io) {
    const [address = '', collection = ''] = parsed.positionals
    const shell = await shellOf(parsed, address)
    try {
      await caughtUp(shell.db, whole(parsed, 'timeout', 15_000))
      const records = shell.db.collection(collection, { schema: anyRecord })
      io.err(`watching "${collection}" of ${address} (SIGINT or SIGTERM stops)\n`)
      let printing = Promise.resolve()
      const off = records.on('change', (change) => {
        printing = printing.then(async () => {
          const record = change.type === 'delete' ? undefined : await records.get(change.id).catch(() => undefined)
          json(io, { type: change.type, id: change.id, origin: change.origin, ...(record !== undefined ? { record } : {}) })
        })
      })
      await io.stopped
      off()
      await printing
      return 0
    } finally {
      await shell.close()
    }
  }
}

/** One line of an export: a record of a collection. */
interface ExportLine {
  readonly collection: string
  readonly id: string
  readonly record: Record<string, unknown>
}

export const exportCommand: Command = {
  spec: {
    name: 'export',
    args: 'ADDRESS',
    minArgs: 1,
    maxArgs: 1,
    summary: 'Writes every record of every collection as JSON lines ({"collection","id","record"}), once caught up with a peer: a backup that import reads.',
    options: { ...SHELL_OPTIONS, out: { type: 'string', value: 'FILE', help: 'write to this file (default: standard output)' } }
  },
  async run (parsed, io) {
    const shell = await shellOf(parsed, parsed.positionals[0] ?? '')
    const file = text(parsed, 'out')
    const out = file === undefined ? undefined : createWriteStream(file)
    const write = (line: string): void => { if (out === undefined) io.out(line); else out.write(line) }
    try {
      await caughtUp(shell.db, whole(parsed, 'timeout', 15_000))
      let n = 0
      for (const collection of await shell.db.collectionNames()) {
        for (const { id, ...record } of await shell.db.collection(collection, { schema: anyRecord }).find({})) {
          write(JSON.stringify({ collection, id, record } satisfies ExportLine) + '\n')
          if (++n % 1000 === 0) progress(io, `exported ${n} records`)
        }
      }
      progress(io, `exported ${n} records\n`)
      return 0
    } finally {
      if (out !== undefined) await new Promise<void>((resolve, reject) => { out.end((error?: Error | null) => { if (error == null) resolve(); else reject(error) }) })
      await shell.close()
    }
  }
}

export const importCommand: Command = {
  spec: {
    name: 'import',
    args: 'ADDRESS FILE|-',
    minArgs: 2,
    maxArgs: 2,
    summary: 'Writes every record of an export (JSON lines from a file, or standard input with -) into the database, then catches up with the connected peers so that they hold them.',
    options: SHELL_OPTIONS
  },
  async run (parsed, io) {
    const [address = '', source = ''] = parsed.positionals
    const lines = await readLines(source === '-' ? io.stdin : createReadStream(source))
    const entries = lines.map((line, i) => {
      let entry: Partial<ExportLine>
      try {
        entry = JSON.parse(line) as Partial<ExportLine>
      } catch {
        throw new UsageError(`kadmium import: line ${i + 1} is not JSON`)
      }
      if (typeof entry.collection !== 'string' || typeof entry.id !== 'string' || typeof entry.record !== 'object' || entry.record === null || Array.isArray(entry.record)) {
        throw new UsageError(`kadmium import: line ${i + 1} is not {"collection","id","record"}`)
      }
      return entry as ExportLine
    })
    const shell = await shellOf(parsed, address)
    try {
      let n = 0
      for (const { collection, id, record } of entries) {
        await shell.db.collection(collection, { schema: anyRecord }).upsert(id, record)
        if (++n % 1000 === 0) progress(io, `imported ${n} of ${entries.length} records`)
      }
      progress(io, `imported ${n} records\n`)
      await shell.db.sync()
      return 0
    } finally {
      await shell.close()
    }
  }
}

/** Progress, on a terminal only (`\r`: a line that rewrites itself). */
function progress (io: Io, line: string): void {
  if (process.stderr.isTTY) io.err(`\r${line}`)
}

async function readLines (input: NodeJS.ReadableStream): Promise<string[]> {
  const lines: string[] = []
  for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line.trim() !== '') lines.push(line)
  return lines
}

