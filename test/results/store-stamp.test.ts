// The results store's stamp (results/store-stamp.ts): the same while nothing it looks at changed,
// different after any change it is there to see, and the identities it hands the scan are the ones
// the scan would take itself (site/scan-cache.ts fileIdentity), as they were when the stamp was taken.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFile, mkdir, mkdtemp, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stampStore } from '../../orchestrator/results/store-stamp.js';
import { jobFiles, pagedStatePath, sweepPaths } from '../../orchestrator/results/store-layout.js';
import { fileIdentity } from '../../orchestrator/site/scan-cache.js';

const SWEEPS = ['20261101T020000Z-aa01', '20261102T020000Z-aa02'];
const JOBS = ['node-a--sysinfo', 'node-b--sysinfo', 'node-c--midolman'];

let work = '';
let results = '';
test.before.each(async () => {
  work = await mkdtemp(join(tmpdir(), 'store-stamp-'));
  results = join(work, 'results');
  for (const sweepId of SWEEPS) {
    const sweep = sweepPaths(results, sweepId);
    await mkdir(sweep.jobs, { recursive: true });
    await writeFile(sweep.manifest, '{"status":"ok"}\n');
    for (const jobId of JOBS) {
      const files = jobFiles(join(sweep.jobs, jobId));
      await mkdir(files.raw, { recursive: true });
      await writeFile(files.manifest, '{}\n');
      await writeFile(files.log, 'started\n');
    }
  }
});
test.after.each(async () => {
  await rm(work, { recursive: true, force: true });
});

const jobDir = (sweepId: string, jobId: string) => join(sweepPaths(results, sweepId).jobs, jobId);

test('the same store gives the same stamp, and another store another', async () => {
  const stamp = stampStore(results).stamp;
  assert.match(stamp, /^[0-9a-f]{32}$/);
  assert.is(stampStore(results).stamp, stamp);
  assert.is.not(stampStore(join(work, 'elsewhere')).stamp, stamp);
});

test('every change the stamp is there to see changes it', async () => {
  const changes: [string, () => Promise<unknown>][] = [
    ['a job log appended in place', () => appendFile(jobFiles(jobDir(SWEEPS[0]!, JOBS[1]!)).log, 'one more line\n')],
    ['a file renamed into a job directory', async () => {
      const files = jobFiles(jobDir(SWEEPS[1]!, JOBS[2]!));
      await writeFile(`${files.metrics}.tmp`, '{}\n');
      await rename(`${files.metrics}.tmp`, files.metrics);
    }],
    ['a job directory added', () => mkdir(jobDir(SWEEPS[1]!, 'node-d--sysinfo'))],
    ['a job directory removed', () => rm(jobDir(SWEEPS[0]!, JOBS[0]!), { recursive: true })],
    ['a job log removed', () => rm(jobFiles(jobDir(SWEEPS[1]!, JOBS[0]!)).log)],
    ['sweep.json rewritten', () => writeFile(sweepPaths(results, SWEEPS[0]!).manifest, '{"status":"failed"}\n')],
    ['findings written', () => writeFile(sweepPaths(results, SWEEPS[1]!).findings, '{}\n')],
    ['the paging record written', async () => {
      await mkdir(join(pagedStatePath(results), '..'), { recursive: true });
      await writeFile(pagedStatePath(results), '{}\n');
    }],
    ['a sweep added', () => mkdir(sweepPaths(results, '20261103T020000Z-aa03').jobs, { recursive: true })],
  ];
  for (const [what, change] of changes) {
    const before = stampStore(results).stamp;
    await change();
    assert.is.not(stampStore(results).stamp, before, what);
  }
});

test("a job directory renamed within its jobs directory's timestamp tick still changes the stamp (the names are in it)", async () => {
  const jobs = sweepPaths(results, SWEEPS[0]!).jobs;
  const from = join(jobs, JOBS[2]!);
  const to = join(jobs, `${JOBS[2]}~rerun1`); // the same place among the names
  const tick = 1_800_000_000; // seconds: the jobs directory's mtime before and after, as within one tick
  await utimes(jobs, tick, tick);
  const before = stampStore(results);
  await rename(from, to);
  await utimes(jobs, tick, tick);
  const after = stampStore(results);
  assert.equal([...after.jobIdentities().values()], [...before.jobIdentities().values()], 'no identity changed');
  assert.is.not(after.stamp, before.stamp);
});

test("the identities handed to the scan are the scan's own, as they were when the stamp was taken", async () => {
  await rm(jobFiles(jobDir(SWEEPS[1]!, JOBS[1]!)).log);
  const expected = new Map<string, { dir: string; log: string }>();
  for (const sweepId of SWEEPS) {
    for (const jobId of JOBS) {
      const dir = jobDir(sweepId, jobId);
      expected.set(`${sweepId}/${jobId}`, { dir: fileIdentity(dir), log: fileIdentity(jobFiles(dir).log) });
    }
  }
  assert.is(expected.get(`${SWEEPS[1]}/${JOBS[1]}`)!.log, '-', 'a job without a log');
  const stamp = stampStore(results);
  // the store moves on after the stamp: what the scan is handed is still what the stamp was made of
  await appendFile(jobFiles(jobDir(SWEEPS[0]!, JOBS[0]!)).log, 'later\n');
  await writeFile(join(jobDir(SWEEPS[0]!, JOBS[1]!), 'pruned.json'), '{}\n');
  const identities = stamp.jobIdentities();
  assert.equal(new Map([...identities].sort(([a], [b]) => (a < b ? -1 : 1))), expected);
  assert.is(stamp.jobIdentities(), identities, 'made once');
});

test.run();
