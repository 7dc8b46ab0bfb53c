// Incremental builds are exact: a site built sweep by sweep (the history read through the
// store's index, pages drawn by render workers) is byte for byte the site a full build of the
// same store makes (drawn in one thread); a build with nothing new writes nothing at all.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildSite } from '../../orchestrator/site/build.js';
import { siteInputs } from '../../orchestrator/site/up-to-date.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import { BUILD_STATE } from '../../orchestrator/site/build-state.js';
import { SCAN_CACHE } from '../../orchestrator/site/scan-cache.js';
import { HISTORY_CACHE } from '../../orchestrator/analysis/history-cache.js';
import { PERMUTATION_MEMO } from '../../orchestrator/analysis/permutation-memo-file.js';
import { BUILD_MANIFEST, writeFileAtomic } from '../../orchestrator/site/output.js';
import { historyIndexDir } from '../../orchestrator/results/history-index.js';
import { TEST_FIXTURE, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'site-incremental-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Two sysinfo hosts and a midolman one, a regression from the fourth sweep, a failed job on the third. */
const FIXTURE: FixtureOptions = {
  ...TEST_FIXTURE,
  hosts: [
    { name: 'node-a', scenarios: ['sysinfo'] },
    { name: 'node-c', scenarios: ['sysinfo', 'midolman'] },
  ],
  seriesPoints: 60,
  stepAt: 3,
  buildChangeAt: 3,
  failing: (i, host) => i === 2 && host.name === 'node-c',
};

/** Every file of a site but the builder's own records (their order follows the build's), path -> content. */
async function pages(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name !== BUILD_MANIFEST && entry.name !== BUILD_STATE && entry.name !== SCAN_CACHE && entry.name !== HISTORY_CACHE && entry.name !== PERMUTATION_MEMO) out.set(relative(dir, path), await readFile(path));
    }
  };
  await walk(dir);
  return out;
}

function assertSameSite(a: Map<string, Buffer>, b: Map<string, Buffer>, what: string): void {
  assert.equal([...a.keys()].sort(), [...b.keys()].sort(), `${what}: the same files`);
  const differing = [...a].filter(([path, data]) => !data.equals(b.get(path)!)).map(([path]) => path);
  assert.equal(differing, [], `${what}: every file byte for byte`);
}

test('a site built sweep by sweep is byte for byte the full build of the same store', async () => {
  const results = join(work, 'same', 'results');
  const incremental = join(work, 'same', 'incremental');
  for (let i = 0; i < 5; i++) {
    await writeFixtureSweep(results, i, FIXTURE);
    if (i >= 2) await buildSite({ resultsDir: results, outDir: incremental, workers: 2 });
  }
  const full = join(work, 'same', 'full');
  // the full build reads every history from the job files (no index) and draws in this thread
  await rm(historyIndexDir(results), { recursive: true, force: true });
  const built = await buildSite({ resultsDir: results, outDir: full, workers: 0 });
  assert.ok(built.pagesWritten > 30, `${built.pagesWritten} pages`);
  assertSameSite(await pages(incremental), await pages(full), 'incremental vs full');
});

test('a build with nothing new writes nothing, not even its records; a changed input is seen', async () => {
  const results = join(work, 'noop', 'results');
  const out = join(work, 'noop', 'site');
  for (let i = 0; i < 3; i++) await writeFixtureSweep(results, i, FIXTURE);
  const first = await buildSite({ resultsDir: results, outDir: out });
  const writes: string[] = [];
  const recorder = async (path: string, data: string | Buffer) => {
    writes.push(relative(out, path));
    await writeFileAtomic(path, data);
  };
  const lines: string[] = [];
  const again = await buildSite({ resultsDir: results, outDir: out, writeFile: recorder, log: (line) => lines.push(line) });
  assert.equal(writes, []);
  assert.is(again.pagesWritten, 0);
  assert.is(again.pagesUnchanged, first.pagesWritten);
  assert.is(again.regressions, first.regressions, 'it reports what the last build found');
  assert.match(lines.join('\n'), /nothing new since the last build/);

  // other thresholds are other inputs: the pages that use them are looked at again
  const stricter = await buildSite({ resultsDir: results, outDir: out, writeFile: recorder, thresholdsFor: () => ({ minRelativeChange: 0.5, pValue: 0.001, window: 30, persistence: 2, noiseFactor: 0 }) });
  assert.ok(stricter.pagesUnchanged > 0 && writes.length > 0, 'a build ran');
  writes.length = 0;

  // a job's log appended in place (its directory does not change) is still a change
  const sweepId = (await readdir(join(results, 'sweeps'))).sort()[1]!;
  const log = join(results, 'sweeps', sweepId, 'jobs', 'node-a--sysinfo', 'orchestrator.log');
  await buildSite({ resultsDir: results, outDir: out });
  await writeFile(log, `${await readFile(log, 'utf8')}one more line\n`);
  const later = new Date(Date.now() + 5000);
  await utimes(log, later, later);
  const afterLog = await buildSite({ resultsDir: results, outDir: out });
  assert.equal(afterLog.written, [`job:${sweepId}/node-a--sysinfo`]);

  // a page removed from the output is not "nothing new"
  await rm(join(out, 'trends.html'));
  const repaired = await buildSite({ resultsDir: results, outDir: out });
  assert.equal(repaired.written, ['trends-index']);
  assert.ok((await stat(join(out, 'trends.html'))).isFile());
});

test('a build given what siteInputs said just before (as orchestrate report asks first) builds from that, without taking the store\'s stamp again', async () => {
  const results = join(work, 'given', 'results');
  const out = join(work, 'given', 'site');
  for (let i = 0; i < 2; i++) await writeFixtureSweep(results, i, FIXTURE);
  await buildSite({ resultsDir: results, outDir: out });
  const thresholdsFor = () => DEFAULT_THRESHOLDS;
  const asked = await siteInputs(results, out, thresholdsFor);
  assert.ok(asked.upToDate, 'nothing new since the build');
  // a sweep lands after the question: the build answers from what it was given (one stamp per report)...
  const third = await writeFixtureSweep(results, 2, FIXTURE);
  const given = await buildSite({ resultsDir: results, outDir: out, thresholdsFor, inputs: asked });
  assert.is(given.pagesWritten, 0);
  // ...and the next one, asked again, sees the sweep
  const next = await buildSite({ resultsDir: results, outDir: out, thresholdsFor, inputs: await siteInputs(results, out, thresholdsFor) });
  assert.ok(next.written.includes(`job:${third}/node-a--sysinfo`), `the new sweep's pages are drawn: ${next.written.join(', ')}`);
});

test.run();
