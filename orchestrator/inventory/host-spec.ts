// Assembles the HostSpec that the rest of the program sees: the merged layers, the resolved
// connection and the validated scenario requests, with built-in defaults for the rest.

import { DEFAULTS } from './defaults.js';
import type { MergedHost } from './layering.js';
import type { ResolvedConnections } from './connection.js';
import { positionOf, sharedPositionOf } from './positions.js';
import type { YamlSource } from './parse-yaml.js';
import type { ProfileSet } from './profiles.js';
import type { HostSpec, ProfileChoice, Role, ScenarioRequest, SourcePosition } from './types.js';

type Endpoint = NonNullable<ReturnType<ResolvedConnections['endpoints']['get']>>;

export function hostSpec(
  host: MergedHost,
  endpoint: Endpoint,
  scenarios: ScenarioRequest[],
  source: YamlSource,
  profiles: ProfileSet,
): HostSpec {
  const { settings } = host;
  const { profile, choice } = chooseProfile(host, profiles, source);
  const vars: Record<string, string> = {};
  const varPositions: Record<string, SourcePosition> = {};
  for (const [key, entry] of host.vars) {
    setOwn(vars, key, String(entry.value));
    setOwn(varPositions, key, sharedPositionOf(source, entry.path, 'value'));
  }
  const roles = settings.roles?.value ?? [];
  const timeouts = {
    connectMs: host.timeouts.connect?.value ?? DEFAULTS.connectMs,
    phaseMs: host.timeouts.phase?.value ?? DEFAULTS.phaseMs,
    jobMs: host.timeouts.job?.value ?? DEFAULTS.jobMs,
    stallMs: host.timeouts.stall?.value ?? DEFAULTS.stallMs,
  };
  return {
    name: host.name,
    connection: {
      ...endpoint,
      connectTimeoutMs: timeouts.connectMs,
      keepaliveIntervalMs: settings.keepalive?.value ?? DEFAULTS.keepaliveMs,
      retries: settings.retries?.value ?? DEFAULTS.retries,
    },
    roles: roles.length < 2 ? [...roles] : [...new Set<Role>(roles)],
    groups: host.groups,
    profile,
    profileChoice: choice,
    scenarios,
    vars,
    varPositions,
    timeouts,
    remoteDir: settings.remote_dir?.value ?? DEFAULTS.remoteDir,
    position: positionOf(source, ['hosts', host.name], 'key'),
  };
}

/** record[key] = value, as an own property even for a key such as __proto__ (a valid var name). */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/** A directory named after the host wins, then the inventory's profile, then "default". */
function chooseProfile(host: MergedHost, profiles: ProfileSet, source: YamlSource): { profile: string; choice: ProfileChoice } {
  const named = host.settings.profile;
  const inventoryProfile = named ? { name: named.value, position: sharedPositionOf(source, named.path, 'value') } : undefined;
  const withInventory = inventoryProfile ? { inventoryProfile } : {};
  if (profiles.names?.has(host.name)) return { profile: host.name, choice: { reason: 'host-name', ...withInventory } };
  if (inventoryProfile) return { profile: inventoryProfile.name, choice: { reason: 'inventory', ...withInventory } };
  return { profile: DEFAULTS.profile, choice: { reason: 'default' } };
}
