// loadHistory on a small results store written with the store's own writers and schemas.

import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadHistory, seriesKeyId } from '../../orchestrator/analysis/history.js';
import { JOB_SCHEMA, SWEEP_SCHEMA } from '../../orchestrator/results/manifest.js';
import type { JobManifest, JobStatus, SweepManifest } from '../../orchestrator/results/manifest.js';
import { sample } from '../../orchestrator/results/metrics.js';
import type { MetricSample } from '../../orchestrator/results/metrics.js';
import { SweepStore } from '../../orchestrator/results/store.js';

const ORCHESTRATOR = { version: 'test', node: process.version };

function jobManifest(sweepId: string, jobId: string, host: string, scenario: string, status: JobStatus, startedAt: string): JobManifest {
  return {
    schema: JOB_SCHEMA,
    sweepId,
    jobId,
    host: { name: host, address: '127.0.0.1', port: 22, user: 'perf', roles: [], groups: [] },
    scenario: { name: scenario, params: {} },
    profile: 'default',
    status,
    startedAt,
    endedAt: startedAt,
    environment: null,
    phases: [],
    errors: [],
    artifacts: null,
    metrics: null,
    orchestrator: ORCHESTRATOR,
  };
}

function sweepManifest(sweepId: string, startedAt: string): SweepManifest {
  return {
    schema: SWEEP_SCHEMA,
    sweepId,
    inventory: { file: 'lab.yaml', sha256: '0'.repeat(64) },
    selection: { limit: [], scenarios: [] },
    startedAt,
    endedAt: startedAt,
    status: 'ok',
    jobs: [],
    counts: { ok: 0, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 },
    notes: [],
    orchestrator: ORCHESTRATOR,
  };
}

interface JobSpec {
  jobId: string;
  host: string;
  scenario: string;
  status?: JobStatus;
  samples?: MetricSample[];
  /** manifest.build.label */
  build?: string;
}

async function writeSweep(resultsDir: string, sweepId: string, startedAt: string, jobs: JobSpec[]): Promise<SweepStore> {
  const store = new SweepStore(resultsDir, sweepId);
  await store.init();
  await store.writeSweepManifest(sweepManifest(sweepId, startedAt));
  for (const job of jobs) {
    await mkdir(store.jobDir(job.jobId), { recursive: true });
    const manifest = jobManifest(sweepId, job.jobId, job.host, job.scenario, job.status ?? 'ok', startedAt);
    await store.writeJobManifest(job.build ? { ...manifest, build: { label: job.build, package: 'midolman' } } : manifest);
    if (job.samples) await store.writeMetrics(job.jobId, { samples: job.samples, series: [] });
  }
  return store;
}

const S1 = '20260101T030000Z-aaaa';
const S2 = '20260102T030000Z-bbbb';
const S3 = '20260103T030000Z-cccc';

