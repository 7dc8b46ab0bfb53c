// The site build as a whole: incremental rebuilds write exactly what changed, writes go
// through the injected writer, and nothing a host sends ends up as markup.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildSite } from '../../orchestrator/site/build.js';
import { writeFileAtomic } from '../../orchestrator/site/output.js';
import { TEST_FIXTURE, XSS_ATTR, XSS_SCRIPT, sweepIdFor, writeFixtureStore, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'site-build-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}

test('incremental: a second build writes nothing; one new sweep rewrites exactly its pages, the affected trends, the index and the feeds', async () => {
  const results = join(work, 'inc', 'results');
  const out = join(work, 'inc', 'site');
  await writeFixtureStore(results, 8, TEST_FIXTURE);
  const writes: string[] = [];
  const recorder = async (path: string, data: string | Buffer) => {
    writes.push(relative(out, path));
    await writeFileAtomic(path, data);
  };
  const first = await buildSite({ resultsDir: results, outDir: out, writeFile: recorder });
  assert.ok(first.pagesWritten > 50);
  assert.is(first.pagesUnchanged, 0);
  assert.ok(first.regressions >= 1, 'the step change is detected as a regression');
  assert.ok(writes.includes('index.html') && writes.includes('regressions.atom'));

  const mtimeBefore = (await stat(join(out, 'index.html'))).mtimeMs;
  writes.length = 0;
  const second = await buildSite({ resultsDir: results, outDir: out, writeFile: recorder });
  assert.is(second.pagesWritten, 0);
  assert.is(second.pagesUnchanged, first.pagesWritten);
  assert.is(second.bytes, 0);
  assert.equal(writes, [], 'a build with nothing new writes nothing, not even its manifest');
  assert.is((await stat(join(out, 'index.html'))).mtimeMs, mtimeBefore);

  const newSweep = await writeFixtureSweep(results, 8, TEST_FIXTURE);
  const third = await buildSite({ resultsDir: results, outDir: out, writeFile: recorder });
  const jobs = ['node-a--sysinfo', 'node-b--sysinfo', 'node-c--sysinfo', 'node-c--midolman'];
  const expected = [
    ...jobs.map((j) => `job:${newSweep}/${j}`),
    ...jobs.map((j) => `compare:${newSweep}/${j}`),
    'trends:node-a/sysinfo',
    'trends:node-b/sysinfo',
    'trends:node-c/sysinfo',
    'trends:node-c/midolman',
    'index',
    'regressions',
    'compare-picker',
  ].sort();
  assert.equal(third.written, expected);
  assert.is(third.pagesWritten, expected.length);
  assert.ok(third.files.includes('regressions.atom') && third.files.includes('regressions.json') && third.files.includes('index.html'));
  assert.ok(third.files.every((f) => !f.startsWith('assets/') && f !== 'trends.html'), 'assets and the trends index are untouched');
  const previousSweep = sweepIdFor(TEST_FIXTURE.start, 7);
  assert.ok(third.files.every((f) => !f.includes(previousSweep)), 'the previous sweep\'s pages are untouched');

  // a page deleted from the output is written again even though its inputs did not change
  await rm(join(out, 'trends.html'));
  const fourth = await buildSite({ resultsDir: results, outDir: out });
  assert.equal(fourth.written, ['trends-index']);
});

test('incremental: a changed job (re-run in place) rewrites its page and comparisons that use it', async () => {
  const results = join(work, 'inc2', 'results');
  const out = join(work, 'inc2', 'site');
  const opts: FixtureOptions = { ...TEST_FIXTURE, hosts: TEST_FIXTURE.hosts.slice(0, 1), stepAt: undefined };
  const ids = await writeFixtureStore(results, 3, opts);
  await buildSite({ resultsDir: results, outDir: out });
  const logPath = join(results, 'sweeps', ids[1]!, 'jobs', 'node-a--sysinfo', 'orchestrator.log');
  await writeFile(logPath, 'a longer log than before\n'.repeat(3));
  const again = await buildSite({ resultsDir: results, outDir: out });
  // its page (the log copy) is rewritten; the comparisons that use the job are re-rendered (their
  // fingerprint includes the job's files) but come out identical, so they are not rewritten
  assert.equal(again.written, [`job:${ids[1]}/node-a--sysinfo`]);
  assert.equal(again.files.filter((f) => !f.endsWith('.log.txt')), [`jobs/${ids[1]}/node-a--sysinfo.html`]);
  assert.ok(!again.written.includes('index'), 'the index does not depend on a log');
});

test('midolman: the job page opens on its summary and story charts; trends and regressions name the builds', async () => {
  const results = join(work, 'mm', 'results');
  const out = join(work, 'mm', 'site');
  await writeFixtureStore(results, 8, TEST_FIXTURE);
  await buildSite({ resultsDir: results, outDir: out });
  const s6 = sweepIdFor(TEST_FIXTURE.start, 6);
  const job = await readFile(join(out, 'jobs', s6, 'node-c--midolman.html'), 'utf8');
  // the summary and the story come before the job's details, each chart pre-rendered with its downloads
  const story = job.indexOf('<section class="story"');
  assert.ok(story > 0 && story < job.indexOf('<h2>Job</h2>'), 'the story is at the top');
  for (const label of ['Lossless max', 'NDR', 'p99 latency at lossless max', 'Agent CPU/kpps at lossless max', 'Peak RSS', 'Peak heap', 'Build', 'Profile']) assert.ok(job.includes(`<dt>${label}</dt>`), label);
  assert.match(job, /<dt>Build<\/dt><dd><span class="value">midolman 5\.6\.3 \(8b41d0a7\)<\/span>/);
  const storyHtml = job.slice(story, job.indexOf('<h2>Job</h2>'));
  const ids = [...storyHtml.matchAll(/<figure class="chart" id="chart-([^"]+)"/g)].map((m) => m[1]);
  assert.equal(ids, ['mm-rates', 'mm-loss', 'mm-latency', 'mm-agent', 'mm-heap', 'mm-long-running', 'mm-flows', 'mm-pipeline']);
  assert.is((storyHtml.match(/<div class="chart-view"><svg /g) ?? []).length, 8, 'every story chart is pre-rendered SVG');
  for (const id of ids) assert.ok(storyHtml.includes(`node-c--midolman/${id}.csv" download>CSV`), `${id} has its CSV beside it`);
  // the Job section names the build too; a sysinfo job has no summary, no story and no build row
  assert.match(job, /<dt>Build<\/dt><dd>midolman 5\.6\.3 \(8b41d0a7\) <span class="muted">\(midolman 5\.6\.3, revision 8b41d0a7\)<\/span>/);
  const sysinfo = await readFile(join(out, 'jobs', s6, 'node-c--sysinfo.html'), 'utf8');
  assert.not.ok(sysinfo.includes('class="story"') || sysinfo.includes('<dt>Build</dt>'));

  // the trends of node-c's midolman runs: the build per run in a table, a new build marked
  const trends = await readFile(join(out, 'trends', 'node-c--midolman.html'), 'utf8');
  assert.match(trends, /<h2>Builds<\/h2>/);
  assert.is((trends.match(/<tr class="build-changed">/g) ?? []).length, 1, 'one build change in 8 runs');
  assert.ok(trends.includes('midolman 5.6.2 (3f2a1c9e)') && trends.includes('midolman 5.6.3 (8b41d0a7)'));
  const lossless = await readFile(join(out, 'trends', 'node-c--midolman', 'm-throughput.lossless_max.json'), 'utf8');
  assert.equal([...new Set((JSON.parse(lossless) as { build: string }[]).map((r) => r.build))], ['midolman 5.6.2 (3f2a1c9e)', 'midolman 5.6.3 (8b41d0a7)'], 'each point of a trend carries its build');
  assert.not.match(await readFile(join(out, 'trends', 'node-a--sysinfo.html'), 'utf8'), /<h2>Builds<\/h2>/, 'no build, no table');

  // the regression the new build brought, on the regressions page, in its JSON and in the feed
  const between = 'between build midolman 5.6.2 (3f2a1c9e) and build midolman 5.6.3 (8b41d0a7)';
  const regressions = await readFile(join(out, 'regressions.html'), 'utf8');
  assert.ok(regressions.includes(`<span class="builds">${between}</span>`), 'the regressions page names the builds');
  // the build change's per-step rows: three shown, the largest first, the rest folded under one line naming the cause
  const cause = regressions.split('<tbody class="cause">').find((part) => part.includes('more changes on node-c · midolman')) ?? '';
  assert.match(cause, new RegExp(`<details class="more-changes"><summary>\\d+ more changes on node-c · midolman from this sweep, ${between.replace(/[().]/g, '\\$&')} <span`));
  const shown = cause.slice(0, cause.indexOf('<tr class="folded">'));
  assert.is((shown.match(/<tr[ >]/g) ?? []).length, 3, 'three rows before the fold');
  assert.match(shown.slice(0, shown.indexOf('</tr>')), /<td>throughput\.lossless_max<span/, 'the headline metric first, before larger per-step changes');
  const json = JSON.parse(await readFile(join(out, 'regressions.json'), 'utf8')) as { changes: { host: string; metric: string; builds: string; buildBefore: string | null }[] };
  const lossRegression = json.changes.find((c) => c.host === 'node-c' && c.metric === 'throughput.lossless_max')!;
  assert.is(lossRegression.builds, between);
  assert.is(json.changes.find((c) => c.host === 'node-a')!.buildBefore, null, 'sysinfo names no build');
  assert.ok((await readFile(join(out, 'regressions.atom'), 'utf8')).includes(`, ${between}.</summary>`));
});

test('escaping: host names, errors, output, packages, cmdline and labels never become markup', async () => {
  const results = join(work, 'xss', 'results');
  const out = join(work, 'xss', 'site');
  const opts: FixtureOptions = {
    ...TEST_FIXTURE,
    hostile: true,
    hosts: [
      { name: `evil${XSS_SCRIPT}`, id: 'evil', scenarios: ['sysinfo', 'midolman'] },
      { name: `attr${XSS_ATTR}`, id: 'attr', scenarios: ['sysinfo'] },
    ],
    stepAt: 5,
    failing: (i) => i === 3,
  };
  await writeFixtureStore(results, 10, opts);
  const built = await buildSite({ resultsDir: results, outDir: out });
  assert.ok(built.regressions >= 1);
  const files = await walk(out);
  const scanned = files.filter((f) => /\.(html|svg|js|atom)$/.test(f));
  assert.ok(scanned.length > 40);
  let escapedSeen = 0;
  let svgLabelEscaped = 0;
  for (const file of scanned) {
    const text = await readFile(file, 'utf8');
    const name = relative(out, file);
    assert.not.ok(text.includes(XSS_SCRIPT), `${name} contains a raw <script> payload`);
    assert.not.ok(text.includes('<img src=x'), `${name} contains a raw <img> payload`);
    assert.not.ok(/onerror=alert\(1\)>/.test(text) && !/&gt;|\\u003e/.test(text), `${name}`);
    if (name.endsWith('.html')) {
      // CSP is on every page and every script is a file (no inline script to allow)
      assert.match(text, /<meta http-equiv="Content-Security-Policy" content="[^"]*script-src 'self'/);
      assert.not.match(text, /<script(?![^>]*\ssrc=)[^>]*>/, `${name} has an inline script`);
      // an event-handler attribute on a real tag (attribute values stripped: escaped text inside them is fine)
      for (const tag of text.match(/<[a-zA-Z][^>]*>/g) ?? []) {
        assert.not.match(tag.replace(/"[^"]*"/g, '""'), /\son[a-z]+\s*=/i, `${name} has an inline event handler: ${tag.slice(0, 120)}`);
      }
      if (text.includes('&lt;script&gt;alert(1)&lt;/script&gt;')) escapedSeen++;
      for (const svg of text.match(/<svg[\s\S]*?<\/svg>/g) ?? []) if (svg.includes('&lt;script&gt;alert(1)&lt;/script&gt;')) svgLabelEscaped++;
    }
  }
  assert.ok(escapedSeen > 5, 'the payloads are shown, escaped');
  assert.ok(svgLabelEscaped > 0, 'a chart label with the payload is escaped inside the SVG');
  // the downloads and raw log copies keep the text exactly (as data, never as HTML)
  const logs = files.filter((f) => f.endsWith('orchestrator.log.txt'));
  assert.ok(logs.length > 0);
  assert.ok((await readFile(logs[0]!, 'utf8')).includes(XSS_SCRIPT));
  const atom = await readFile(join(out, 'regressions.atom'), 'utf8');
  assert.match(atom, /^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
  assert.match(atom, /<entry>\s*<id>urn:uuid:[0-9a-f-]{36}<\/id>/);
});

test.run();
