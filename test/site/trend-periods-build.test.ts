// The trends pages of a long history in a real build (orchestrator/site/trend-units.ts): the
// landing page draws the last WINDOW_DAYS, each ended month has its own page; a new sweep redraws
// the landing pages only (never an ended month), the first sweep of a new month draws the month
// that ended; a site built sweep by sweep is byte for byte the full build; a regression's row links
// to the month that shows it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildSite } from '../../orchestrator/site/build.js';
import { BUILD_STATE } from '../../orchestrator/site/build-state.js';
import { BUILD_MANIFEST } from '../../orchestrator/site/output.js';
import { historyIndexDir } from '../../orchestrator/results/history-index.js';
import { TEST_FIXTURE, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'site-trend-periods-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** node-a (sysinfo, a regression from sweep 4) and node-c (midolman, a new build from sweep 4), from 2026-06-20. */
const FIXTURE: FixtureOptions = {
  ...TEST_FIXTURE,
  hosts: [
    { name: 'node-a', scenarios: ['sysinfo'] },
    { name: 'node-c', scenarios: ['midolman'] },
  ],
  start: new Date('2026-06-20T02:00:00Z'),
  seriesPoints: 40,
  stepAt: 4,
  buildChangeAt: 4,
  failing: () => false,
};
// June 20-27, July 30-31, September 3-4, October 8-9; then October 10; then November 1 (day 134)
const HISTORY = [0, 1, 2, 3, 4, 5, 6, 7, 40, 41, 75, 76, 110, 111];
const NEXT_NIGHT = 112;
const NEXT_MONTH = 134;

async function pages(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      // the builder's own records (.site-build.json, .site-state.json, ...) are not pages: their order follows the build's
      else if (entry.name !== BUILD_MANIFEST && entry.name !== BUILD_STATE && !(at === dir && entry.name.startsWith('.site-'))) out.set(relative(dir, path), await readFile(path));
    }
  };
  await walk(dir);
  return out;
}

test('a long history: the window and the months on their pages; a new night redraws no month; a new month draws the month that ended; incremental == full', async () => {
  const results = join(work, 'results');
  const site = join(work, 'site');
  for (const [n, i] of HISTORY.entries()) {
    await writeFixtureSweep(results, i, FIXTURE);
    if (n % 4 === 3) await buildSite({ resultsDir: results, outDir: site, workers: 2 });
  }
  const built = await buildSite({ resultsDir: results, outDir: site, workers: 2 });
  assert.ok(built.written.includes('trends:node-a/sysinfo@2026-09'), built.written.join());
  const monthsOf = (written: string[]) => written.filter((id) => id.startsWith('trends:') && id.includes('@')).sort();

  const landing = await readFile(join(site, 'trends', 'node-a--sysinfo.html'), 'utf8');
  assert.match(landing, /The last 90 days: sweeps that started since/);
  for (const month of ['2026-06', '2026-07', '2026-09']) assert.ok(landing.includes(`href="../trends/node-a--sysinfo/${month}.html"`), `landing links ${month}`);
  assert.not.ok(landing.includes('2026-06-2'), 'June\'s sweeps are not drawn on the landing page');
  assert.not.ok(landing.includes('node-a--sysinfo/2026-08.html'), 'a month without sweeps has no page');
  const june = await readFile(join(site, 'trends', 'node-a--sysinfo', '2026-06.html'), 'utf8');
  assert.match(june, /Trends <span class="sep">·<\/span> node-a <span class="sep">·<\/span> sysinfo <span class="sep">·<\/span> June 2026/);
  assert.match(june, /<span class="flag regression">regression<\/span>/, 'June\'s page lists the regression detected in June');
  assert.ok(june.includes('href="../../jobs/'), 'its points and rows link to their jobs');
  assert.ok(june.includes('href="../../trends/node-a--sysinfo.html"'), 'and back to the latest page');
  assert.not.match(june, /<th class="num">After<\/th>/, 'no means that later runs move');
  const juneCsv = await readFile(join(site, 'trends', 'node-a--sysinfo', '2026-06', 'm-host.cpu.busy.mean.csv'), 'utf8');
  assert.is(juneCsv.trim().split('\n').length - 1, 8, 'June\'s csv holds June\'s 8 runs');
  const landingCsv = await readFile(join(site, 'trends', 'node-a--sysinfo', 'm-host.cpu.busy.mean.csv'), 'utf8');
  assert.is(landingCsv.trim().split('\n').length - 1, 6, 'the window\'s csv holds its 6 runs (July 30 on)');
  const regressions = await readFile(join(site, 'regressions.html'), 'utf8');
  assert.match(regressions, /href="trends\/node-a--sysinfo\/2026-06\.html#m-[0-9a-f]+">trend</, 'the regression row links to June\'s page');
  const midolman = await readFile(join(site, 'trends', 'node-c--midolman', '2026-06.html'), 'utf8');
  assert.match(midolman, /<h2>Builds<\/h2>/);

  await writeFixtureSweep(results, NEXT_NIGHT, FIXTURE);
  const night = await buildSite({ resultsDir: results, outDir: site, workers: 2 });
  assert.equal(monthsOf(night.written), [], 'no ended month is drawn again');
  assert.ok(night.written.includes('trends:node-a/sysinfo') && night.written.includes('trends:node-c/midolman'), night.written.join());

  await writeFixtureSweep(results, NEXT_MONTH, FIXTURE);
  const month = await buildSite({ resultsDir: results, outDir: site, workers: 2 });
  assert.equal(monthsOf(month.written), ['trends:node-a/sysinfo@2026-10', 'trends:node-c/midolman@2026-10'], 'October ended: its pages, and only those');

  const full = join(work, 'full');
  await rm(historyIndexDir(results), { recursive: true, force: true });
  await buildSite({ resultsDir: results, outDir: full, workers: 0 });
  const [a, b] = [await pages(site), await pages(full)];
  assert.equal([...a.keys()].sort(), [...b.keys()].sort(), 'the same files');
  assert.equal([...a].filter(([path, data]) => !data.equals(b.get(path)!)).map(([path]) => path), [], 'every file byte for byte');
});

test.run();
