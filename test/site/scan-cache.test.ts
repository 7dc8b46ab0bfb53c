// The site's scan cache (site/scan-cache.ts) changes how much a scan reads, never what it finds:
// a scan through it is the full scan of the same store, after every kind of change the store
// makes (a job's metrics rewritten, a job added, raw artifacts pruned, a sweep removed, a job log
// appended in place), and a damaged cache is a full scan.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanStore, type StoreScan } from '../../orchestrator/site/load.js';
import { SCAN_CACHE } from '../../orchestrator/site/scan-cache.js';
import { SweepStore } from '../../orchestrator/results/store.js';
import { readJobManifest, readJobMetrics, readSweepManifest } from '../../orchestrator/results/store.js';
import { pruneResults } from '../../orchestrator/retention/prune-results.js';
import { TEST_FIXTURE, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';

const FIXTURE: FixtureOptions = { ...TEST_FIXTURE, seriesPoints: 20 };

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'site-scan-cache-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

function fps(scan: StoreScan): Map<string, string> {
  return new Map(scan.sweeps.flatMap((s) => s.jobs.map((j) => [j.key, j.fp] as const)));
}

/** Scans through the cache twice (the second one from what the first wrote) and checks both against a scan without it. */
async function assertCachedIsFull(results: string, site: string, what: string): Promise<StoreScan> {
  const full = await scanStore(results);
  assert.equal(await scanStore(results, { cacheDir: site }), full, `${what}: the scan that updates the cache`);
  assert.equal(await scanStore(results, { cacheDir: site }), full, `${what}: the scan from the updated cache`);
  return full;
}

test('a scan through the cache is the full scan, and every change the store makes is seen', async () => {
  const results = join(work, 'changes', 'results');
  const site = join(work, 'changes', 'site');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(await writeFixtureSweep(results, i, FIXTURE));
  const first = await assertCachedIsFull(results, site, 'first');
  assert.ok((await stat(join(site, SCAN_CACHE))).size > 0, 'the cache is written in the output directory');

  // a job's metrics rewritten through the store: that job's fingerprint, and only it, changes
  const store = new SweepStore(results, ids[1]!);
  const metrics = (await readJobMetrics(results, ids[1]!, 'node-a--sysinfo'))!;
  await new Promise((r) => setTimeout(r, 20));
  await store.writeMetrics('node-a--sysinfo', { samples: metrics.samples.map((s) => ({ ...s, value: s.value + 1 })), series: metrics.series });
  const rewritten = await assertCachedIsFull(results, site, 'metrics rewritten');
  const changed = [...fps(rewritten)].filter(([key, fp]) => fps(first).get(key) !== fp).map(([key]) => key);
  assert.equal(changed, [`${ids[1]}/node-a--sysinfo`]);

  // a job added to an ended sweep (a confirmation re-run: its directory, then sweep.json naming it)
  const manifest = await readJobManifest(results, ids[2]!, 'node-b--sysinfo');
  const rerun = 'node-b--sysinfo~rerun1';
  const third = new SweepStore(results, ids[2]!);
  await third.appendJobLog(rerun, 'connect node-b');
  await third.writeJobManifest({ ...manifest, jobId: rerun });
  const sweep = await readSweepManifest(results, ids[2]!);
  await third.writeSweepManifest({ ...sweep, jobs: [...sweep.jobs, { jobId: rerun, host: 'node-b', scenario: 'sysinfo', status: 'ok' }] });
  const added = await assertCachedIsFull(results, site, 'job added');
  assert.ok(fps(added).has(`${ids[2]}/${rerun}`), 'the added job is scanned');

  // a job's log appended in place (its directory does not change)
  const log = join(results, 'sweeps', ids[0]!, 'jobs', 'node-c--sysinfo', 'orchestrator.log');
  await new Promise((r) => setTimeout(r, 20));
  await writeFile(log, `${await readFile(log, 'utf8')}one more line\n`);
  const appended = await assertCachedIsFull(results, site, 'log appended');
  assert.is.not(fps(appended).get(`${ids[0]}/node-c--sysinfo`), fps(added).get(`${ids[0]}/node-c--sysinfo`));

  // raw artifacts pruned (raw/ renamed away, pruned.json written): the phases' logs are gone
  const pruned = await pruneResults({ resultsDir: results, maxRawBytes: 0 });
  assert.ok(pruned.jobs.length > 0, 'something was pruned');
  const afterPrune = await assertCachedIsFull(results, site, 'raw pruned');
  const prunedJob = afterPrune.sweeps.flatMap((s) => s.jobs).find((j) => j.key === `${pruned.jobs[0]!.sweepId}/${pruned.jobs[0]!.jobId}`)!;
  assert.ok(!prunedJob.logs.some((l) => l.name.endsWith('.output.log.txt')), 'no phase log of a pruned job');

  // a whole sweep removed from the store
  await rm(join(results, 'sweeps', ids[0]!), { recursive: true });
  const removed = await assertCachedIsFull(results, site, 'sweep removed');
  assert.equal(removed.sweeps.map((s) => s.sweepId), ids.slice(1));
});

test('a damaged, foreign or other-version cache is a full scan', async () => {
  const results = join(work, 'damaged', 'results');
  const site = join(work, 'damaged', 'site');
  for (let i = 0; i < 2; i++) await writeFixtureSweep(results, i, FIXTURE);
  const full = await assertCachedIsFull(results, site, 'first');
  const path = join(site, SCAN_CACHE);
  const good = await readFile(path, 'utf8');
  const parsed = JSON.parse(good) as { sweeps: Record<string, { jobs: Record<string, string[]> }> };
  const [sweepId] = Object.keys(parsed.sweeps);
  const [jobId] = Object.keys(parsed.sweeps[sweepId!]!.jobs);
  const lying = structuredClone(parsed);
  lying.sweeps[sweepId!]!.jobs[jobId!]![2] = 'not what the files say';
  for (const [what, text] of [
    ['torn', good.slice(0, good.length / 2)],
    ['not JSON', 'garbage'],
    ['another version', good.replace('orchestrate/site-scan@2', 'orchestrate/site-scan@1')],
    ['another store', JSON.stringify({ ...parsed, resultsDir: '/elsewhere' }).replace(JSON.stringify(parsed.sweeps), JSON.stringify(lying.sweeps))],
    ['invalid', JSON.stringify({ ...parsed, sweeps: { [sweepId!]: { manifestId: 1 } } })],
    ['a job of the earlier shape', JSON.stringify({ ...parsed, sweeps: { ...parsed.sweeps, [sweepId!]: { ...parsed.sweeps[sweepId!], jobs: { [jobId!]: { dir: '1:2:3', log: '-', fp: 'x', logs: [] } } } } })],
    ['a log without its name', JSON.stringify({ ...parsed, sweeps: { ...parsed.sweeps, [sweepId!]: { ...parsed.sweeps[sweepId!], jobs: { [jobId!]: ['1:2:3', '-', 'x', 'orchestrator.log'] } } } })],
    ['a manifest not of its schema', JSON.stringify({ ...parsed, sweeps: { ...parsed.sweeps, [sweepId!]: { ...parsed.sweeps[sweepId!], manifest: { schema: 'orchestrate/sweep@1' } } } })],
  ] as const) {
    await writeFile(path, text);
    assert.equal(await scanStore(results, { cacheDir: site }), full, what);
  }
  // the listing is what the store has, whatever the cache lists
  assert.equal((await readdir(join(results, 'sweeps'))).sort(), full.sweeps.map((s) => s.sweepId));
});

test.run();
