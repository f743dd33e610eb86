/**
 * Memory measurement: RSS and heap, after a forced GC when `--expose-gc`
 * is on (`bench/run.ts` restarts itself with it).
 * @module
 */

const MB = 1024 * 1024

/** Whether `gc()` is available. */
export function canGc (): boolean {
  return typeof globalThis.gc === 'function'
}

/** Runs a full GC if possible (twice: finalizers free more on the second pass). */
export async function collectGarbage (): Promise<void> {
  const gc = globalThis.gc
  if (typeof gc !== 'function') return
  gc()
  // Let FinalizationRegistry callbacks and native frees run.
  await new Promise((resolve) => setImmediate(resolve))
  gc()
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

/** The process's memory after a forced GC (if available), in MB. */
export async function settledMemory (): Promise<MemoryReading> {
  await collectGarbage()
  return readMemory()
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
