// The one connector factory: the host's inventory settings pick the transport. Everything that
// talks to hosts (sweeps, confirmation re-runs, `check`, the reports host) gets its connector here.
import type { HostSpec } from '../inventory/types.js';
import type { Connector } from './types.js';
import { LocalConnector } from './local/local-connector.js';
import { SshConnector, type HostKeyPolicy } from './ssh/ssh-connector.js';
import { KnownHosts } from './ssh/known-hosts.js';

export type { HostKeyPolicy };

/** A connector for the host: SSH (host keys checked under `policy`), or local (`connection: local`; no host key applies). */
export function connectorFor(host: HostSpec, policy: HostKeyPolicy): Connector {
  if (host.connection.transport === 'local') return new LocalConnector(host.name);
  return new SshConnector(host.name, host.connection, policy);
}

/** The inventory's known_hosts under the sweep's policy: keys of new hosts recorded only with `acceptNew`. */
export async function hostKeyPolicy(knownHostsFile: string, acceptNew: boolean): Promise<HostKeyPolicy> {
  return { knownHosts: await KnownHosts.load(knownHostsFile), acceptNew };
}
