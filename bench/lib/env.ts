/**
 * The machine and build a run happened on, for the JSON results.
 * @module
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os'
import { canGc } from './memory.ts'

/** Where and when a run happened. */
export interface Environment {
  readonly date: string
  readonly node: string
  readonly v8: string
  readonly platform: string
  readonly cpu: string
  readonly cores: number
  readonly totalMemoryMB: number
  /** 1, 5 and 15 minute load averages when the run started: how busy the machine was. */
  readonly loadAverage: readonly number[]
  readonly exposeGc: boolean
  readonly git: { readonly commit: string | undefined, readonly dirty: boolean | undefined }
}

/** Describes this machine and checkout. */
export function environment (): Environment {
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${release()} ${process.arch}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    totalMemoryMB: Math.round(totalmem() / 1024 / 1024),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    exposeGc: canGc(),
    git: { commit: git(['rev-parse', 'HEAD']), dirty: dirty() }
  }
}

function git (args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

function dirty (): boolean | undefined {
  const status = git(['status', '--porcelain', '--untracked-files=no'])
  return status === undefined ? undefined : status.length > 0
}
