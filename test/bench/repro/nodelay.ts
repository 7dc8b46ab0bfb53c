// Shows what Nagle's algorithm costs the orchestrator's second and later execs on a connection
// (found by the fleet benchmark):
//
//   node --import tsx test/bench/repro/nodelay.ts
//
// SshConnector leaves TCP_NODELAY off (ssh2's default). The small packets that follow a small
// unacknowledged one (the exec request after a previous exec, the bundle after pushBundle's
// "need" answer) wait for the peer's delayed ACK, ~40 ms on Linux, per step. The same steps with
// client.setNoDelay(true) after connect, on one lab host, 10 times each (median). Lab subnet 209.
import { command } from '../../../orchestrator/connectors/shell-command.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildHelperBundle, projectBundleRoots } from '../../../orchestrator/bundle/build-bundle.js';
import { KnownHosts } from '../../../orchestrator/connectors/ssh/known-hosts.js';
import { SshConnector } from '../../../orchestrator/connectors/ssh/ssh-connector.js';
import { remoteLayout } from '../../../orchestrator/remote/layout.js';
import { pushBundle } from '../../../orchestrator/remote/push-bundle.js';
import { labUp } from '../../lab/lab.js';
import { median } from '../stats.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'repro-nodelay-'));
const lab = await labUp({ subnet: 209, hosts: 1, dir, reports: false });
try {
  const bundle = await buildHelperBundle(projectBundleRoots());
  const knownHosts = await KnownHosts.load(lab.knownHostsFile);
  const h = lab.hosts[0]!;
  for (const noDelay of [false, true]) {
    const c = new SshConnector(
      h.name,
      { address: h.address, port: h.port, user: 'root', identityFiles: [lab.clientKey], jump: [], connectTimeoutMs: 10_000, keepaliveIntervalMs: 15_000, retries: 0 },
      { knownHosts, acceptNew: false },
    );
    await c.connect();
    if (noDelay) (c as unknown as { client: { setNoDelay(on: boolean): void } }).client.setNoDelay(true);
    const need: number[] = [];
    const present: number[] = [];
    const run: number[] = [];
    for (let i = 0; i < 10; i++) {
      const layout = remoteLayout(`repro-nodelay/${noDelay}-${i}`);
      let t = performance.now();
      await pushBundle(c, layout, bundle);
      need.push(performance.now() - t);
      t = performance.now();
      await pushBundle(c, layout, bundle).catch(() => undefined); // may hit the lost exit status
      present.push(performance.now() - t);
      t = performance.now();
      await c.run(command(['bash', '-c', 'true']));
      run.push(performance.now() - t);
    }
    console.log(
      `TCP_NODELAY ${noDelay ? 'on ' : 'off'}: pushBundle (need) ${median(need).toFixed(1)} ms, pushBundle (present) ${median(present).toFixed(1)} ms, run("bash -c 'true'") ${median(run).toFixed(1)} ms`,
    );
    await c.close();
  }
} finally {
  await lab.down();
  await rm(dir, { recursive: true, force: true });
}
