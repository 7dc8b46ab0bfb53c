// `orchestrate check`: after validation, test that every host answers (like a ping): connect
// with the same transport, settings and host-key policy as a sweep, run one trivial command,
// report the time or the reason it failed.
import PQueue from 'p-queue';
import type { HostSpec, Inventory } from '../inventory/types.js';
import type { Connector } from '../connectors/types.js';
import { ConnectError } from '../connectors/connect-errors.js';
import { connectorFor as openConnector, hostKeyPolicy, type HostKeyPolicy } from '../connectors/open-connector.js';
import { command } from '../connectors/shell-command.js';
import { hostText, inertText } from '../inert-text.js';
import { endpointText } from '../inventory/display.js';

export interface HostCheck {
  host: string;
  endpoint: string;
  ok: boolean;
  /** Connect plus one command, in ms. */
  ms: number;
  detail: string;
}

/** One round trip that proves a shell answered (`ok`) and says what it runs on. */
const ANSWER = command(['sh', '-c', 'echo ok; uname -sr']);

export async function checkHosts(
  inventory: Inventory,
  hosts: HostSpec[],
  options: { acceptNewHostKeys: boolean; connectorFor?: (host: HostSpec, policy: HostKeyPolicy) => Connector },
): Promise<HostCheck[]> {
  const policy = await hostKeyPolicy(inventory.knownHostsFile, options.acceptNewHostKeys);
  const connectorFor = options.connectorFor ?? openConnector;
  const queue = new PQueue({ concurrency: Math.max(1, inventory.concurrency) });
  return Promise.all(
    hosts.map((host) =>
      queue.add(async (): Promise<HostCheck> => {
        const endpoint = endpointText(host.connection);
        const started = Date.now();
        const connector = connectorFor(host, policy);
        try {
          await connector.connect();
          const result = await connector.run(ANSWER);
          const lines = result.stdout.trim().split('\n');
          const ok = result.exitCode === 0 && lines[0] === 'ok';
          return { host: host.name, endpoint, ok, ms: Date.now() - started, detail: ok ? hostText(lines[1] ?? '') : `unexpected answer (exit ${result.exitCode}): ${hostText(result.stderr.trim().slice(0, 200))}` };
        } catch (error) {
          const detail = error instanceof ConnectError ? error.message.replace(`${host.name}: `, '') : (error as Error).message;
          return { host: host.name, endpoint, ok: false, ms: Date.now() - started, detail: inertText(detail) };
        } finally {
          await connector.close();
        }
      }),
    ),
  );
}
