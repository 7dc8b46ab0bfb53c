// Benchmark part of section "midolman": the time a job spends on the build under test, apart from
// the measurement. One lab host (subnet 154) with the packaged agent (test/lab/agent-package/);
// jobs alternate v1 and v2 pushed from this machine (local_debs), so every job really upgrades or
// downgrades, restarts the agent and proves the new build runs. Per job:
//   push        the .deb put on the host (job-files event; 0 when the host had it)
//   stop        the agent stopped by cleanup (a running one) and by teardown (agent.stop_at_teardown,
//               the default, as the original did): cleanup.json and teardown.json
//   install     the install phase (apt-get install + the profile's configuration files)
//   agent-start the agent stopped, started, ready (process + its MBeans over JMX), proven
//               (agent-restart.json splits it: stop, start command, ready)
//   added       push + stop + install + agent-start: what a build costs a job
//   measurement topology .. collectors-stop: what the job is for
// Baselines: the same job with no build (the agent only restarted), and with the agent not managed
// at all (no install work, no restart). Traffic is the lab-smoke profile's, so the measurement is
// small and the build's share large: the figures are per job, not a fraction of a nightly run.
//
// Environment: BENCH_MIDOLMAN_BUILD_RUNS=N jobs per kind (default 4).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { acquireAgentInstallLock } from '../lab/agent-package/install-lock.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import type { SectionResult } from './section.js';
import { fixed, markdownTable, median } from './stats.js';

const SUBNET = 154;
const JOB = 'lab-01--midolman';
const RUNS = Math.max(1, Number(process.env['BENCH_MIDOLMAN_BUILD_RUNS'] ?? 4) || 4);
const AGENT = { service: 'midolman', pid_file: '/run/midolman/midolman.pid', jmx_url: 'service:jmx:rmi:///jndi/rmi://127.0.0.1:7200/jmxrmi' };
const MEASUREMENT = ['topology', 'collectors-start', 'warm-up', 'throughput', 'long-running', 'collectors-stop'];

function log(line: string): void {
  process.stderr.write(`[midolman build] ${line}\n`);
}

interface BuildRun {
  kind: 'build' | 'restart only' | 'unmanaged';
  version: string | null;
  push_ms: number;
  uploaded: number;
  stop_ms: number;
  install_ms: number;
  agent_start_ms: number;
  stop_s: number | null;
  start_s: number | null;
  ready_s: number | null;
  added_ms: number;
  measurement_ms: number;
  job_ms: number;
}

