// Host settings layered like Ansible variables: defaults < groups (parents before children,
// groups at the same depth by name) < the host itself. Scalars and lists replace; vars,
// timeouts and scenarios merge key by key; a scenario's params merge shallowly and `false`
// removes a scenario an outer layer added. Every merged value remembers where it was written.

import { groupsOfHost, layerOrder } from './groups.js';
import type { GroupGraph } from './groups.js';
import type { DocPath } from './positions.js';
import type { HostLayer, InventoryFile } from './schema.js';

/** A value and the document path of the node it was read from. */
export interface Sourced<T> {
  value: T;
  path: DocPath;
}

/** One layer of host settings and the path of the mapping that holds them. */
export interface Layer {
  path: DocPath;
  values: HostLayer;
}

type MapKey = 'vars' | 'timeouts' | 'scenarios';
type ScalarKey = Exclude<keyof HostLayer, MapKey>;
export type MergedScalars = { [K in ScalarKey]?: Sourced<NonNullable<HostLayer[K]>> };

export interface MergedScenario {
  name: string;
  /** Path of the key that named the scenario in the winning (innermost) layer. */
  path: DocPath;
  /** Parameters, each with the path of its key. */
  params: Map<string, Sourced<unknown>>;
}

export interface MergedHost {
  name: string;
  /** Every group containing the host, directly or through nesting, sorted. */
  groups: string[];
  settings: MergedScalars;
  vars: Map<string, Sourced<string | number | boolean>>;
  timeouts: { connect?: Sourced<number>; phase?: Sourced<number>; job?: Sourced<number> };
  scenarios: Map<string, MergedScenario>;
}

const SCALAR_KEYS = [
  'address',
  'port',
  'user',
  'identity_file',
  'agent',
  'jump',
  'roles',
  'profile',
  'retries',
  'keepalive',
  'remote_dir',
] as const satisfies readonly ScalarKey[];

/** The layers that apply to a host, outermost first. */
export function layersOfHost(file: InventoryFile, graph: GroupGraph, host: string): Layer[] {
  const layers: Layer[] = [];
  if (file.defaults) layers.push({ path: ['defaults'], values: file.defaults });
  for (const group of layerOrder(graph, groupsOfHost(graph, host))) {
    const vars = file.groups?.[group]?.vars;
    if (vars) layers.push({ path: ['groups', group, 'vars'], values: vars });
  }
  const own = file.hosts?.[host];
  if (own) layers.push({ path: ['hosts', host], values: own });
  return layers;
}

export function mergeLayers(name: string, groups: string[], layers: readonly Layer[]): MergedHost {
  const merged: MergedHost = { name, groups, settings: {}, vars: new Map(), timeouts: {}, scenarios: new Map() };
  for (const { path, values } of layers) {
    for (const key of SCALAR_KEYS) {
      const value = values[key];
      if (value !== undefined) (merged.settings as Record<string, Sourced<unknown>>)[key] = { value, path: [...path, key] };
    }
    for (const [key, value] of Object.entries(values.vars ?? {})) {
      merged.vars.set(key, { value, path: [...path, 'vars', key] });
    }
    for (const key of ['connect', 'phase', 'job'] as const) {
      const value = values.timeouts?.[key];
      if (value !== undefined) merged.timeouts[key] = { value, path: [...path, 'timeouts', key] };
    }
    for (const [scenario, params] of Object.entries(values.scenarios ?? {})) {
      const scenarioPath = [...path, 'scenarios', scenario];
      if (params === false) {
        merged.scenarios.delete(scenario);
        continue;
      }
      const previous = merged.scenarios.get(scenario);
      const entry: MergedScenario = { name: scenario, path: scenarioPath, params: new Map(previous?.params) };
      for (const [key, value] of Object.entries(params ?? {})) {
        entry.params.set(key, { value, path: [...scenarioPath, key] });
      }
      // Map.set keeps the order in which scenarios were first named.
      merged.scenarios.set(scenario, entry);
    }
  }
  return merged;
}
