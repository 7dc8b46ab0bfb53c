// The page frame says what is on the page: the footer explains interactive charts only on pages
// that have them, and a job's phase durations stay on one line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSite } from '../../orchestrator/site/build.js';
import { TEST_FIXTURE, writeFixtureSweep } from './fixture-store.js';

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'site-layout-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

const CHARTS_NOTE = 'Charts are pre-rendered SVG';

test('the footer explains interactive charts on the pages that have charts, and not on the index, regressions or compare picker', async () => {
  const results = join(work, 'results');
  const out = join(work, 'site');
  const sweepId = await writeFixtureSweep(results, 0, { ...TEST_FIXTURE, seriesPoints: 10 });
  await writeFixtureSweep(results, 1, { ...TEST_FIXTURE, seriesPoints: 10 });
  await buildSite({ resultsDir: results, outDir: out, workers: 0 });
  for (const page of ['index.html', 'regressions.html', 'compare.html', 'trends.html']) {
    assert.not.ok((await readFile(join(out, page), 'utf8')).includes(CHARTS_NOTE), `${page} has no chart to explain`);
  }
  const jobPage = (await readdir(join(out, 'jobs', sweepId))).find((f) => f.endsWith('.html'))!;
  const html = await readFile(join(out, 'jobs', sweepId, jobPage), 'utf8');
  assert.ok(html.includes(CHARTS_NOTE), 'a job page explains its charts');
  assert.match(html, /<td class="num nowrap">[^<]*(s|min)<\/td><td class="num">\d+<\/td>/, 'a phase duration does not wrap');
});

test.run();
