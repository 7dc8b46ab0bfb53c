// A site build keeps the permutation tests its change detection used beside the site
// (.site-permutations.json): the next build, in another process (the process's own memo empty),
// runs none for the segments that did not change, and finds the same changes. Counted by the
// build's log line, which counts the tests the process's memo ran and answered.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSite } from '../../orchestrator/site/build.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import { BUILD_STATE } from '../../orchestrator/site/build-state.js';
import { processPermutationMemo } from '../../orchestrator/analysis/permutation-memo.js';
import { PERMUTATION_MEMO } from '../../orchestrator/analysis/permutation-memo-file.js';
import { TEST_FIXTURE, writeFixtureStore, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'site-permutation-memo-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Windows of 10 points, so that 45 sweeps are several windows (a fleet's year is a dozen of 30). */
const THRESHOLDS = { ...DEFAULT_THRESHOLDS, window: 10 };
const FIXTURE: FixtureOptions = { ...TEST_FIXTURE, hosts: [{ name: 'node-a', scenarios: ['sysinfo'] }, { name: 'node-c', scenarios: ['midolman'] }], seriesPoints: 10, stepAt: 30, buildChangeAt: 30, failing: () => false };

/**
 * A build as a new process makes it (the process's memo empty): how many permutation tests its
 * change detection ran and answered from the memo (its log line says; the glance's own
 * detections of earlier sweeps, for a store without findings, come after it and are not kept),
 * and what it found.
 */
async function build(resultsDir: string, outDir: string): Promise<{ computed: number; reused: number; regressions: number; log: string[]; regressionsJson: string }> {
  processPermutationMemo.clear();
  const log: string[] = [];
  const result = await buildSite({ resultsDir, outDir, workers: 0, thresholdsFor: () => THRESHOLDS, log: (line) => log.push(line) });
  const tests = /site: (\d+) permutation test\(s\) run, (\d+) answered from the memo; memo read/.exec(log.join('\n'));
  assert.ok(tests, log.join('\n'));
  return {
    computed: Number(tests![1]),
    reused: Number(tests![2]),
    regressions: result.regressions,
    log,
    regressionsJson: await readFile(join(outDir, 'regressions.json'), 'utf8'),
  };
}

test('a second build runs no permutation test for unchanged segments; a new sweep runs only a few', async () => {
  const results = join(work, 'results');
  const site = join(work, 'site');
  await writeFixtureStore(results, 45, FIXTURE);
  const first = await build(results, site);
  assert.ok(first.computed > 0, first.log.join('\n'));
  assert.ok(first.regressions > 0, 'the fixture has regressions');
  assert.ok((await stat(join(site, PERMUTATION_MEMO))).size > 0);

  // the same store again (the build state removed, so that the build detects): every test answered from the file
  await rm(join(site, BUILD_STATE));
  const again = await build(results, site);
  assert.is(again.computed, 0, again.log.join('\n'));
  assert.ok(again.reused > 0);
  assert.is(again.regressionsJson, first.regressionsJson, 'the same changes, the same p-values');

  // a new night: the tests of the windows that reach it (the histories are several windows
  // long), a fraction of a full detection's
  await writeFixtureSweep(results, 45, FIXTURE);
  const night = await build(results, site);
  assert.ok(night.reused > 0, night.log.join('\n'));
  assert.ok(night.computed * 4 < first.computed, `a new night ran ${night.computed} tests, the first build ${first.computed}`);
  // and the site is the one a build without the file makes
  const fresh = join(work, 'site-fresh');
  const full = await build(results, fresh);
  assert.ok(full.computed > night.computed);
  assert.is(night.regressionsJson, full.regressionsJson);
});

test('a damaged memo file is ignored and written anew', async () => {
  const results = join(work, 'results-damaged');
  const site = join(work, 'site-damaged');
  await writeFixtureStore(results, 10, FIXTURE);
  const first = await build(results, site);
  const memo = await readFile(join(site, PERMUTATION_MEMO), 'utf8');
  await writeFile(join(site, PERMUTATION_MEMO), memo.slice(0, memo.length - 9));
  await rm(join(site, BUILD_STATE));
  const again = await build(results, site);
  assert.is(again.computed, first.computed, 'every test run again');
  assert.is(again.regressionsJson, first.regressionsJson);
  assert.is(await readFile(join(site, PERMUTATION_MEMO), 'utf8'), memo, 'written anew');
});

test.run();
