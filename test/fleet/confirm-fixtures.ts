// Shared by the confirmation and finish-sweep tests: a results store of nightly sysinfo sweeps
// written with the real schemas (one host.cpu.busy.mean sample per job, lower is better), an
// inventory of those hosts, and a RerunRunner that stores re-runs as the real one does (job
// directories of the sweep, manifests with rerunOf) with values the test chooses; and the request
// a test makes of the sweep engine for such an inventory (sweepRequest).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostSpec, Inventory } from '../../orchestrator/inventory/types.js';
import { JOB_SCHEMA, SWEEP_SCHEMA, type JobManifest, type JobStatus, type SweepManifest } from '../../orchestrator/results/manifest.js';
import { METRICS_SCHEMA, type MetricsFile } from '../../orchestrator/results/metrics.js';
import type { RerunHost, RerunRunner } from '../../orchestrator/fleet/confirm-regressions.js';
import { planSweep } from '../../orchestrator/fleet/plan.js';
import type { SweepRequest } from '../../orchestrator/fleet/sweep.js';

export const METRIC = 'host.cpu.busy.mean';

export function sweepIdOf(night: number): string {
  const at = new Date(Date.UTC(2026, 0, 1) + night * 86_400_000);
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${(0x100 + night).toString(16)}`;
}

export function hostSpec(name: string): HostSpec {
  return {
    name,
    connection: { address: '127.0.0.1', port: 22, user: 'perf', identityFiles: [], jump: [], connectTimeoutMs: 1000, keepaliveIntervalMs: 1000, retries: 0 },
    roles: [],
    groups: [],
    profile: 'default',
    profileChoice: { reason: 'default' },
    scenarios: [{ name: 'sysinfo', params: { sample_seconds: 1 }, position: { file: 'lab.yaml', line: 1, column: 1 } }],
    vars: {},
    varPositions: {},
    timeouts: { connectMs: 1000, phaseMs: 60_000, jobMs: 60_000, stallMs: 60_000 },
    remoteDir: '.orchestrate',
    position: { file: 'lab.yaml', line: 1, column: 1 },
  };
}

export function inventoryOf(resultsDir: string, hosts: string[], extra: Partial<Inventory> = {}): Inventory {
  return {
    file: join(resultsDir, '..', 'lab.yaml'),
    hosts: hosts.map(hostSpec),
    groups: [],
    resultsDir,
    knownHostsFile: join(resultsDir, '..', 'known_hosts'),
    profilesDir: join(resultsDir, '..', 'profiles.d'),
    concurrency: 4,
    ...extra,
  };
}

/** A sweep of every host and scenario of `inventory`, no report or publish, never interrupted; `overrides` last. */
export function sweepRequest(inventory: Inventory, overrides: Partial<SweepRequest> = {}): SweepRequest {
  const selection = { limit: [], scenarios: [] };
  return {
    inventory,
    selection,
    plan: planSweep(inventory, selection),
    acceptNewHostKeys: false,
    report: false,
    publish: false,
    interrupt: new AbortController().signal,
    force: new AbortController().signal,
    ...overrides,
  };
}

export function jobManifest(sweepId: string, jobId: string, host: string, status: JobStatus, startedAt: string, durationMs = 4000): JobManifest {
  return {
    schema: JOB_SCHEMA,
    sweepId,
    jobId,
    host: { name: host, address: '127.0.0.1', port: 22, user: 'perf', roles: [], groups: [] },
    scenario: { name: 'sysinfo', params: {} },
    profile: 'default',
    status,
    startedAt,
    endedAt: new Date(Date.parse(startedAt) + durationMs).toISOString(),
    environment: null,
    phases: [],
    errors: [],
    artifacts: null,
    metrics: status === 'ok' ? { samples: 1, series: 0 } : null,
    orchestrator: { version: '0.1.0', node: process.version },
  };
}

export function metricsOf(value: number): MetricsFile {
  return { schema: METRICS_SCHEMA, samples: [{ metric: METRIC, value, unit: '%', better: 'lower', labels: {} }], series: [] };
}

/** One night: a sweep with a sysinfo job per host; `values[host]` null makes that job fail. */
export async function writeNight(resultsDir: string, night: number, values: Record<string, number | null>): Promise<{ sweepId: string; sweepDir: string }> {
  const sweepId = sweepIdOf(night);
  const sweepDir = join(resultsDir, 'sweeps', sweepId);
  const startedAt = new Date(Date.UTC(2026, 0, 1, 2) + night * 86_400_000).toISOString();
  const jobs: SweepManifest['jobs'] = [];
  for (const [host, value] of Object.entries(values)) {
    const jobId = `${host}--sysinfo`;
    const dir = join(sweepDir, 'jobs', jobId);
    await mkdir(dir, { recursive: true });
    const status: JobStatus = value === null ? 'failed' : 'ok';
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(jobManifest(sweepId, jobId, host, status, startedAt)));
    if (value !== null) await writeFile(join(dir, 'metrics.json'), JSON.stringify(metricsOf(value)));
    jobs.push({ jobId, host, scenario: 'sysinfo', status });
  }
  const failed = jobs.filter((job) => job.status !== 'ok').length;
  const sweep: SweepManifest = {
    schema: SWEEP_SCHEMA,
    sweepId,
    inventory: { file: 'lab.yaml', sha256: '0'.repeat(64) },
    selection: { limit: [], scenarios: [] },
    startedAt,
    endedAt: new Date(Date.parse(startedAt) + 60_000).toISOString(),
    status: failed > 0 ? 'failed' : 'ok',
    jobs,
    counts: { ok: jobs.length - failed, failed, unreachable: 0, interrupted: 0, skipped: 0 },
    notes: [],
    orchestrator: { version: '0.1.0', node: process.version },
  };
  await writeFile(join(sweepDir, 'sweep.json'), JSON.stringify(sweep));
  return { sweepId, sweepDir };
}

export interface FakeRunner {
  runner: RerunRunner;
  calls: RerunHost[];
}

/**
 * Re-runs stored as the real runner stores them, into the sweep `sweepId()` names.
 * `outcome(host, attempt, signal)`: the value the re-run measures, or the status of a re-run that
 * gives none ('unreachable', 'failed', 'interrupted').
 */
export function fakeRunner(
  resultsDir: string,
  sweepId: () => string,
  outcome: (host: string, attempt: number, signal: AbortSignal) => number | JobStatus | Promise<number | JobStatus>,
): FakeRunner {
  const calls: RerunHost[] = [];
  const runner: RerunRunner = async (request, signal) => {
    calls.push(request);
    const statuses = new Map<string, JobStatus>();
    for (const job of request.jobs) {
      const result = await outcome(request.host.name, job.attempt, signal);
      const status: JobStatus = typeof result === 'number' ? 'ok' : result;
      statuses.set(job.plan.jobId, status);
      const dir = join(resultsDir, 'sweeps', sweepId(), 'jobs', job.plan.jobId);
      await mkdir(dir, { recursive: true });
      const manifest = { ...jobManifest(sweepId(), job.plan.jobId, request.host.name, status, new Date().toISOString()), rerunOf: { jobId: job.rerunOf, attempt: job.attempt } };
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
      if (typeof result === 'number') await writeFile(join(dir, 'metrics.json'), JSON.stringify(metricsOf(result)));
    }
    return statuses;
  };
  return { runner, calls };
}
