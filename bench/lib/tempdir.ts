/**
 * Fresh temporary directories (for LevelDB), removed when done and, as a
 * safety net, when the process exits.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const live = new Set<string>()
let hooked = false

/** A new empty directory under the system temp dir. */
export function makeTempDir (label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kadmium-bench-${label}-`))
  live.add(dir)
  if (!hooked) {
    hooked = true
    process.once('exit', () => {
      for (const d of live) rmSync(d, { recursive: true, force: true })
    })
  }
  return dir
}

/** Removes a directory made by {@link makeTempDir}. */
export async function removeTempDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  live.delete(dir)
}

/** Runs `fn` with a fresh temp dir, removing it afterwards. */
export async function withTempDir<T> (label: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir(label)
  try {
    return await fn(dir)
  } finally {
    await removeTempDir(dir)
  }
}
