/**
 * How much heap an attack makes a peer hold: samples of heap used, with a
 * full garbage collection before, after and every so often between.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** What a {@link HeapProbe} measured (bytes). */
export interface HeapReport {
  /** Heap used after a full GC at the start. */
  readonly baseline: number
  /** The highest heap used sampled meanwhile (garbage not yet collected included). */
  readonly peak: number
  /** The highest heap used right after a full GC, sampled every `liveEveryMs`: the memory actually held. */
  readonly live: number
  /** Heap used after a full GC at the end. */
  readonly after: number
}

/** A full garbage collection (exposed on demand: tests run without `--expose-gc`). */
export function collectGarbage (): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

/**
 * Samples the process's heap while an attack runs. The whole test runs in
 * one process, so the figures include the adversary's side as well as the
 * honest peers'.
 */
export class HeapProbe {
  readonly #baseline: number
  #peak: number
  #live: number
  readonly #timers: Array<ReturnType<typeof setInterval>>

  /** Collects garbage, takes the baseline, and starts sampling every `everyMs` (and after a full GC every `liveEveryMs`). */
  constructor (everyMs = 20, liveEveryMs = 1000) {
    collectGarbage()
    this.#baseline = process.memoryUsage().heapUsed
    this.#peak = this.#baseline
    this.#live = this.#baseline
    this.#timers = [
      setInterval(() => { this.#peak = Math.max(this.#peak, process.memoryUsage().heapUsed) }, everyMs),
      setInterval(() => {
        collectGarbage()
        this.#live = Math.max(this.#live, process.memoryUsage().heapUsed)
      }, liveEveryMs)
    ]
  }

  /** Stops sampling, collects garbage, and reports. */
  stop (): HeapReport {
    for (const timer of this.#timers) clearInterval(timer)
    this.#peak = Math.max(this.#peak, process.memoryUsage().heapUsed)
    collectGarbage()
    const after = process.memoryUsage().heapUsed
    return { baseline: this.#baseline, peak: this.#peak, live: Math.max(this.#live, after), after }
  }
}

/** Bytes as whole megabytes, for reports. */
export function mb (bytes: number): string {
  return `${Math.round(bytes / 1e6)} MB`
}
