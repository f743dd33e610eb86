/**
 * Node's on-disk compile cache for quick runs: every scenario process
 * imports the same TypeScript sources (libp2p, Yjs, OrbitDB, Kadmium), and
 * with the cache each import after the first skips most parsing and
 * compiling (a scenario process starts in about a third of the time).
 * Full runs do not use it, so that what they measure does not change.
 * @module
 */
import { constants, enableCompileCache } from 'node:module'
import { makeTempDir } from './tempdir.ts'

/**
 * Turns the compile cache on for this process and, through
 * `NODE_COMPILE_CACHE`, for every process it starts. The cache lives in a
 * temp dir removed when this process exits; if `NODE_COMPILE_CACHE` is
 * already set (by the process that started this one), that one is used.
 * Returns the cache's directory, or `undefined` if Node refused it.
 */
export function useCompileCache (): string | undefined {
  const dir = process.env.NODE_COMPILE_CACHE ?? makeTempDir('compile-cache')
  const result = enableCompileCache(dir)
  const { FAILED, DISABLED } = constants.compileCacheStatus
  if (result.status === FAILED || result.status === DISABLED) return undefined
  const directory = result.directory ?? dir
  process.env.NODE_COMPILE_CACHE = directory
  return directory
}
