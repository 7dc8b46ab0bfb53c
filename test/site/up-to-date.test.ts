// siteInputs (site/up-to-date.ts) hands the scan the identities the store's stamp was made of:
// each job's directory and log as the scan would take them itself (scan-cache.ts fileIdentity),
// as they were when the question was asked, even when the scan reads them later.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { siteInputs } from '../../orchestrator/site/up-to-date.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import { jobFiles, sweepPaths } from '../../orchestrator/results/store-layout.js';
import { fileIdentity } from '../../orchestrator/site/scan-cache.js';
import { TEST_FIXTURE, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';

const FIXTURE: FixtureOptions = { ...TEST_FIXTURE, hosts: [{ name: 'node-a', scenarios: ['sysinfo'] }, { name: 'node-b', scenarios: ['sysinfo'] }], seriesPoints: 5 };

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'site-up-to-date-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test("the job identities siteInputs gives are the scan's own, as they were when it was asked", async () => {
  const results = join(work, 'results');
  const sweeps = [await writeFixtureSweep(results, 0, FIXTURE), await writeFixtureSweep(results, 1, FIXTURE)];
  const expected = new Map<string, { dir: string; log: string }>();
  for (const sweepId of sweeps) {
    const jobs = sweepPaths(results, sweepId).jobs;
    for (const jobId of (await readdir(jobs)).sort()) {
      const dir = join(jobs, jobId);
      expected.set(`${sweepId}/${jobId}`, { dir: fileIdentity(dir), log: fileIdentity(jobFiles(dir).log) });
    }
  }
  assert.is(expected.size, 4);
  const inputs = await siteInputs(results, join(work, 'site'), () => DEFAULT_THRESHOLDS);
  assert.not.ok(inputs.upToDate, 'never built');
  const log = jobFiles(join(sweepPaths(results, sweeps[0]!).jobs, 'node-a--sysinfo')).log;
  await appendFile(log, 'a line after the question\n');
  assert.is.not(fileIdentity(log), expected.get(`${sweeps[0]}/node-a--sysinfo`)!.log);
  assert.equal(new Map([...inputs.jobIdentities].sort(([a], [b]) => (a < b ? -1 : 1))), expected);
  assert.is(inputs.jobIdentities, inputs.jobIdentities, 'one map, made once');
});

test.run();
