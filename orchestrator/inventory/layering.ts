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
  timeouts: { connect?: Sourced<number>; phase?: Sourced<number>; job?: Sourced<number>; stall?: Sourced<number> };
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
  'connection',
] as const satisfies readonly ScalarKey[];

/**
 * The layers that apply to a host, outermost first; `groups` is groupsOfHost(graph, host).
 * Hosts in the same groups share the same Layer objects (and so what mergeLayers makes of them).
 */
export function layersOfHost(file: InventoryFile, graph: GroupGraph, host: string, groups: readonly string[] = groupsOfHost(graph, host)): Layer[] {
  const layers: Layer[] = [...sharedLayers(file, graph, groups)];
  const own = file.hosts?.[host];
  if (own) layers.push({ path: ['hosts', host], values: own });
  return layers;
}

const sharedLayerMemo = new WeakMap<GroupGraph, Map<string, Layer[]>>();

/** defaults and the groups' vars, in the order they apply; once per set of groups. */
function sharedLayers(file: InventoryFile, graph: GroupGraph, groups: readonly string[]): Layer[] {
  let memo = sharedLayerMemo.get(graph);
  if (!memo) sharedLayerMemo.set(graph, (memo = new Map()));
  const key = groups.join('\n');
  let layers = memo.get(key);
  if (!layers) {
    layers = [];
    if (file.defaults) layers.push({ path: ['defaults'], values: file.defaults });
    for (const group of layerOrder(graph, groups)) {
      const vars = file.groups?.[group]?.vars;
      if (vars) layers.push({ path: ['groups', group, 'vars'], values: vars });
    }
    memo.set(key, layers);
  }
  return layers;
}

/** What one layer sets, each value with its path: made once per layer, shared by its hosts. */
interface Contribution {
  scalars: [string, Sourced<unknown>][];
  vars: [string, Sourced<string | number | boolean>][];
  /** Each scenario named, in order: false removes it, else the path of its name and its params. */
  scenarios: [string, false | { path: DocPath; params: [string, Sourced<unknown>][] }][];
}

const contributions = new WeakMap<Layer, Contribution>();

function contributionOf(layer: Layer): Contribution {
  let contribution = contributions.get(layer);
  if (!contribution) {
    // A host's own layer serves that host only: not worth remembering.
    const shared = layer.path[0] !== 'hosts';
    const { path, values } = layer;
    contribution = { scalars: [], vars: [], scenarios: [] };
    for (const key of SCALAR_KEYS) {
      const value = values[key];
      if (value !== undefined) contribution.scalars.push([key, { value, path: [...path, key] }]);
    }
    if (values.vars) {
      for (const [key, value] of Object.entries(values.vars)) contribution.vars.push([key, { value, path: [...path, 'vars', key] }]);
    }
    for (const [scenario, params] of Object.entries(values.scenarios ?? {})) {
      if (params === false) {
        contribution.scenarios.push([scenario, false]);
        continue;
      }
      const scenarioPath = [...path, 'scenarios', scenario];
      const sourced = Object.entries(params ?? {}).map(([key, value]): [string, Sourced<unknown>] => [key, { value, path: [...scenarioPath, key] }]);
      contribution.scenarios.push([scenario, { path: scenarioPath, params: sourced }]);
    }
    if (shared) contributions.set(layer, contribution);
  }
  return contribution;
}

export function mergeLayers(name: string, groups: string[], layers: readonly Layer[]): MergedHost {
  const merged: MergedHost = { name, groups, settings: {}, vars: new Map(), timeouts: {}, scenarios: new Map() };
  for (const layer of layers) {
    const { path, values } = layer;
    const contribution = contributionOf(layer);
    for (const [key, sourced] of contribution.scalars) (merged.settings as Record<string, Sourced<unknown>>)[key] = sourced;
    for (const [key, sourced] of contribution.vars) merged.vars.set(key, sourced);
    for (const key of ['connect', 'phase', 'job', 'stall'] as const) {
      const value = values.timeouts?.[key];
      if (value !== undefined) merged.timeouts[key] = { value, path: [...path, 'timeouts', key] };
    }
    for (const [scenario, named] of contribution.scenarios) {
      if (named === false) {
        merged.scenarios.delete(scenario);
        continue;
      }
      const previous = merged.scenarios.get(scenario);
      const entry: MergedScenario = { name: scenario, path: named.path, params: new Map(previous?.params) };
      for (const [key, sourced] of named.params) entry.params.set(key, sourced);
      // Map.set keeps the order in which scenarios were first named.
      merged.scenarios.set(scenario, entry);
    }
  }
  return merged;
}
