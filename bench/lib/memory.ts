/**
 * Memory measurement: RSS and heap. (`bench/run.ts` restarts itself with
 * `--expose-gc`; the RSS scenario's processes collect garbage themselves,
 * in `rss-child.js`.)
 * @module
 */

const MB = 1024 * 1024

/** Whether `gc()` is available. */
export function canGc (): boolean {
  return typeof globalThis.gc === 'function'
}

/** A memory reading in MB. */
export interface MemoryReading {
  readonly rssMB: number
  readonly heapUsedMB: number
  readonly externalMB: number
}

/** The process's memory now, in MB. */
export function readMemory (): MemoryReading {
  const m = process.memoryUsage()
  return { rssMB: m.rss / MB, heapUsedMB: m.heapUsed / MB, externalMB: (m.external + m.arrayBuffers) / MB }
}

/** RSS and JS heap used now, in MB, as a throughput sample records them. */
export function sampleMemory (): { rssMB: number, heapUsedMB: number } {
  const { rssMB, heapUsedMB } = readMemory()
  return { rssMB, heapUsedMB }
}

/** The largest RSS this process has had so far, in MB. */
export function peakRssMB (): number {
  return process.resourceUsage().maxRSS / 1024
}
