/**
 * The databases a server pins, kept in its data directory (`pins.json`, a
 * JSON list of addresses) so that they survive restarts.
 * @module
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StorageError } from '@kadmium/core'

/** The file, in the data directory. */
export const PINS_FILE = 'pins.json'

/** Reads the pinned addresses (none if the file is missing). @throws {StorageError} it exists but is not a list of addresses */
export async function readPins (dataDir: string): Promise<string[]> {
  let text: string
  try {
    text = await readFile(join(dataDir, PINS_FILE), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  let pins: unknown
  try {
    pins = JSON.parse(text)
  } catch (cause) {
    throw new StorageError(`${join(dataDir, PINS_FILE)} is not JSON`, { cause })
  }
  if (!Array.isArray(pins) || !pins.every((p) => typeof p === 'string')) throw new StorageError(`${join(dataDir, PINS_FILE)} is not a list of addresses`)
  return [...new Set(pins)]
}

/** Writes the pinned addresses whole (a new file renamed into place). */
export async function writePins (dataDir: string, pins: readonly string[]): Promise<void> {
  const path = join(dataDir, PINS_FILE)
  await writeFile(`${path}.partial`, JSON.stringify([...new Set(pins)].sort(), null, 2) + '\n')
  await rename(`${path}.partial`, path)
}
