/**
 * The entry point `bench/run.ts` calls in a fresh process per scenario:
 * it imports only the one scenario's module (`bench/scenarios/<name>.ts`),
 * not every scenario and its dependencies (OrbitDB, Helia, libp2p), so that
 * a scenario's process starts in a fraction of the time.
 * @module
 */
import type { ScenarioReport } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'

/** What {@link runScenario} takes (JSON: it crosses a process boundary). */
export interface RunScenarioArgs {
  readonly name: string
  readonly quick: boolean
  readonly rounds: number | undefined
}

/** Loads the scenario called `name` from its own module, `bench/scenarios/<name>.ts`. */
export async function loadScenario (name: string): Promise<Scenario> {
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(name)) throw new Error(`unknown scenario "${name}"`)
  const mod = await import(new URL(`./${name}.ts`, import.meta.url).href) as Record<string, unknown>
  const scenario = Object.values(mod).find((value): value is Scenario => isScenario(value) && value.name === name)
  if (scenario === undefined) throw new Error(`bench/scenarios/${name}.ts exports no scenario "${name}"`)
  return scenario
}

/** Runs one scenario by name, logging progress to stderr. */
export async function runScenario ({ name, quick, rounds }: RunScenarioArgs): Promise<ScenarioReport> {
  const scenario = await loadScenario(name)
  return scenario.run({ quick, rounds, log: (line) => { process.stderr.write(`  · ${line}\n`) } })
}

function isScenario (value: unknown): value is Scenario {
  return typeof value === 'object' && value !== null && typeof (value as Scenario).name === 'string' && typeof (value as Scenario).run === 'function'
}
