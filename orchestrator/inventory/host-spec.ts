// Assembles the HostSpec that the rest of the program sees: the merged layers, the resolved
// connection and the validated scenario requests, with built-in defaults for the rest.

import { DEFAULTS } from './defaults.js';
import type { MergedHost } from './layering.js';
import type { ResolvedConnections } from './connection.js';
import { positionOf } from './positions.js';
import type { YamlSource } from './parse-yaml.js';
import type { HostSpec, Role, ScenarioRequest } from './types.js';

type Endpoint = NonNullable<ReturnType<ResolvedConnections['endpoints']['get']>>;

export function hostSpec(
  host: MergedHost,
  endpoint: Endpoint,
  scenarios: ScenarioRequest[],
  source: YamlSource,
): HostSpec {
  const { settings } = host;
  const timeouts = {
    connectMs: host.timeouts.connect?.value ?? DEFAULTS.connectMs,
    phaseMs: host.timeouts.phase?.value ?? DEFAULTS.phaseMs,
    jobMs: host.timeouts.job?.value ?? DEFAULTS.jobMs,
  };
  return {
    name: host.name,
    connection: {
      ...endpoint,
      connectTimeoutMs: timeouts.connectMs,
      keepaliveIntervalMs: settings.keepalive?.value ?? DEFAULTS.keepaliveMs,
      retries: settings.retries?.value ?? DEFAULTS.retries,
    },
    roles: [...new Set<Role>(settings.roles?.value ?? [])],
    groups: host.groups,
    profile: settings.profile?.value ?? DEFAULTS.profile,
    scenarios,
    vars: Object.fromEntries([...host.vars].map(([key, entry]) => [key, String(entry.value)])),
    timeouts,
    remoteDir: settings.remote_dir?.value ?? DEFAULTS.remoteDir,
    position: positionOf(source, ['hosts', host.name], 'key'),
  };
}
