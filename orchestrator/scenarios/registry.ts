// The scenarios this build knows, by name. The inventory loader validates scenario
// names and params against this map before anything connects.
import type { z } from 'zod';
import type { HostCheck } from '../inventory/types.js';
import { sysinfoScenario } from './sysinfo.js';
import { midolmanScenario } from './midolman.js';
import { kvmScenario } from './kvm.js';
import type { PhaseSpec, Scenario } from './types.js';

export type ScenarioRegistry = ReadonlyMap<string, Scenario>;

export const SCENARIOS: ScenarioRegistry = new Map<string, Scenario>([
  [sysinfoScenario.name, sysinfoScenario as unknown as Scenario],
  [midolmanScenario.name, midolmanScenario as unknown as Scenario],
  [kvmScenario.name, kvmScenario as unknown as Scenario],
]);

export function scenarioParamSchemas(registry: ScenarioRegistry = SCENARIOS): ReadonlyMap<string, z.ZodType> {
  return new Map([...registry].map(([name, scenario]) => [name, scenario.params as z.ZodType]));
}

/** scenario name -> its host check, for the scenarios that have one. */
export function scenarioHostChecks(registry: ScenarioRegistry = SCENARIOS): ReadonlyMap<string, HostCheck> {
  return new Map(
    [...registry].flatMap(([name, scenario]) => {
      const check = scenario.checkHost;
      return check ? [[name, ((host, params, profilesDir) => check.call(scenario, host, params, profilesDir)) as HostCheck] as const] : [];
    }),
  );
}

/** Every job starts by recording the host's environment for its manifest. */
export const PROVENANCE_PHASE: PhaseSpec = { name: 'provenance', helper: 'provenance', timeoutMs: 120_000 };
