// The history index of the results store: maintained as the store writes each job, read in
// place of the job files, and rebuilt from them when missing, stale or damaged (the files are
// the truth). Every case compares the index's answers with a read of the files alone.
import { appendFile, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadHistory } from '../../orchestrator/analysis/history.js';
import { HISTORY_INDEX_SCHEMA, historyIndexDir, readIndexedSweep, readJobEntry } from '../../orchestrator/results/history-index.js';
import type { JobManifest, JobStatus } from '../../orchestrator/results/manifest.js';
import { METRICS_SCHEMA, sample } from '../../orchestrator/results/metrics.js';
import { SweepStore, listSweeps } from '../../orchestrator/results/store.js';
import { jobManifestFixture } from './job-manifest-fixture.js';

const SWEEPS = ['20261101T020000Z-0001', '20261102T020000Z-0002', '20261103T020000Z-0003'];

function manifest(sweepId: string, jobId: string, host: string, status: JobStatus, startedAt: string): JobManifest {
  return jobManifestFixture(sweepId, {
    jobId,
    host: { name: host, address: '127.0.0.1', port: 22, user: 'perf', roles: [], groups: [] },
    status,
    startedAt,
    endedAt: startedAt,
    orchestrator: { version: 'test', node: process.version },
  });
}

/** Three sweeps of three hosts, written by the store as a sweep writes them (metrics, then the final manifest). */
async function storeWith(dir: string): Promise<void> {
  for (const [s, sweepId] of SWEEPS.entries()) {
    const store = new SweepStore(dir, sweepId);
    await store.init();
    for (const host of ['a', 'b', 'c']) {
      const jobId = `${host}--sysinfo`;
      const at = `2026-11-0${s + 1}T02:00:0${host === 'a' ? 1 : 2}.000Z`;
      await store.writeJobManifest(manifest(sweepId, jobId, host, 'running', at));
      await store.writeMetrics(jobId, { samples: [sample('load.1m', s + (host === 'b' ? 10 : 0), 'load', 'lower'), sample('disk.free', 100 - s, 'bytes', 'higher', { dev: `sd${host}` })], series: [] });
      await store.writeJobManifest(manifest(sweepId, jobId, host, host === 'c' && s === 1 ? 'failed' : 'ok', at));
    }
  }
}

/** What a read of the job files alone gives: the history with no index at all, on a copy of the answers. */
async function fromFilesOnly(dir: string) {
  await rm(historyIndexDir(dir), { recursive: true, force: true });
  return loadHistory(dir);
}

async function withStore(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'history-index-'));
  try {
    await storeWith(dir);
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the store indexes each job as it writes it: one shard per sweep, fresh, read without repair', () =>
  withStore(async (dir) => {
    assert.equal((await readdir(historyIndexDir(dir))).sort(), SWEEPS.map((id) => `${id}.jsonl`));
    const first = JSON.parse((await readFile(join(historyIndexDir(dir), `${SWEEPS[0]}.jsonl`), 'utf8')).split('\n')[0]!);
    assert.equal(first, { schema: HISTORY_INDEX_SCHEMA, sweepId: SWEEPS[0] });
    for (const sweepId of SWEEPS) {
      const sweep = await readIndexedSweep(dir, sweepId);
      assert.is(sweep.repaired, false, `${sweepId} was indexed as it was stored`);
      assert.equal(sweep.jobs.map((j) => j.jobId), ['a--sysinfo', 'b--sysinfo', 'c--sysinfo']);
    }
    const failed = (await readIndexedSweep(dir, SWEEPS[1]!)).jobs.find((j) => j.jobId === 'c--sysinfo');
    assert.is(failed?.kind, 'skipped', 'a failed job is not history');
  }));

