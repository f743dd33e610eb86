/**
 * Every scenario, in the order `npm run bench` runs them. A scenario's
 * process loads only its own module (`run-one.ts`); `runScenario` is
 * re-exported here for `--in-process` runs.
 * @module
 */
import type { Scenario } from '../lib/scenario.ts'
import { browser } from './browser.ts'
import { coldJoin } from './cold-join.ts'
import { coldStart } from './cold-start.ts'
import { dht } from './dht.ts'
import { fanout } from './fanout.ts'
import { find } from './find.ts'
import { get } from './get.ts'
import { guard } from './guard.ts'
import { insert } from './insert.ts'
import { live } from './live.ts'
import { orbitdbInsert } from './orbitdb-insert.ts'
import { orbitdbReplicate } from './orbitdb-replicate.ts'
import { propagation } from './propagation.ts'
import { replicate } from './replicate.ts'
import { rss } from './rss.ts'
import { serve } from './serve.ts'
import { update } from './update.ts'
import { wire } from './wire.ts'

/** Every scenario, in the order `npm run bench` runs them; each lives in `bench/scenarios/<name>.ts`. */
export const scenarios: readonly Scenario[] = [insert, update, get, find, rss, coldStart, guard, live, wire, replicate, propagation, dht, fanout, orbitdbInsert, orbitdbReplicate, coldJoin, serve, browser]

export { runScenario, type RunScenarioArgs } from './run-one.ts'
