// "Nothing new" without a stat per page (site/build-state.ts, site/up-to-date.ts): a page removed
// from any directory of the site, or a directory of pages removed, is seen; a damaged or
// old-version state is a build; and `orchestrate report` answers "nothing new" itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSite } from '../../orchestrator/site/build.js';
import { BUILD_STATE, pagesPresent, readBuildState } from '../../orchestrator/site/build-state.js';
import { readBuildManifest } from '../../orchestrator/site/output.js';
import { siteInputs } from '../../orchestrator/site/up-to-date.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import { TEST_FIXTURE, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';

const FIXTURE: FixtureOptions = { ...TEST_FIXTURE, hosts: [{ name: 'node-a', scenarios: ['sysinfo'] }], seriesPoints: 20 };

let work = '';
let results = '';
let out = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'site-build-state-'));
  results = join(work, 'results');
  out = join(work, 'site');
  for (let i = 0; i < 2; i++) await writeFixtureSweep(results, i, FIXTURE);
  await buildSite({ resultsDir: results, outDir: out, workers: 0 });
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

const thresholdsFor = () => DEFAULT_THRESHOLDS;

test('the state records each directory holding a file of a page and the files of the root', async () => {
  const state = (await readBuildState(out))!;
  assert.ok(state.pageCount > 0);
  assert.ok(state.rootFiles.includes('index.html') && state.rootFiles.includes('compare.html'), state.rootFiles.join(', '));
  assert.ok(Object.keys(state.dirs).length > 0 && Object.values(state.dirs).every((id) => id !== '-'));
  assert.ok(pagesPresent(out, state));
  assert.ok((await siteInputs(results, out, thresholdsFor)).upToDate);
});

test('a page removed from a directory of the site is not "nothing new", and the build puts it back', async () => {
  const state = (await readBuildState(out))!;
  const jobDir = Object.keys(state.dirs).find((dir) => dir.startsWith('jobs/'))!;
  const page = join(out, jobDir, 'phases.json');
  const data = await readFile(page);
  await rm(page);
  assert.not.ok(pagesPresent(out, state));
  assert.not.ok((await siteInputs(results, out, thresholdsFor)).upToDate);
  const rebuilt = await buildSite({ resultsDir: results, outDir: out, workers: 0 });
  assert.ok(rebuilt.pagesWritten > 0);
  assert.ok((await readFile(page)).equals(data), 'the page is back as it was');
  assert.ok((await siteInputs(results, out, thresholdsFor)).upToDate, 'and then there is nothing new');
});

/** Past the filesystem's coarse directory timestamp tick, so that a removal is seen in its directory's mtime. */
const tick = () => new Promise((done) => setTimeout(done, 30));

// A page is a unit of files in several directories (a job's: its html beside the job's directory,
// its data script under data/, its data and logs in the job's directory); each of them removed must be seen, and put
// back by the next build, whether its directory is its unit's first file's or not.
test('any file of a page removed, in whichever directory of its unit, is not "nothing new", and the build puts it back as it was', async () => {
  const files = Object.values(await readBuildManifest(out)).flatMap((unit) => Object.keys(unit.files));
  const pick = (what: string, pattern: RegExp) => {
    const file = files.find((path) => pattern.test(path));
    assert.ok(file, `the fixture site has ${what}`);
    return file!;
  };
  const removed = [
    pick("a job's page (jobs/<sweep>/<job>.html, not in the job's directory)", /^jobs\/[^/]+\/[^/]+\.html$/),
    pick("a job's data script (data/jobs/<sweep>/)", /^data\/jobs\/[^/]+\/[^/]+\.js$/),
    pick("a job's log (jobs/<sweep>/<job>/<name>.log.txt)", /^jobs\/[^/]+\/[^/]+\/[^/]+\.log\.txt$/),
    pick("a trends page (trends/<series>.html)", /^trends\/[^/]+\.html$/),
    pick("a trends page's per-metric csv (beside its first file)", /^trends\/[^/]+\/m-.*\.csv$/),
    pick("a compare page's json (beside its first file)", /^compare\/[^/]+\/[^/]+\.json$/),
    pick('the compare picker in the root (not its first file)', /^compare\.html$/),
  ];
  for (const file of removed) {
    const path = join(out, file);
    const data = await readFile(path);
    await tick();
    await rm(path);
    assert.not.ok(pagesPresent(out, (await readBuildState(out))!), `${file} removed: not every page is there`);
    assert.not.ok((await siteInputs(results, out, thresholdsFor)).upToDate, `${file} removed: something to build`);
    const lines: string[] = [];
    await buildSite({ resultsDir: results, outDir: out, workers: 0, log: (line) => lines.push(line) });
    assert.not.match(lines.join('\n'), /nothing new/, `${file} removed`);
    assert.ok((await readFile(path).catch(() => Buffer.from('(missing)'))).equals(data), `${file} is back as it was`);
    assert.ok((await siteInputs(results, out, thresholdsFor)).upToDate, `${file} back: then there is nothing new`);
  }
});

test('a whole directory of pages removed is seen', async () => {
  const state = (await readBuildState(out))!;
  const dir = Object.keys(state.dirs).find((d) => d.startsWith('compare/'))!;
  await rm(join(out, dir), { recursive: true });
  assert.not.ok((await siteInputs(results, out, thresholdsFor)).upToDate);
  await buildSite({ resultsDir: results, outDir: out, workers: 0 });
  assert.ok((await siteInputs(results, out, thresholdsFor)).upToDate);
});

test('a damaged or old-version state is a build, not "nothing new"', async () => {
  const path = join(out, BUILD_STATE);
  const good = await readFile(path, 'utf8');
  const parsed = JSON.parse(good) as Record<string, unknown>;
  const shapes = [
    { ...parsed, pageCount: -1 },
    { ...parsed, dirs: { jobs: 1 } },
    { ...parsed, probes: [{ host: 'h', scenario: 's', metric: 'm' }] },
    { ...parsed, problems: [{ path: 'p' }] },
    { ...parsed, manifest: undefined },
    { ...parsed, rootFiles: 'index.html' },
  ].map((state) => JSON.stringify(state));
  for (const text of ['garbage', good.slice(0, good.length - 3), good.replace('orchestrate/site-state@4', 'orchestrate/site-state@3'), ...shapes]) {
    await writeFile(path, text);
    const inputs = await siteInputs(results, out, thresholdsFor);
    assert.is(inputs.state, undefined);
    assert.not.ok(inputs.upToDate);
    const lines: string[] = [];
    await buildSite({ resultsDir: results, outDir: out, workers: 0, log: (line) => lines.push(line) });
    assert.not.match(lines.join('\n'), /nothing new/);
  }
  assert.ok((await siteInputs(results, out, thresholdsFor)).upToDate);
});

test.run();
