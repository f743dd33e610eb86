/**
 * The shape of a benchmark scenario: one file per scenario under
 * `bench/scenarios/`, listed in `bench/scenarios/index.ts`.
 * @module
 */
import type { ScenarioReport } from './report.ts'

/** What `bench/run.ts` hands a scenario. */
export interface ScenarioOptions {
  /** A small version: fewer records and repetitions. */
  readonly quick: boolean
  /** Measured rounds asked for on the command line (`--reps`), else the scenario's default. */
  readonly rounds: number | undefined
  /** Progress output (stderr), so that stdout stays the tables. */
  readonly log: (line: string) => void
}

/** A benchmark scenario. */
export interface Scenario {
  /** The name `npm run bench -- <name>` selects it by. */
  readonly name: string
  /** One line: what it measures. */
  readonly description: string
  readonly run: (options: ScenarioOptions) => Promise<ScenarioReport>
}
