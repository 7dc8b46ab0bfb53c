// Diagnostic variants (BENCH_FLEET_DIAG=1): pieces of the orchestrator's work and of the floor, to
// see where the orchestrator's time goes. Not peers, not in the targets.
//
//   diag-ssh2-connect      ssh2: connect, end                             (the floor's connect alone)
//   diag-orch-connect      SshConnector: connect, close                   (our connect alone)
//   diag-orch-push         SshConnector: connect, pushBundle, close       (our push, no phase)
//   diag-orch-push-exec    ... + connector.run("bash -c 'true'")          (2 execs, no agent)
//   diag-ssh2-2exec        ssh2: exec 1 unpacks the bundle, exec 2 runs bash -c 'true' (the floor with 2 execs)
//   diag-orch-1exec        SshConnector: ONE exec that installs the bundle when missing (it is always
//                          sent on stdin) and then execs `orchestrate-agent run` of bench-noop; the
//                          events are read until the exit event as runPhase does. What merging
//                          pushBundle into the phase's exec would give.
//   diag-orch-nodelay      the orchestrator method with TCP_NODELAY set on the connection
//   diag-orch-1exec-nodelay  diag-orch-1exec with TCP_NODELAY
//   diag-ssh2-nodelay      the bare ssh2 floor with TCP_NODELAY
import PQueue from 'p-queue';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { KnownHosts } from '../../../orchestrator/connectors/ssh/known-hosts.js';
import { command } from '../../../orchestrator/connectors/shell-command.js';
import { remoteLayout } from '../../../orchestrator/remote/layout.js';
import { pushBundle } from '../../../orchestrator/remote/push-bundle.js';
import { TextTail, agentStatusIn } from '../../../orchestrator/remote/remote-events.js';
import type { LabHost } from '../../lab/lab.js';
import { ssh2Session, type Ssh2Exec } from './bare-ssh2.js';
import { TRIVIAL_PHASE } from './cli-tools.js';
import { BENCH_HELPER, CountingConnector, labConnection, runOrchestrator, verifyPhases } from './orchestrator.js';
import type { FleetTarget, Method, MethodRun } from './types.js';

async function inProcess(target: FleetTarget, perHost: (host: LabHost) => Promise<void>): Promise<MethodRun> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const queue = new PQueue({ concurrency: target.n });
  await Promise.all(target.hosts.map((h) => queue.add(() => perHost(h))));
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wallS, cpuS: (cpu.user + cpu.system) / 1e6, cpuOf: 'bench process (process.cpuUsage)' };
}

function ssh2Variant(id: string, label: string, execs: (target: FleetTarget, remoteDir: string) => Ssh2Exec[], noBundleCheck: boolean, noDelay = false): Method {
  return {
    id,
    label,
    noBundleCheck,
    bundleDir: (remoteDir) => remoteDir,
    async run(target, remoteDir) {
      const key = await readFile(target.lab.clientKey);
      const steps = execs(target, remoteDir);
      return inProcess(target, async (host) => {
        const codes = await ssh2Session(host, key, steps, noDelay);
        if (codes.some((c) => c !== 0)) throw new Error(`${id}: ${host.name} exited ${codes.join(',')}`);
      });
    },
  };
}

type Step = (connector: CountingConnector, target: FleetTarget, remoteDir: string, host: LabHost) => Promise<void>;

function orchVariant(id: string, label: string, steps: Step[], noBundleCheck: boolean, noDelay = false): Method {
  return {
    id,
    label,
    noBundleCheck,
    bundleDir: (remoteDir, bundle) => remoteLayout(remoteDir).bundleDir(bundle.hash),
    async run(target, remoteDir) {
      const t0 = performance.now();
      const knownHosts = await KnownHosts.load(target.lab.knownHostsFile);
      const policy = { knownHosts, acceptNew: false };
      const run = await inProcess(target, async (host) => {
        const connector = new CountingConnector(host.name, labConnection(target, host), policy);
        connector.noDelay = noDelay;
        try {
          await connector.connect();
          for (const step of steps) await step(connector, target, remoteDir, host);
        } finally {
          await connector.close();
        }
      });
      return { ...run, wallS: (performance.now() - t0) / 1000 };
    },
  };
}

