import type { ConformanceCase } from './test-case.ts'
import type { StorageAdapter } from '../storage/storage.ts'

/**
 * How the conformance suite gets adapters to test. A location is a short
 * name made of letters, digits and `-` that the suite invents; the harness
 * maps it to a directory, a database name, or nothing at all.
 */
export interface StorageHarness {
  /** Opens an adapter at `location` (a new, empty one for a location never opened before). */
  open (location: string): Promise<StorageAdapter>
  /**
   * Whether data written at a location is there again when the same
   * location is opened after the adapter was closed. Persistence cases
   * run only when it is.
   */
  readonly persistent: boolean
  /** Called after every case, once the suite has closed its adapters: remove what the case left. */
  cleanup? (): Promise<void>
}

/** One storage conformance case: run `fn` with your test runner under `name`. */
export type StorageTestCase = ConformanceCase

/** What a case body gets: adapters at its own locations, closed for it afterwards. */
export interface CaseContext {
  readonly persistent: boolean
  /** Opens the case's location (or its `n`th extra location). */
  readonly open: (n?: number) => Promise<StorageAdapter>
}

/** The body of a case. */
export type CaseBody = (ctx: CaseContext) => Promise<void>

/** A case as the suite's files declare it. */
export interface CaseDefinition {
  readonly name: string
  readonly body: CaseBody
  /** Only for harnesses whose locations persist. @default false */
  readonly persistentOnly?: boolean
}

let suites = 0

/**
 * Turns case definitions into runnable cases. Each case gets locations
 * of its own; afterwards every adapter it opened is closed (errors
 * ignored: the case may have closed it already) and the harness cleans up.
 */
export function makeCases (harness: StorageHarness, definitions: readonly CaseDefinition[]): StorageTestCase[] {
  const suite = ++suites
  return definitions
    .filter((definition) => harness.persistent || definition.persistentOnly !== true)
    .map((definition, i) => ({
      name: definition.name,
      fn: async () => {
        const opened: StorageAdapter[] = []
        const ctx: CaseContext = {
          persistent: harness.persistent,
          open: async (n = 0) => {
            const adapter = await harness.open(`kadmium-${suite}-${i}-${n}`)
            opened.push(adapter)
            return adapter
          }
        }
        let failed = false
        try {
          await definition.body(ctx)
        } catch (error) {
          failed = true
          throw error
        } finally {
          for (const adapter of opened) {
            try {
              await adapter.close?.()
            } catch {
              // Closed by the case already, or the failure is the case's to report.
            }
          }
          try {
            await harness.cleanup?.()
          } catch (error) {
            // A failing case's own error says more than its cleanup's.
            if (!failed) throw error
          }
        }
      }
    }))
}
