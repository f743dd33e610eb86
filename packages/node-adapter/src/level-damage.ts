/**
 * Damage to a LevelDB directory, found when it is opened: files cut short,
 * overwritten or missing, which LevelDB either refuses to open or opens
 * while silently leaving out what it cannot read. Each check returns what
 * is wrong, in words, or `undefined`.
 *
 * Damage found is written down in the directory (the file
 * `kadmium-damaged`): LevelDB may have opened the directory as far as it
 * could read it, and the next opening would not see the damage again.
 *
 * Not found: a byte changed inside a table. LevelDB's reads do not verify
 * its checksums: a read returns what is there, or fails if LevelDB cannot
 * make sense of it (that read then marks the directory damaged).
 * @module
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The last bytes of every LevelDB table: its footer, ending with the magic number. */
const FOOTER_BYTES = 48
/** The magic number (0xdb4775248b80fb57), little-endian, as a table's last 8 bytes. */
const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb])
const TABLE = /^\d+\.(ldb|sst)$/
/** The file that says a directory was found damaged, and how. */
const DAMAGE_MARK = 'kadmium-damaged'
/** Files only a LevelDB database has. */
const DATABASE_FILE = /^(\d+\.(ldb|sst|log)|MANIFEST-\d+)$/

function list (dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return [] // no directory yet: LevelDB makes it (or refuses)
  }
}

/** Writes down that a directory is damaged, and how, unless it says so already (best effort: the damage is reported anyway). */
export function markDamaged (dir: string, damage: string): void {
  try {
    writeFileSync(join(dir, DAMAGE_MARK), damage + '\n', { flag: 'wx' })
  } catch {}
}

/** Once open: the damage written down at an earlier opening or read (delete the file to use what LevelDB can still read). */
export function markedDamaged (dir: string): string | undefined {
  try {
    return `${readFileSync(join(dir, DAMAGE_MARK), 'utf8').trim()} (found before, and written down in its file ${DAMAGE_MARK})`
  } catch {
    return undefined
  }
}

/** The tables of a directory not yet opened: those still there once it is open are checked by {@link damagedTables}. */
export function tablesOf (dir: string): string[] {
  return list(dir).filter((name) => TABLE.test(name))
}

/**
 * Before opening: a directory with a database's files but no `CURRENT` (the
 * file that names the live manifest). LevelDB would begin a new database
 * there and delete the old one's files: it must not be asked to create one.
 */
export function missingCurrent (dir: string): string | undefined {
  const names = list(dir)
  if (names.includes('CURRENT') || !names.some((name) => DATABASE_FILE.test(name))) return undefined
  return 'its CURRENT file is missing'
}

/**
 * The opening failed (`cause`, LevelDB's error): whether for damage, in
 * words. `missing` is what {@link missingCurrent} found: the opening was to
 * take the directory's lock only.
 */
export function openDamage (dir: string, cause: unknown, missing: string | undefined): string | undefined {
  const error = cause as { code?: unknown, cause?: { code?: unknown, message?: unknown } }
  if (error.cause?.code === 'LEVEL_LOCKED') return undefined // another storage has it open: not for this one to judge
  if (missing !== undefined) return missing
  if (error.cause?.code === 'LEVEL_CORRUPTION') return `LevelDB cannot open it: ${String(error.cause.message)}`
  // CURRENT holds the name of a manifest that is not there (LevelDB calls that an I/O error).
  const current = join(dir, 'CURRENT')
  if (!existsSync(current)) return undefined
  const named = readFileSync(current, 'latin1')
  if (/^MANIFEST-\d+\n$/.test(named) && existsSync(join(dir, named.trim()))) return undefined
  return 'its CURRENT file does not name a manifest of the directory'
}

/**
 * Once open: what LevelDB said it left out while it recovered its log
 * (its `LOG` file, begun anew at each opening, says "dropping N bytes").
 * A log cut short at its end, by a process killed while writing, is not
 * damage: LevelDB says nothing then.
 */
export function droppedLog (dir: string): string | undefined {
  let log: string
  try {
    log = readFileSync(join(dir, 'LOG'), 'utf8')
  } catch {
    return undefined
  }
  const dropped = /\(ignoring error\) (\S+): dropping (\d+) bytes; (.*)/.exec(log)
  if (dropped === null) return undefined
  return `LevelDB left out ${dropped[2] as string} bytes of its log ${(dropped[1] as string).split(/[\\/]/).at(-1) as string} (${dropped[3] as string})`
}

/**
 * Once open: the tables of `before` (listed before the opening: LevelDB
 * deletes those it no longer uses as it opens) that do not end with a
 * table's footer — cut short, or overwritten at the end.
 */
export function damagedTables (dir: string, before: readonly string[]): string | undefined {
  const damaged: string[] = []
  for (const name of before) {
    let fd: number
    try {
      fd = openSync(join(dir, name), 'r')
    } catch {
      continue // deleted by LevelDB: not in use (or compacted away since)
    }
    try {
      const size = fstatSync(fd).size
      const magic = Buffer.alloc(TABLE_MAGIC.length)
      if (size < FOOTER_BYTES || readSync(fd, magic, 0, magic.length, size - magic.length) !== magic.length || !magic.equals(TABLE_MAGIC)) damaged.push(name)
    } finally {
      closeSync(fd)
    }
  }
  return damaged.length === 0 ? undefined : `its table${damaged.length > 1 ? 's' : ''} ${damaged.join(', ')} ${damaged.length > 1 ? 'are' : 'is'} cut short or overwritten`
}

/** Moves a damaged directory out of the way, beside itself (`<dir>.damaged-<UTC date and time>`), and returns where to. */
export function setAside (dir: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  for (let n = 0; ; n++) {
    const to = `${dir}.damaged-${stamp}${n === 0 ? '' : `-${n}`}`
    if (existsSync(to)) continue
    renameSync(dir, to)
    return to
  }
}