async function runJob(lab: Lab, work: string, index: number, kind: BuildRun['kind'], deb?: string): Promise<BuildRun> {
  const results = path.join(work, `results-${index}`);
  const params: Record<string, unknown> = { topology: 'linux_bridge', heap_dump: false };
  if (kind !== 'unmanaged') params['agent'] = AGENT;
  else params['agent'] = { pid_file: AGENT.pid_file, jmx_url: AGENT.jmx_url };
  if (deb) params['build'] = { local_debs: [deb] };
  const inventory = await lab.writeInventory({
    file: path.join(work, `job-${index}.yaml`),
    resultsDir: results,
    scenarios: { midolman: params },
    defaults: { retries: 0 },
    hostExtra: { 'lab-01': { profile: 'lab-smoke' } },
  });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  const { dir } = await onlySweep(results);
  const manifest = await jobManifest(dir, JOB);
  if (code !== 0 || manifest.status !== 'ok') throw new Error(`${kind} job failed (exit ${code}): ${JSON.stringify(manifest.errors)}\n${stdout}\n${stderr}`);
  const phase = (name: string) => manifest.phases.find((p) => p.name === name)?.durationMs ?? 0;
  const events = (await readFile(path.join(dir, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; durationMs?: number; uploaded?: number });
  const files = events.find((e) => e.kind === 'job-files');
  const artifact = async <T>(name: string): Promise<Partial<T>> => {
    try {
      return JSON.parse(await readFile(path.join(dir, 'jobs', JOB, 'raw', 'artifacts', name), 'utf8')) as Partial<T>;
    } catch {
      return {}; // not written by this kind of job
    }
  };
  const restart = await artifact<{ stop_seconds: number; start_seconds: number; ready_seconds: number }>('agent-restart.json');
  const cleanup = await artifact<{ agent_stop_seconds: number | null }>('cleanup.json');
  const teardown = await artifact<{ agent_stop_seconds: number | null }>('teardown.json');
  const push = files?.durationMs ?? 0;
  const stop = Math.round(((cleanup.agent_stop_seconds ?? 0) + (teardown.agent_stop_seconds ?? 0)) * 1000);
  const added = push + stop + phase('install') + phase('agent-start');
  const run: BuildRun = {
    kind,
    version: manifest.build?.version ?? null,
    push_ms: push,
    uploaded: files?.uploaded ?? 0,
    stop_ms: stop,
    install_ms: phase('install'),
    agent_start_ms: phase('agent-start'),
    stop_s: restart.stop_seconds ?? null,
    start_s: restart.start_seconds ?? null,
    ready_s: restart.ready_seconds ?? null,
    added_ms: added,
    measurement_ms: MEASUREMENT.reduce((n, p) => n + phase(p), 0),
    job_ms: Date.parse(manifest.endedAt!) - Date.parse(manifest.startedAt!),
  };
  log(`${kind}${run.version ? ` -> ${run.version}` : ''}: added ${added} ms (push ${push}, stop ${stop}, install ${run.install_ms}, agent-start ${run.agent_start_ms}: stop ${run.stop_s} s, start ${run.start_s} s, ready ${run.ready_s} s); measurement ${run.measurement_ms} ms; job ${run.job_ms} ms`);
  return run;
}

export async function measureBuildCost(): Promise<SectionResult> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-midolman-build-'));
  const release = await acquireAgentInstallLock();
  const runs: BuildRun[] = [];
  let lab: Lab | undefined;
  try {
    lab = await labUp({ subnet: SUBNET, hosts: 1, dir: path.join(work, 'lab'), reports: false, agentRepo: true });
    const pkgs = lab.agentRepo!.packages.packages;
    let i = 0;
    // One unmeasured job first: the JMX collector's classes compiled into the bundle, javac warm.
    await runJob(lab, work, i++, 'build', pkgs.v1.deb);
    for (let r = 0; r < RUNS; r++) runs.push(await runJob(lab, work, i++, 'build', r % 2 === 0 ? pkgs.v2.deb : pkgs.v1.deb));
    for (let r = 0; r < RUNS; r++) runs.push(await runJob(lab, work, i++, 'restart only'));
    // Unmanaged: the agent the last job left running is measured as it is.
    const { execa } = await import('execa');
    await execa('service', ['midolman', 'start']);
    for (let r = 0; r < RUNS; r++) runs.push(await runJob(lab, work, i++, 'unmanaged'));
    await execa('service', ['midolman', 'stop']);
  } finally {
    await lab?.down();
    await release();
    await rm(work, { recursive: true, force: true });
  }
  const kinds: BuildRun['kind'][] = ['build', 'restart only', 'unmanaged'];
  const med = (k: BuildRun['kind'], f: (r: BuildRun) => number | null) => {
    const values = runs.filter((r) => r.kind === k).map(f).filter((v): v is number => v !== null);
    return values.length ? median(values) : null;
  };
  const cell = (v: number | null, digits = 0) => (v === null ? '-' : fixed(v, digits));
  const rows = kinds.map((k) => [
    k,
    cell(med(k, (r) => r.push_ms)),
    cell(med(k, (r) => r.stop_ms)),
    cell(med(k, (r) => r.install_ms)),
    cell(med(k, (r) => r.agent_start_ms)),
    `${cell(med(k, (r) => r.stop_s), 2)} / ${cell(med(k, (r) => r.start_s), 2)} / ${cell(med(k, (r) => r.ready_s), 2)}`,
    cell(med(k, (r) => r.added_ms)),
    cell(med(k, (r) => r.measurement_ms)),
    cell(med(k, (r) => r.job_ms)),
  ]);
  const table = [
    `Build under test, per job (one lab host, the packaged agent stand-in, lab-smoke traffic; medians of ${RUNS} jobs per row, ms unless said; the build rows alternate v2 and v1, so each one upgrades or downgrades and restarts):`,
    '',
    markdownTable(['job', 'push .deb', 'stop (cleanup + teardown)', 'install', 'agent-start', 'agent-start: stop / start / ready (s)', 'added by the build', 'measurement', 'whole job'], rows),
  ].join('\n');
  return { table, json: { runs_per_kind: RUNS, runs } };
}
