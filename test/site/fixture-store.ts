// Generates a results store with the real schemas (manifest.ts, metrics.ts): nightly sweeps of
// sysinfo jobs (host.cpu.busy series + samples), optional midolman-like jobs (made-up
// throughput series labelled by step) and a step change in one host's metric so a
// regression is detected. Deterministic (seeded), fast (plain writes, no fsync).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JOB_SCHEMA, SWEEP_SCHEMA, type JobManifest, type JobStatus, type SweepManifest } from '../../orchestrator/results/manifest.js';
import { METRICS_SCHEMA, type MetricsFile, type MetricSample, type MetricSeries } from '../../orchestrator/results/metrics.js';

export const XSS_SCRIPT = '<script>alert(1)</script>';
export const XSS_ATTR = '"><img src=x onerror=alert(1)>';

export interface FixtureHost {
  name: string;
  /** Directory-safe id used in the job id (defaults to the name). */
  id?: string;
  scenarios: string[];
}

export interface FixtureOptions {
  hosts: FixtureHost[];
  /** First sweep's start. */
  start: Date;
  /** Points of each job's time series. */
  seriesPoints: number;
  /** From this sweep index on, the first host's host.cpu.busy.mean is ~60 % higher (a regression). */
  stepAt?: number;
  /** Put XSS payloads in error messages, output, packages, cmdline and labels. */
  hostile?: boolean;
  /** Sweep index -> job ids that fail. */
  failing?: (sweepIndex: number, host: FixtureHost, scenario: string) => boolean;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sweepIdFor(start: Date, index: number): string {
  const at = new Date(start.getTime() + index * 86_400_000);
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${(0x1000 + index).toString(16)}`;
}

function hostId(host: FixtureHost): string {
  return host.id ?? host.name;
}

function sysinfoMetrics(rand: () => number, sweepIndex: number, hostIndex: number, opts: FixtureOptions, t0: number): MetricsFile {
  const step = opts.stepAt !== undefined && hostIndex === 0 && sweepIndex >= opts.stepAt ? 1.6 : 1;
  const base = (20 + hostIndex) * step;
  const points: [number, number | null][] = [];
  for (let i = 0; i < opts.seriesPoints; i++) {
    const spike = i % 97 === 50 ? 40 : 0;
    const v = Math.min(100, Math.max(0, base + (rand() - 0.5) * 4 + spike));
    points.push([t0 + i, i === 120 ? null : Math.round(v * 100) / 100]);
  }
  const values = points.map(([, v]) => v).filter((v): v is number => v !== null);
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const samples: MetricSample[] = [
    { metric: 'cpu.logical', value: 16, unit: 'count', better: 'none', labels: {} },
    { metric: 'numa.nodes', value: 2, unit: 'count', better: 'none', labels: {} },
    { metric: 'memory.total', value: 68_719_476_736, unit: 'bytes', better: 'none', labels: {} },
    { metric: 'memory.available', value: 60_000_000_000 + Math.round(rand() * 1e8), unit: 'bytes', better: 'none', labels: {} },
    { metric: 'load.1m', value: Math.round((0.5 + rand() * 0.1) * 100) / 100, unit: 'load', better: 'none', labels: {} },
    { metric: 'host.cpu.busy.mean', value: mean, unit: '%', better: 'lower', labels: {} },
    { metric: 'host.cpu.busy.max', value: Math.max(...values), unit: '%', better: 'lower', labels: {} },
  ];
  const series: MetricSeries[] = opts.seriesPoints > 0 ? [{ metric: 'host.cpu.busy', unit: '%', better: 'lower', labels: {}, points }] : [];
  return { schema: METRICS_SCHEMA, samples, series };
}

function midolmanMetrics(rand: () => number, opts: FixtureOptions, t0: number): MetricsFile {
  const samples: MetricSample[] = [];
  const series: MetricSeries[] = [];
  const stepLabel = opts.hostile ? XSS_SCRIPT : '3';
  for (const [i, step] of ['1', '2', stepLabel].entries()) {
    const pps = 1_000_000 * (i + 1) * (0.98 + rand() * 0.04);
    samples.push({ metric: 'throughput.delivered_pps', value: pps, unit: 'pps', better: 'higher', labels: { step } });
    samples.push({ metric: 'latency.p99', value: 80 + i * 15 + rand() * 4, unit: 'us', better: 'lower', labels: { step } });
    const points: [number, number | null][] = [];
    const n = Math.max(10, Math.floor(opts.seriesPoints / 3));
    for (let k = 0; k < n; k++) points.push([t0 + i * n + k, pps * (0.95 + rand() * 0.1)]);
    series.push({ metric: 'throughput.delivered_pps', unit: 'pps', better: 'higher', labels: { step }, points });
  }
  return { schema: METRICS_SCHEMA, samples, series };
}

/** Writes sweep number `index` (0-based) of the store. */
export async function writeFixtureSweep(resultsDir: string, index: number, opts: FixtureOptions): Promise<string> {
  const sweepId = sweepIdFor(opts.start, index);
  const startedAt = new Date(opts.start.getTime() + index * 86_400_000);
  const rand = mulberry32(index * 7919 + 17);
  const dir = join(resultsDir, 'sweeps', sweepId);
  const jobs: SweepManifest['jobs'] = [];
  const counts = { ok: 0, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 };
  let offset = 0;
  for (const [hostIndex, host] of opts.hosts.entries()) {
    for (const scenario of host.scenarios) {
      const jobId = `${hostId(host)}--${scenario}`;
      const jobDir = join(dir, 'jobs', jobId);
      const jobStart = new Date(startedAt.getTime() + 1000 + offset * 50);
      offset++;
      const failed = opts.failing?.(index, host, scenario) ?? false;
      const status: JobStatus = failed ? 'failed' : 'ok';
      counts[failed ? 'failed' : 'ok']++;
      const t0 = Math.floor(jobStart.getTime() / 1000) + 5;
      const metrics = scenario === 'sysinfo' ? sysinfoMetrics(rand, index, hostIndex, opts, t0) : midolmanMetrics(rand, opts, t0);
      const phaseNames = scenario === 'sysinfo' ? ['provenance', 'sysinfo'] : ['provenance', 'setup', 'traffic', 'teardown'];
      let at = jobStart.getTime();
      const phases: JobManifest['phases'] = phaseNames.map((name, i) => {
        const duration = 800 + Math.round(rand() * 3000) + (name === 'traffic' ? 20_000 : 0);
        const p = {
          name,
          helper: name,
          status: failed && i === phaseNames.length - 1 ? ('failed' as const) : ('ok' as const),
          exitCode: failed && i === phaseNames.length - 1 ? 1 : 0,
          startedAt: new Date(at).toISOString(),
          endedAt: new Date(at + duration).toISOString(),
          durationMs: duration,
          reattached: 0,
          ...(failed && i === phaseNames.length - 1 ? { error: opts.hostile ? `exit 1: ${XSS_SCRIPT} ${XSS_ATTR}` : 'exit 1' } : {}),
        };
        at += duration + 100;
        return p;
      });
      const packages: Record<string, string> = { 'openjdk-17-jre-headless': '17.0.13+11-2~deb12u1', 'linux-image-amd64': '6.1.119-1', midolman: index < 100 ? '5.6.2' : '5.6.3', 'qemu-system-x86': '1:7.2+dfsg-7' };
      if (opts.hostile) packages[XSS_SCRIPT] = XSS_ATTR;
      const manifest: JobManifest = {
        schema: JOB_SCHEMA,
        sweepId,
        jobId,
        host: { name: host.name, address: `10.0.0.${10 + hostIndex}`, port: 22, user: 'root', roles: ['midolman'], groups: ['lab'] },
        scenario: { name: scenario, params: scenario === 'sysinfo' ? { sample_seconds: opts.seriesPoints } : { steps: 3, note: opts.hostile ? XSS_ATTR : 'steady' } },
        profile: 'default',
        status,
        startedAt: jobStart.toISOString(),
        endedAt: new Date(at).toISOString(),
        environment: {
          hostname: opts.hostile ? `${host.name}${XSS_SCRIPT}` : host.name,
          collected_at: jobStart.getTime() / 1000,
          os: 'Debian GNU/Linux 12 (bookworm)',
          kernel: { release: index < 3 ? '6.1.0-26-amd64' : '6.1.0-27-amd64', version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1', machine: 'x86_64' },
          cmdline: `BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet isolcpus=2-7${opts.hostile ? ` ${XSS_ATTR}` : ''}`,
          cpu: { model: 'Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz', logical_cpus: 16 },
          memory_kb: 67_108_864,
          packages,
        },
        phases,
        errors: failed ? [{ kind: 'phase-failed', message: opts.hostile ? `helper said ${XSS_SCRIPT} and ${XSS_ATTR}` : 'helper exited with status 1', phase: phaseNames.at(-1)! }] : [],
        artifacts: { status: 'complete', files: 6, bytes: 48_213, rejected: [] },
        metrics: { samples: metrics.samples.length, series: metrics.series.length },
        orchestrator: { version: '0.1.0', node: 'v20.20.2' },
      };
      await mkdir(join(jobDir, 'raw', 'phases', phaseNames.at(-1)!), { recursive: true });
      await writeFile(join(jobDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      await writeFile(join(jobDir, 'metrics.json'), `${JSON.stringify(metrics)}\n`);
      await writeFile(
        join(jobDir, 'orchestrator.log'),
        `${jobStart.toISOString()} connect ${host.name}\n${jobStart.toISOString()} phase ${phaseNames.at(-1)} started\n${opts.hostile ? `${XSS_SCRIPT}\n${XSS_ATTR}\n` : ''}${new Date(at).toISOString()} ${status}\n`,
      );
      await writeFile(join(jobDir, 'raw', 'phases', phaseNames.at(-1)!, 'output.log'), `running ${scenario}\n${opts.hostile ? `${XSS_SCRIPT}\n` : ''}done\n`);
      jobs.push({ jobId, host: host.name, scenario, status });
    }
  }
  const sweep: SweepManifest = {
    schema: SWEEP_SCHEMA,
    sweepId,
    inventory: { file: '/etc/orchestrate/nightly.yaml', sha256: 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12' },
    selection: { limit: [], scenarios: [] },
    startedAt: startedAt.toISOString(),
    endedAt: new Date(startedAt.getTime() + 60_000 + offset * 1000).toISOString(),
    status: counts.failed > 0 ? 'failed' : 'ok',
    jobs,
    counts,
    notes: [],
    orchestrator: { version: '0.1.0', node: 'v20.20.2' },
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'sweep.json'), `${JSON.stringify(sweep, null, 2)}\n`);
  return sweepId;
}

export async function writeFixtureStore(resultsDir: string, sweeps: number, opts: FixtureOptions): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < sweeps; i++) ids.push(await writeFixtureSweep(resultsDir, i, opts));
  return ids;
}

/** The small store the tests use: 3 sysinfo hosts (a regression on the first), one midolman host. */
export const TEST_FIXTURE: FixtureOptions = {
  hosts: [
    { name: 'node-a', scenarios: ['sysinfo'] },
    { name: 'node-b', scenarios: ['sysinfo'] },
    { name: 'node-c', scenarios: ['sysinfo', 'midolman'] },
  ],
  start: new Date('2026-10-01T02:00:00Z'),
  seriesPoints: 300,
  stepAt: 4,
  failing: (i, host, scenario) => i === 4 && host.name === 'node-b' && scenario === 'sysinfo',
};
