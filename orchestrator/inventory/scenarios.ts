// Checks each host's merged scenario parameters against the scenario's own zod schema, placing
// every issue on the parameter as written (in whichever layer set it).

import type { z } from 'zod';
import type { InventoryIssue } from './errors.js';
import type { MergedHost, MergedScenario } from './layering.js';
import { sharedPositionOf } from './positions.js';
import type { DocPath } from './positions.js';
import type { YamlSource } from './parse-yaml.js';
import type { ScenarioRequest } from './types.js';
import { explainZodIssues } from './zod-issues.js';

export interface ScenarioRequests {
  requests: ScenarioRequest[];
  issues: InventoryIssue[];
}

export function scenarioRequests(
  host: MergedHost,
  registry: ReadonlyMap<string, z.ZodType>,
  source: YamlSource,
): ScenarioRequests {
  const requests: ScenarioRequest[] = [];
  const issues: InventoryIssue[] = [];
  for (const scenario of host.scenarios.values()) {
    const schema = registry.get(scenario.name);
    if (!schema) continue; // unknown names are reported where they are written
    const input = Object.fromEntries([...scenario.params].map(([key, param]) => [key, param.value]));
    const result = schema.safeParse(input);
    if (!result.success) {
      issues.push(
        ...explainZodIssues(result.error.issues, {
          source,
          schema,
          input,
          docPath: (path) => paramPath(scenario, path),
        }),
      );
      continue;
    }
    const params = isRecord(result.data) ? result.data : {};
    requests.push({ name: scenario.name, params, position: sharedPositionOf(source, scenario.path, 'key') });
  }
  return { requests, issues };
}

/** Where the parameter at `path` (relative to the params object) was written. */
function paramPath(scenario: MergedScenario, path: readonly PropertyKey[]): DocPath {
  const [first, ...rest] = path;
  const param = first === undefined ? undefined : scenario.params.get(String(first));
  if (!param) return scenario.path;
  return [...param.path, ...rest.map((segment) => (typeof segment === 'number' ? segment : String(segment)))];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