test('a job is indexed once, from the final manifest the store writes: its metrics and running manifests add no entry', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'history-index-'));
  try {
    const sweepId = SWEEPS[0]!;
    const store = new SweepStore(dir, sweepId);
    await store.init();
    const at = '2026-11-01T02:00:01.000Z';
    await store.writeJobManifest(manifest(sweepId, 'a--sysinfo', 'a', 'running', at));
    await store.writeMetrics('a--sysinfo', { samples: [sample('load.1m', 1, 'load', 'lower')], series: [] });
    const shard = join(historyIndexDir(dir), `${sweepId}.jsonl`);
    assert.is(await stat(shard).then(() => true, () => false), false, 'nothing indexed while the job runs');
    const final = manifest(sweepId, 'a--sysinfo', 'a', 'ok', at);
    await store.writeJobManifest(final);
    const lines = (await readFile(shard, 'utf8')).trim().split('\n');
    assert.is(lines.length, 2, 'a header and one entry');
    const entry = JSON.parse(lines[1]!);
    assert.equal([entry.kind, entry.host, entry.at], ['history', 'a', at]);
    assert.equal(entry, JSON.parse(JSON.stringify(readJobEntry(join(dir, 'sweeps', sweepId, 'jobs', 'a--sysinfo'), 'a--sysinfo'))), 'the entry a read of the files gives');
    assert.is((await readIndexedSweep(dir, sweepId)).repaired, false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the history read through the index is the history read from the files', () =>
  withStore(async (dir) => {
    const indexed = await loadHistory(dir);
    assert.is(indexed.histories.length, 6);
    assert.is(indexed.histories.find((h) => h.key.host === 'c' && h.key.metric === 'load.1m')?.points.length, 2, 'the failed night is left out');
    assert.equal(await fromFilesOnly(dir), indexed);
  }));

test('a missing index is rebuilt from the job files, with the same answers', () =>
  withStore(async (dir) => {
    const before = await loadHistory(dir);
    await rm(join(dir, 'index'), { recursive: true });
    const after = await loadHistory(dir);
    assert.equal(after, before);
    assert.equal((await readdir(historyIndexDir(dir))).length, SWEEPS.length, 'the shards are written again');
    for (const sweepId of SWEEPS) assert.is((await readIndexedSweep(dir, sweepId)).repaired, false);
  }));

test('a stale entry (a metrics file changed behind the store) is read again from the file', () =>
  withStore(async (dir) => {
    const path = join(dir, 'sweeps', SWEEPS[2]!, 'jobs', 'a--sysinfo', 'metrics.json');
    await writeFile(path, JSON.stringify({ schema: METRICS_SCHEMA, samples: [sample('load.1m', 42, 'load', 'lower')], series: [] }));
    const history = await loadHistory(dir);
    const load = history.histories.find((h) => h.key.host === 'a' && h.key.metric === 'load.1m')!;
    assert.is(load.points.at(-1)!.value, 42);
    assert.equal(await fromFilesOnly(dir), history);
  }));

test('a job the index does not know (written without the store) and a job that is gone are both seen', () =>
  withStore(async (dir) => {
    const jobs = join(dir, 'sweeps', SWEEPS[0]!, 'jobs');
    await rm(join(jobs, 'b--sysinfo'), { recursive: true });
    const store = new SweepStore(dir, SWEEPS[0]!);
    await store.writeJobManifest(manifest(SWEEPS[0]!, 'd--sysinfo', 'd', 'ok', '2026-11-01T02:00:03.000Z'));
    await writeFile(join(jobs, 'd--sysinfo', 'metrics.json'), JSON.stringify({ schema: METRICS_SCHEMA, samples: [sample('load.1m', 7, 'load', 'lower')], series: [] }));
    const history = await loadHistory(dir);
    assert.ok(history.histories.some((h) => h.key.host === 'd'), 'the new job is in the history');
    assert.is(history.histories.find((h) => h.key.host === 'b' && h.key.metric === 'load.1m')!.points[0]!.sweepId, SWEEPS[1], 'the removed job is not');
    assert.equal(await fromFilesOnly(dir), history);
  }));

test('a damaged shard (torn line, not JSON, wrong schema, another sweep\'s) is rebuilt, never believed', () =>
  withStore(async (dir) => {
    const truth = await loadHistory(dir);
    const shard = join(historyIndexDir(dir), `${SWEEPS[1]}.jsonl`);
    const good = await readFile(shard, 'utf8');
    const damaged = [
      `${good}{"jobId":"a--sysinfo","src":"x"`,
      good.replace(/"value":\d+/, '"value":"lots"'),
      'not json\n',
      good.replace(HISTORY_INDEX_SCHEMA, 'orchestrate/history-index@99'),
      good.replaceAll(SWEEPS[1]!, SWEEPS[0]!),
    ];
    for (const text of damaged) {
      await writeFile(shard, text);
      assert.is((await readIndexedSweep(dir, SWEEPS[1]!, { repair: false })).repaired, true, text.slice(0, 60));
      assert.equal(await loadHistory(dir), truth);
      assert.is((await readIndexedSweep(dir, SWEEPS[1]!)).repaired, false, 'the shard was rewritten whole');
    }
  }));

test('an entry made up in the index but not matching the files is not believed (its source is checked)', () =>
  withStore(async (dir) => {
    const truth = await loadHistory(dir);
    const shard = join(historyIndexDir(dir), `${SWEEPS[0]}.jsonl`);
    await appendFile(shard, `${JSON.stringify({ jobId: 'a--sysinfo', src: 'made-up', kind: 'history', host: 'a', scenario: 'sysinfo', at: 'x', samples: [sample('load.1m', 999, 'load', 'lower')] })}\n`);
    assert.equal(await loadHistory(dir), truth);
  }));

test('invalid job files are problems, the same through the index as from the files', () =>
  withStore(async (dir) => {
    await writeFile(join(dir, 'sweeps', SWEEPS[0]!, 'jobs', 'b--sysinfo', 'metrics.json'), '{"schema":');
    const store = new SweepStore(dir, SWEEPS[2]!);
    await store.writeJobManifest(manifest(SWEEPS[2]!, 'e--sysinfo', 'e', 'ok', '2026-11-03T02:00:05.000Z'));
    const history = await loadHistory(dir);
    assert.equal(
      history.problems.map((p) => [p.path.slice(dir.length), p.message.slice(0, 30)]),
      [
        [`/sweeps/${SWEEPS[0]}/jobs/b--sysinfo/metrics.json`, 'not valid JSON (Unexpected end'],
        [`/sweeps/${SWEEPS[2]}/jobs/e--sysinfo/metrics.json`, 'the file does not exist'],
      ],
    );
    assert.equal(await fromFilesOnly(dir), history);
  }));

test('a read of a fresh index rewrites nothing', () =>
  withStore(async (dir) => {
    await loadHistory(dir);
    const before = await Promise.all(SWEEPS.map((id) => stat(join(historyIndexDir(dir), `${id}.jsonl`))));
    await loadHistory(dir);
    const after = await Promise.all(SWEEPS.map((id) => stat(join(historyIndexDir(dir), `${id}.jsonl`))));
    assert.equal(after.map((s) => [s.ino, s.mtimeMs]), before.map((s) => [s.ino, s.mtimeMs]));
  }));

test('readJobEntry reads what the history takes from one job', () =>
  withStore(async (dir) => {
    const entry = readJobEntry(join(dir, 'sweeps', SWEEPS[0]!, 'jobs', 'a--sysinfo'), 'a--sysinfo');
    assert.is(entry.kind, 'history');
    assert.is(entry.host, 'a');
    assert.equal(entry.samples?.map((s) => s.metric), ['load.1m', 'disk.free']);
    assert.equal(await listSweeps(dir), SWEEPS);
  }));

test.run();