const push: Step = async (connector, target, remoteDir) => {
  await pushBundle(connector, remoteLayout(remoteDir), target.bundle);
};

const trivial: Step = async (connector) => {
  const r = await connector.run(command(['bash', '-c', 'true']));
  // exitCode null is the lost exit status (see orchestrator.ts); anything else is a failure.
  if (r.exitCode !== 0 && r.exitCode !== null) throw new Error(`${connector.hostName}: ${TRIVIAL_PHASE} exited ${r.exitCode}`);
};

const ENSURE_AND_RUN = `set -eu
b="$1/bundles/$2"
if [ -f "$b/.complete" ]; then cat >/dev/null; else
mkdir -p "$1/bundles"
t="$b.partial.$$"
rm -rf "$t"
mkdir -p "$t"
gzip -dc | tar -xf - -C "$t"
: > "$t/.complete"
mv -T "$t" "$b" 2>/dev/null || rm -rf "$t"
fi
shift 2
exec bash "$b/remote-scripts/orchestrate-agent" "$b" run "$@"`;

const ensureAndRun: Step = async (connector, target, remoteDir, host) => {
  const layout = remoteLayout(remoteDir);
  const text = command(['sh', '-c', ENSURE_AND_RUN, 'orchestrate-bundle', layout.root, target.bundle.hash, layout.jobDir('bench', `${host.name}--noop`), 'noop', '60', '0', '--', BENCH_HELPER]);
  const channel = await connector.exec(text);
  const stderr = new TextTail();
  channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  channel.stdout.resume();
  channel.stdin.end(target.bundle.bytes);
  await channel.done;
  // The phase's status is the agent's rc line on stderr, as run-phase reads it.
  const status = agentStatusIn(stderr.toString(), ['rc'] as const);
  if (!status) throw new Error(`${host.name}: ended without a recorded status: ${stderr.toString().trim()}`);
  const code = status.code;
  if (code !== 0) throw new Error(`${host.name}: bench-noop exited ${code}`);
};

export const DIAGNOSTICS: Method[] = [
  ssh2Variant('diag-ssh2-connect', 'diag: ssh2 connect + end only', () => [], true),
  orchVariant('diag-orch-connect', 'diag: SshConnector connect + close only', [], true),
  orchVariant('diag-orch-push', 'diag: SshConnector + pushBundle (no phase)', [push], false),
  orchVariant('diag-orch-push-exec', "diag: SshConnector + pushBundle + run(bash -c 'true')", [push, trivial], false),
  ssh2Variant(
    'diag-ssh2-2exec',
    "diag: ssh2, exec 1 unpacks, exec 2 bash -c 'true'",
    (target, remoteDir) => [{ command: `mkdir -p ${remoteDir} && tar -xzf - -C ${remoteDir}`, stdin: target.bundle.bytes }, { command: TRIVIAL_PHASE }],
    false,
  ),
  orchVariant('diag-orch-1exec', 'diag: SshConnector, 1 exec: install if missing + agent run', [ensureAndRun], false),
  {
    id: 'diag-orch-nodelay',
    label: 'diag: orchestrator (full) + TCP_NODELAY',
    bundleDir: (remoteDir, bundle) => remoteLayout(remoteDir).bundleDir(bundle.hash),
    run: (target, remoteDir) => runOrchestrator(target, remoteDir, true, true),
    verify: verifyPhases,
  },
  orchVariant('diag-orch-1exec-nodelay', 'diag: 1 exec (install + agent run) + TCP_NODELAY', [ensureAndRun], false, true),
  ssh2Variant(
    'diag-ssh2-nodelay',
    'diag: bare ssh2 floor + TCP_NODELAY',
    (target, remoteDir) => [{ command: `mkdir -p ${remoteDir} && tar -xzf - -C ${remoteDir} && ${TRIVIAL_PHASE}`, stdin: target.bundle.bytes }],
    false,
    true,
  ),
];
