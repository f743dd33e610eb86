/**
 * Every scenario, in the order `npm run bench` runs them, and the entry
 * point `bench/run.ts` calls in a fresh process for each.
 * @module
 */
import type { ScenarioReport } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { coldStart } from './cold-start.ts'
import { dht } from './dht.ts'
import { fanout } from './fanout.ts'
import { find } from './find.ts'
import { get } from './get.ts'
import { insert } from './insert.ts'
import { live } from './live.ts'
import { orbitdbInsert } from './orbitdb-insert.ts'
import { orbitdbReplicate } from './orbitdb-replicate.ts'
import { propagation } from './propagation.ts'
import { replicate } from './replicate.ts'
import { rss } from './rss.ts'
import { update } from './update.ts'
import { wire } from './wire.ts'

export const scenarios: readonly Scenario[] = [insert, update, get, find, rss, coldStart, live, wire, replicate, propagation, dht, fanout, orbitdbInsert, orbitdbReplicate]

/** What {@link runScenario} takes (JSON: it crosses a process boundary). */
export interface RunScenarioArgs {
  readonly name: string
  readonly quick: boolean
  readonly rounds: number | undefined
}

/** Runs one scenario by name, logging progress to stderr. */
export async function runScenario ({ name, quick, rounds }: RunScenarioArgs): Promise<ScenarioReport> {
  const scenario = scenarios.find((s) => s.name === name)
  if (scenario === undefined) throw new Error(`unknown scenario "${name}"`)
  return scenario.run({ quick, rounds, log: (line) => { process.stderr.write(`  · ${line}\n`) } })
}