test('histories per (host, scenario, metric, labels), chronological, repeated samples as points, problems reported', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'analysis-history-'));
  try {
    // Written out of order: the store is read by sweep id.
    await writeSweep(dir, S2, '2026-01-02T03:00:00.000Z', [
      { jobId: 'mm1-midolman', host: 'mm1', scenario: 'midolman', samples: [sample('throughput.pps', 1100, 'pps', 'higher'), sample('latency.p99', 9, 'ms', 'lower', { dir: 'rx' })] },
      { jobId: 'mm2-midolman', host: 'mm2', scenario: 'midolman', samples: [sample('throughput.pps', 500, 'pps', 'higher')] },
      { jobId: 'kvm1-kvm', host: 'kvm1', scenario: 'kvm', status: 'failed', samples: [sample('iops', 1, 'ops/s', 'higher')] },
    ]);
    await writeSweep(dir, S1, '2026-01-01T03:00:00.000Z', [
      {
        jobId: 'mm1-midolman',
        host: 'mm1',
        scenario: 'midolman',
        samples: [
          sample('throughput.pps', 1000, 'pps', 'higher'),
          sample('latency.p99', 10, 'ms', 'lower', { dir: 'rx' }),
          sample('latency.p99', 11, 'ms', 'lower', { dir: 'rx' }), // a repeated sample
          sample('latency.p99', 20, 'ms', 'lower', { dir: 'tx' }),
        ],
      },
      { jobId: 'mm2-midolman', host: 'mm2', scenario: 'midolman', samples: [sample('throughput.pps', 400, 'pps', 'higher')] },
      { jobId: 'kvm1-kvm', host: 'kvm1', scenario: 'kvm', samples: [sample('iops', 5000, 'ops/s', 'higher', { fs: 'xfs', cache: 'none' })] },
    ]);
    const s3 = await writeSweep(dir, S3, '2026-01-03T03:00:00.000Z', [
      { jobId: 'mm1-midolman', host: 'mm1', scenario: 'midolman' },
      { jobId: 'mm2-midolman', host: 'mm2', scenario: 'midolman' },
      { jobId: 'kvm1-kvm', host: 'kvm1', scenario: 'kvm', samples: [sample('iops', 5100, 'ops/s', 'higher', { cache: 'none', fs: 'xfs' })] },
    ]);
    await writeFile(join(s3.jobDir('mm1-midolman'), 'metrics.json'), '{"schema": "orchestrate/metrics@1", "samples": [');
    await writeFile(
      join(s3.jobDir('mm2-midolman'), 'metrics.json'),
      JSON.stringify({ schema: 'orchestrate/metrics@1', samples: [{ metric: 'throughput.pps', value: 'fast', unit: 'pps', better: 'higher', labels: {} }], series: [] }),
    );
    await mkdir(join(dir, 'sweeps', 'not-a-sweep', 'jobs'), { recursive: true });

    const { histories, problems } = await loadHistory(dir);

    assert.equal(
      problems.map((problem) => [problem.path, problem.message.split(' (')[0]!.split(': Invalid')[0]]),
      [
        [join(s3.jobDir('mm1-midolman'), 'metrics.json'), 'not valid JSON'],
        [join(s3.jobDir('mm2-midolman'), 'metrics.json'), 'invalid: samples.0.value'],
      ],
    );
    assert.equal(
      histories.map((h) => [h.key.host, h.key.scenario, h.key.metric, h.key.labels, h.unit, h.better, h.points.map((p) => [p.sweepId, p.value])]),
      [
        ['kvm1', 'kvm', 'iops', { cache: 'none', fs: 'xfs' }, 'ops/s', 'higher', [[S1, 5000], [S3, 5100]]],
        ['mm1', 'midolman', 'latency.p99', { dir: 'rx' }, 'ms', 'lower', [[S1, 10], [S1, 11], [S2, 9]]],
        ['mm1', 'midolman', 'latency.p99', { dir: 'tx' }, 'ms', 'lower', [[S1, 20]]],
        ['mm1', 'midolman', 'throughput.pps', {}, 'pps', 'higher', [[S1, 1000], [S2, 1100]]],
        ['mm2', 'midolman', 'throughput.pps', {}, 'pps', 'higher', [[S1, 400], [S2, 500]]],
      ],
    );
    const pps = histories[3]!;
    assert.equal(pps.points[1], { sweepId: S2, jobId: 'mm1-midolman', at: '2026-01-02T03:00:00.000Z', value: 1100 });
    assert.is(pps.keyId, seriesKeyId(pps.key));
    assert.match(pps.keyId, /^[0-9a-f]{12}$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('each point carries the build its job measured; jobs that named none (older manifests) have no build', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'analysis-history-build-'));
  try {
    const pps = (v: number) => [sample('throughput.pps', v, 'pps', 'higher')];
    await writeSweep(dir, S1, '2026-01-01T03:00:00.000Z', [{ jobId: 'mm1-midolman', host: 'mm1', scenario: 'midolman', samples: pps(1000) }]);
    await writeSweep(dir, S2, '2026-01-02T03:00:00.000Z', [{ jobId: 'mm1-midolman', host: 'mm1', scenario: 'midolman', samples: pps(1010), build: 'midolman 5.6.2 (3f2a1c9e)' }]);
    await writeSweep(dir, S3, '2026-01-03T03:00:00.000Z', [{ jobId: 'mm1-midolman', host: 'mm1', scenario: 'midolman', samples: pps(900), build: 'midolman 5.6.3 (8b41d0a7)' }]);
    const { histories, problems } = await loadHistory(dir);
    assert.equal(problems, []);
    assert.equal(histories[0]!.points.map((p) => [p.sweepId, p.build]), [[S1, undefined], [S2, 'midolman 5.6.2 (3f2a1c9e)'], [S3, 'midolman 5.6.3 (8b41d0a7)']]);
    assert.not.ok('build' in histories[0]!.points[0]!, 'no build key at all when the job named none');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('confirmation re-runs (<job>~rerunN) are evidence, never more points of the history', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'history-reruns-'));
  try {
    const busy = (value: number) => [sample('host.cpu.busy', value, '%', 'lower')];
    await writeSweep(dir, S1, '2026-01-01T03:00:00Z', [
      { jobId: 'h1--sysinfo', host: 'h1', scenario: 'sysinfo', samples: busy(1) },
      { jobId: 'h1--sysinfo~rerun1', host: 'h1', scenario: 'sysinfo', samples: busy(2) },
    ]);
    const { histories } = await loadHistory(dir);
    assert.equal(histories.map((h) => h.points.map((p) => [p.jobId, p.value])), [[['h1--sysinfo', 1]]]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('seriesKeyId is stable, ignores label order and tells keys apart', () => {
  const key = { host: 'mm1', scenario: 'midolman', metric: 'latency', labels: { a: '1', b: '2' } };
  assert.is(seriesKeyId(key), seriesKeyId({ ...key, labels: { b: '2', a: '1' } }));
  assert.is.not(seriesKeyId(key), seriesKeyId({ ...key, labels: { a: '1', b: '3' } }));
  assert.is.not(seriesKeyId(key), seriesKeyId({ ...key, host: 'mm2' }));
  assert.is(seriesKeyId({ host: 'h', scenario: 's', metric: 'm', labels: {} }), '38781c7d189b'); // sha1('["h","s","m",[]]')
});

test('an empty or missing results directory has no history and no problem', async () => {
  assert.equal(await loadHistory(join(tmpdir(), 'no-such-results-dir-for-analysis')), { histories: [], problems: [] });
});

test.run();
