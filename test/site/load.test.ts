// The site's loading of the store, through the store's door: the bounded mapper (p-map), a scan
// that refuses a sweep.json naming a job outside the store, and a job whose metrics are missing,
// damaged or of a version this orchestrator cannot read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobPaths, sweepPaths } from '../../orchestrator/results/store.js';
import { loadJob, mapLimit, scanStore } from '../../orchestrator/site/load.js';
import { TEST_FIXTURE, writeFixtureSweep } from './fixture-store.js';

test('mapLimit keeps the order of the items and never runs more than the limit at once', async () => {
  let running = 0;
  let most = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n, i) => {
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, n * 3));
    running--;
    return `${i}:${n}`;
  });
  assert.equal(out, ['0:5', '1:1', '2:4', '3:2', '4:3', '5:0']);
  assert.is(most, 2);
  assert.equal(await mapLimit([], 4, async () => 1), []);
  const failed = await mapLimit([1, 2], 2, async (n) => {
    if (n === 2) throw new Error('two');
    return n;
  }).then(() => undefined, (e: unknown) => e);
  assert.match(String(failed), /two/);
});

test('a scan reads each sweep and job through the store; a job id that is not one is a problem, never a path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'site-load-'));
  try {
    const sweepId = await writeFixtureSweep(dir, 0, TEST_FIXTURE);
    const sweepFile = sweepPaths(dir, sweepId).manifest;
    const manifest = JSON.parse(await readFile(sweepFile, 'utf8'));
    manifest.jobs.push({ jobId: '../../../etc', host: 'x', scenario: 'sysinfo', status: 'ok' });
    await writeFile(sweepFile, JSON.stringify(manifest));
    const scan = await scanStore(dir);
    assert.equal(scan.sweeps[0]!.jobs.map((j) => j.jobId), ['node-a--sysinfo', 'node-b--sysinfo', 'node-c--sysinfo', 'node-c--midolman']);
    assert.is(scan.sweeps[0]!.jobs[0]!.dir, jobPaths(dir, sweepId, 'node-a--sysinfo').dir);
    assert.equal(scan.problems.map((p) => p.path), [sweepFile]);
    assert.match(scan.problems[0]!.message, /names a job "\.\.\/\.\.\/\.\.\/etc", which is not a job id/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a job without metrics has none and no problem; damaged or unknown-version metrics are a problem of that file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'site-load-'));
  try {
    const sweepId = await writeFixtureSweep(dir, 0, TEST_FIXTURE);
    const [ref] = (await scanStore(dir)).sweeps[0]!.jobs;
    const metrics = jobPaths(dir, sweepId, ref!.jobId).metrics;
    const good = await loadJob(dir, ref!);
    assert.ok(good.metrics && good.manifest);
    assert.equal(good.problems, []);
    await rm(metrics);
    const none = await loadJob(dir, ref!);
    assert.is(none.metrics, null);
    assert.equal(none.problems, []);
    await writeFile(metrics, '{"schema":');
    const torn = await loadJob(dir, ref!);
    assert.equal(torn.problems.map((p) => p.path), [metrics]);
    assert.match(torn.problems[0]!.message, /^not valid JSON/);
    await writeFile(metrics, JSON.stringify({ schema: 'orchestrate/metrics@7', samples: [], series: [] }));
    const newer = await loadJob(dir, ref!);
    assert.is(newer.metrics, null);
    assert.match(newer.problems[0]!.message, /^was written by a newer orchestrator \(orchestrate\/metrics@7\)/);
    assert.ok(newer.manifest, 'the manifest is still read');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
