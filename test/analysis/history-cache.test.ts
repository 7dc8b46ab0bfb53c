// The history cache (analysis/history-cache.ts) changes how much loading the histories reads,
// never what they are: a load through it is the load through the index alone, after a job's
// metrics are rewritten (through the store, or in place), a job is added, a sweep is removed;
// and a damaged cache is a load from the index.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHistory } from '../../orchestrator/analysis/history.js';
import { HISTORY_CACHE } from '../../orchestrator/analysis/history-cache.js';
import { SweepStore, jobPaths, readJobManifest, readJobMetrics, readSweepManifest } from '../../orchestrator/results/store.js';
import { TEST_FIXTURE, writeFixtureSweep, type FixtureOptions } from '../site/fixture-store.js';

const FIXTURE: FixtureOptions = { ...TEST_FIXTURE, seriesPoints: 20 };

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'history-cache-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

type Loaded = Awaited<ReturnType<typeof loadHistory>>;

/** Loads through the cache twice (the second from what the first wrote) and checks both against a load without it. */
async function assertCachedIsFull(results: string, site: string, what: string): Promise<Loaded> {
  const full = await loadHistory(results);
  assert.equal(await loadHistory(results, { cacheDir: site }), full, `${what}: the load that updates the cache`);
  assert.equal(await loadHistory(results, { cacheDir: site }), full, `${what}: the load from the updated cache`);
  return full;
}

function valueOf(loaded: Loaded, sweepId: string, jobId: string, metric: string): number | undefined {
  return loaded.histories.find((h) => h.key.metric === metric && h.key.host === jobId.split('--')[0])?.points.find((p) => p.sweepId === sweepId && p.jobId === jobId)?.value;
}

test('a load through the cache is the load from the index, after every change the store makes', async () => {
  const results = join(work, 'changes', 'results');
  const site = join(work, 'changes', 'site');
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(await writeFixtureSweep(results, i, FIXTURE));
  const first = await assertCachedIsFull(results, site, 'first');
  assert.ok(first.histories.length > 0 && (await stat(join(site, HISTORY_CACHE))).size > 0);

  // a job's metrics rewritten through the store
  const metrics = (await readJobMetrics(results, ids[1]!, 'node-a--sysinfo'))!;
  const metric = metrics.samples[0]!.metric;
  await new SweepStore(results, ids[1]!).writeMetrics('node-a--sysinfo', { samples: metrics.samples.map((s) => ({ ...s, value: s.value + 1000 })), series: metrics.series });
  const rewritten = await assertCachedIsFull(results, site, 'metrics rewritten');
  assert.is(valueOf(rewritten, ids[1]!, 'node-a--sysinfo', metric), metrics.samples[0]!.value + 1000);

  // the same file edited in place (its directory unchanged): still seen
  const file = jobPaths(results, ids[2]!, 'node-b--sysinfo').metrics;
  const before = JSON.parse(await readFile(file, 'utf8')) as { samples: { value: number }[] };
  before.samples[0]!.value += 5000;
  await new Promise((r) => setTimeout(r, 20));
  await writeFile(file, JSON.stringify(before));
  const inPlace = await assertCachedIsFull(results, site, 'metrics edited in place');
  assert.is.not(JSON.stringify(inPlace), JSON.stringify(rewritten));

  // a job added to an ended sweep
  const manifest = await readJobManifest(results, ids[3]!, 'node-a--sysinfo');
  const store = new SweepStore(results, ids[3]!);
  const added = 'node-z--sysinfo';
  await store.writeMetrics(added, metrics);
  await store.writeJobManifest({ ...manifest, jobId: added, host: { ...manifest.host, name: 'node-z' } });
  const sweep = await readSweepManifest(results, ids[3]!);
  await store.writeSweepManifest({ ...sweep, jobs: [...sweep.jobs, { jobId: added, host: 'node-z', scenario: 'sysinfo', status: 'ok' }] });
  const withJob = await assertCachedIsFull(results, site, 'job added');
  assert.ok(withJob.histories.some((h) => h.key.host === 'node-z'), 'the added job is in the histories');

  // a whole sweep removed
  await rm(join(results, 'sweeps', ids[0]!), { recursive: true });
  const removed = await assertCachedIsFull(results, site, 'sweep removed');
  assert.ok(removed.histories.every((h) => h.points.every((p) => p.sweepId !== ids[0])));
});

test('a damaged, foreign or other-version cache is a load from the index', async () => {
  const results = join(work, 'damaged', 'results');
  const site = join(work, 'damaged', 'site');
  for (let i = 0; i < 2; i++) await writeFixtureSweep(results, i, FIXTURE);
  const full = await assertCachedIsFull(results, site, 'first');
  const path = join(site, HISTORY_CACHE);
  const good = await readFile(path, 'utf8');
  const parsed = JSON.parse(good) as { sweeps: Record<string, { points: number[] }>; series: unknown[] };
  const [sweepId] = Object.keys(parsed.sweeps);
  const lying = structuredClone(parsed);
  lying.sweeps[sweepId!]!.points[2] = -1;
  const outOfRange = structuredClone(parsed);
  outOfRange.sweeps[sweepId!]!.points[0] = parsed.series.length + 10;
  for (const [what, text] of [
    ['torn', good.slice(0, good.length / 2)],
    ['not JSON', 'garbage'],
    ['another version', good.replace('orchestrate/site-history@1', 'orchestrate/site-history@0')],
    ['another store', JSON.stringify({ ...lying, resultsDir: '/elsewhere' })],
    ['an index out of range', JSON.stringify(outOfRange)],
    ['invalid', JSON.stringify({ ...parsed, units: [['ms', 'sideways']] })],
    ['a point not a number', JSON.stringify({ ...parsed, sweeps: { ...parsed.sweeps, [sweepId!]: { ...parsed.sweeps[sweepId!], points: parsed.sweeps[sweepId!]!.points.map((p, i) => (i === 2 ? String(p) : p)) } } })],
    ['a label not a text', JSON.stringify({ ...parsed, series: parsed.series.map((s) => [...(s as unknown[]).slice(0, 3), { core: 1 }]) })],
    ['a series of three fields', JSON.stringify({ ...parsed, series: parsed.series.map((s) => (s as unknown[]).slice(0, 3)) })],
    ['a job of two fields', JSON.stringify({ ...parsed, sweeps: { ...parsed.sweeps, [sweepId!]: { ...parsed.sweeps[sweepId!], jobs: [['j', '2025-01-01T00:00:00.000Z']] } } })],
    ['no problems list', JSON.stringify({ ...parsed, sweeps: { ...parsed.sweeps, [sweepId!]: { ...parsed.sweeps[sweepId!], problems: undefined } } })],
  ] as const) {
    await writeFile(path, text);
    assert.equal(await loadHistory(results, { cacheDir: site }), full, what);
  }
});

test.run();
