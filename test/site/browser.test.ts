// The built site in headless Chromium: charts render interactively, nothing errors, no
// request leaves 127.0.0.1, and with JavaScript off the pre-rendered SVG charts are there.
// The store has a kvm job (node-d) whose point id and fio job name carry XSS payloads, and a
// midolman job (node-e) whose build label, profile, a heap pool and a step label carry them: their
// pages must show them as text and never run them. The midolman pages must tell their story on
// the first screen: the summary line and the key charts, every story chart drawn with its data.
// Screenshots go to test/.output/site-screenshots/ (the midolman page's first screen and each of
// its story charts too). The latest sweep has a findings.json (writeBrowserFindings): the index
// opens with what it found. Every live chart's axis reads in its unit: no SI prefix stacked on a
// unit ("190m" ms, "600m" load), no "NaN" axis; a kvm host's trends open with the matrix overview.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildSite } from '../../orchestrator/site/build.js';
import { writeBrowserFindings, writeFixtureStore, TEST_FIXTURE_BROWSER, XSS_ATTR, XSS_SCRIPT, sweepIdFor } from './fixture-store.js';
import { servedOnlyContext, serveDir } from './serve.js';

const SHOTS = resolve('test/.output/site-screenshots');
const CHROMIUM = '/usr/bin/chromium';

let work = '';
let site = '';
let server: Awaited<ReturnType<typeof serveDir>>;
let browser: Browser;
const offsite: string[] = [];

const context = (javaScriptEnabled: boolean): Promise<BrowserContext> => servedOnlyContext(browser, server, javaScriptEnabled, offsite);

async function open(ctx: BrowserContext, path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  // a payload that ran would alert(1)
  page.on('dialog', (dialog) => {
    errors.push(`dialog (${dialog.type()}): ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()}`));
  const response = await page.goto(server.url + path, { waitUntil: 'load' });
  assert.is(response?.status(), 200, path);
  return { page, errors };
}

const FIXTURE = TEST_FIXTURE_BROWSER;
const jobPath = () => `jobs/${sweepIdFor(FIXTURE.start, 7)}/node-a--sysinfo.html`;
const PAGES: [string, () => string][] = [
  ['index', () => 'index.html'],
  ['job', jobPath],
  ['job-midolman', () => `jobs/${sweepIdFor(FIXTURE.start, 7)}/node-c--midolman.html`],
  ['job-kvm', () => `jobs/${sweepIdFor(FIXTURE.start, 7)}/node-d--kvm.html`],
  ['job-midolman-ndr', () => `jobs/${sweepIdFor(FIXTURE.start, 7)}/node-e--midolman.html`],
  ['trends', () => 'trends/node-a--sysinfo.html'],
  ['trends-midolman', () => 'trends/node-c--midolman.html'],
  ['trends-kvm', () => 'trends/node-d--kvm.html'],
  ['compare-pair', () => `compare/${sweepIdFor(FIXTURE.start, 7)}/node-a--sysinfo.html`],
  ['compare', () => 'compare.html'],
  ['regressions', () => 'regressions.html'],
];

/** The kvm job page's charts: time per point, at least one point comparison (the hostile fio job's among them), the host's series per point. */
const KVM_CHARTS = {
  steps: '#chart-kvm-point-steps',
  comparisons: 'figure.chart[id^="chart-points-"]',
  hostSeries: 'figure.chart[id^="chart-series-host."]',
};

/** The fio.bw comparison of the job whose name carries XSS_ATTR (found by its title, drawn as SVG text). */
function hostileComparison(page: Page) {
  return page.locator('figure.chart[id^="chart-points-fio.bw-"]', { has: page.locator('svg text', { hasText: XSS_ATTR }) });
}

/** A tick label with an SI prefix stuck to its number ("190m" ms, "600m" load, "274.877907G" bytes, "3.5k" pps). */
const SI_TICK = /^-?[\d.,]+[yzafpnµumkMGTPEZY]$/;

/** Text of the SVG <text> elements under `selector` (axis labels, titles, legends). */
async function svgTexts(page: Page, selector: string): Promise<string[]> {
  return page.locator(`${selector} svg text`).allTextContents();
}

/** Markup a payload would have made if it had been parsed as HTML. */
async function assertNoInjectedMarkup(page: Page, name: string): Promise<void> {
  assert.is(await page.locator('img[src="x"], img[onerror]').count(), 0, `${name}: an <img> payload became an element`);
  assert.is(await page.locator('script:not([src])').count(), 0, `${name}: an inline <script> exists`);
}

test.before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is needed for this test`);
  work = await mkdtemp(join(tmpdir(), 'site-browser-'));
  site = join(work, 'site');
  await writeFixtureStore(join(work, 'results'), 10, FIXTURE);
  await writeBrowserFindings(join(work, 'results'), FIXTURE, 9);
  await buildSite({ resultsDir: join(work, 'results'), outDir: site });
  server = await serveDir(site);
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // launch() gives every run a fresh temporary --user-data-dir of its own
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

test.after(async () => {
  await browser?.close();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

for (const [name, path] of PAGES) {
  test(`${name}: interactive charts, no console errors, no request leaves the site`, async () => {
    const ctx = await context(true);
    try {
      const { page, errors } = await open(ctx, path());
      const figures = await page.locator('figure.chart').count();
      if (name !== 'index' && name !== 'regressions' && !name.startsWith('compare')) assert.ok(figures > 0, `${name} has charts`);
      if (figures > 0) {
        // a string, so the test's tsconfig needs no DOM types
        await page.waitForFunction("[...document.querySelectorAll('figure.chart')].every((f) => f.classList.contains('interactive'))", null, { timeout: 20_000 });
        assert.is(await page.locator('figure.chart .chart-live svg.marks').count(), figures, 'every chart is a vega-embed SVG view');
        assert.is(await page.locator('figure.chart .chart-view').count(), 0, 'static SVGs were replaced');
        // every axis reads in its unit: no SI prefix stacked on a unit, no NaN, no 9-digit ticks
        const labels = await svgTexts(page, 'figure.chart .chart-live');
        const unreadable = labels.filter((t) => SI_TICK.test(t) || t.includes('NaN') || /\d\.\d{5,}/.test(t));
        assert.equal(unreadable, [], `${name}: unreadable axis labels`);
      }
      if (name === 'job-kvm') {
        assert.is(await page.locator(`${KVM_CHARTS.steps} .chart-live svg.marks`).count(), 1, 'the "Time per matrix point" chart is live');
        assert.ok((await svgTexts(page, KVM_CHARTS.steps)).includes('Time per matrix point'));
        assert.ok((await page.locator(`${KVM_CHARTS.comparisons} .chart-live svg.marks`).count()) >= 1, 'a points-comparison chart is live');
        assert.is(await hostileComparison(page).locator('.chart-live svg.marks').count(), 1, 'the comparison of the fio job with the hostile name is live');
        assert.is(await page.locator(`${KVM_CHARTS.hostSeries} .chart-live svg.marks`).count(), 2, 'host cpu and memory series charts are live');
        // the hostile point id and fio job name are text: in the live SVG (axis labels, titles), the tables, and the tooltip
        const svgText = (await svgTexts(page, 'figure.chart')).join('\n');
        assert.ok(svgText.includes('alert(1)'), 'a hostile label is drawn as SVG text');
        // the long samples table is folded: open it, as a reader would
        assert.is(await page.locator('details.samples[open]').count(), 0, 'a long samples table starts folded');
        await page.locator('details.samples > summary').click();
        assert.ok((await page.locator('body').innerText()).includes(XSS_SCRIPT), 'the hostile point id is shown as text');
        assert.ok((await page.locator('body').innerText()).includes(XSS_ATTR), 'the hostile fio job name is shown as text');
        assert.ok((await page.locator(`${KVM_CHARTS.steps} .chart-live svg.marks g.mark-rect path`).count()) >= 21, '7 steps x 3 points');
        // bars are named by what differs between points; the full (hostile) point id is in the comparison tooltips
        const bars = page.locator(`${KVM_CHARTS.comparisons} .chart-live svg.marks g.mark-rect path`);
        let tooltipShowedPayload = false;
        for (let i = 0; i < (await bars.count()) && !tooltipShowedPayload; i++) {
          await bars.nth(i).hover({ force: true });
          const tooltip = page.locator('#vg-tooltip-element');
          if ((await tooltip.count()) === 0 || !(await tooltip.isVisible())) continue;
          assert.is(await tooltip.locator('img, script').count(), 0, 'the tooltip holds no payload element');
          tooltipShowedPayload = (await tooltip.innerText()).includes(XSS_SCRIPT);
        }
        assert.ok(tooltipShowedPayload, 'a bar of the hostile point shows its id, as text, in the tooltip');
        await page.mouse.move(0, 0);
      }
      await assertNoInjectedMarkup(page, name);
      if (name === 'compare') {
        await page.waitForSelector('#result table', { timeout: 10_000 });
        assert.ok((await page.locator('#result tbody tr').count()) > 0, 'client-side comparison rendered');
      }
      if (name === 'index') {
        const rows = await page.locator('#sweeps tbody tr:not([hidden])').count();
        await page.fill('#filter', 'failed');
        const filtered = await page.locator('#sweeps tbody tr:not([hidden])').count();
        assert.ok(filtered > 0 && filtered < rows, `filter narrows rows (${filtered} of ${rows})`);
        assert.match(page.url(), /#q=failed/);
        await page.click('th[data-sort="hosts"]');
        assert.match(page.url(), /sort=hosts/);
        await page.fill('#filter', '');
      }
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
      assert.equal(errors, [], `console errors on ${name}`);
    } finally {
      await ctx.close();
    }
  });
}

test('with JavaScript disabled the pre-rendered SVG charts are there', async () => {
  const ctx = await context(false);
  try {
    for (const [name, path] of PAGES) {
      const { page } = await open(ctx, path());
      const figures = await page.locator('figure.chart').count();
      assert.is(await page.locator('figure.chart .chart-view > svg').count(), figures, name);
      if (name === 'job' || name === 'trends' || name === 'job-kvm') assert.ok(figures > 0);
      if (name === 'job-kvm') {
        assert.is(await page.locator(`${KVM_CHARTS.steps} .chart-view > svg`).count(), 1, 'the "Time per matrix point" chart is pre-rendered');
        assert.ok((await svgTexts(page, KVM_CHARTS.steps)).includes('Time per matrix point'));
        assert.ok((await page.locator(`${KVM_CHARTS.comparisons} .chart-view > svg`).count()) >= 1, 'a points-comparison chart is pre-rendered');
        assert.is(await hostileComparison(page).locator('.chart-view > svg').count(), 1, 'the hostile fio job name is a chart title');
        assert.is(await page.locator(`${KVM_CHARTS.hostSeries} .chart-view > svg`).count(), 2);
        // the pre-rendered SVG holds the hostile fio job name as text in a title (above), never as markup;
        // points are named on the axis by the axes that differ between them, not by their long ids
        const axisLabels = await svgTexts(page, KVM_CHARTS.steps);
        assert.ok(['smp1x2x1 · raw', 'smp1x2x1 · qcow2', 'smp2x2x1 · raw'].every((n) => axisLabels.includes(n)), axisLabels.join(' | '));
        const html = await (await fetch(server.url + path())).text();
        assert.not.ok(html.includes(XSS_SCRIPT) || html.includes('<img src=x'), 'the page source holds no raw payload');
        assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the payload is there, escaped');
        await assertNoInjectedMarkup(page, name);
      }
      if (name === 'index') assert.ok((await page.locator('#sweeps tbody tr').count()) === 10, 'the table is complete without JS');
      if (name === 'compare') assert.ok((await page.locator('#pairs a').count()) > 0, 'pre-rendered pairs listed');
      if (name === 'job' || name === 'index' || name === 'job-kvm') await page.screenshot({ path: join(SHOTS, `${name}-nojs.png`), fullPage: true });
      await page.close();
    }
  } finally {
    await ctx.close();
  }
});

/** The midolman story charts, in page order, and what each must have drawn (Vega's SVG: g.mark-<type> > path). */
const STORY: [id: string, marks: string[]][] = [
  ['mm-rates', ['line', 'symbol', 'rule']],
  ['mm-loss', ['line', 'symbol', 'rule']],
  ['mm-latency', ['line', 'symbol', 'rule']],
  ['mm-agent', ['rect', 'line']],
  ['mm-heap', ['rect', 'area', 'line']],
  ['mm-long-running', ['line', 'symbol']],
  ['mm-flows', ['rect', 'line']],
  ['mm-pipeline', ['rect', 'line']],
];

/** How many marks of `type` a chart drew: paths with real geometry (a line's d has many points), rules as lines. */
async function marksDrawn(page: Page, chart: string, type: string, where: '.chart-live svg.marks' | '.chart-view > svg'): Promise<number> {
  const sel = `#chart-${chart} ${where} g.mark-${type}`;
  if (type === 'rule') return page.locator(`${sel} line`).count();
  if (type === 'symbol' || type === 'rect') return page.locator(`${sel} path`).count();
  const ds = await page.locator(`${sel} path`).evaluateAll((paths) => paths.map((p) => p.getAttribute('d') ?? ''));
  return ds.filter((d) => (d.match(/[ML]/g) ?? []).length >= 3).length;
}

/** The summary line: label -> value, as shown. */
async function summary(page: Page): Promise<Record<string, string>> {
  const stats = page.locator('dl.summary .stat');
  const out: Record<string, string> = {};
  for (let i = 0; i < (await stats.count()); i++) out[(await stats.nth(i).locator('dt').innerText()).trim()] = (await stats.nth(i).locator('.value').innerText()).trim();
  return out;
}

for (const [name, host, hostile] of [['job-midolman', 'node-c', false], ['job-midolman-ndr', 'node-e', true]] as const) {
  test(`${name}: the summary and the key charts on the first screen, every story chart drawn with data and fitting its box`, async () => {
    const ctx = await context(true);
    try {
      const { page, errors } = await open(ctx, `jobs/${sweepIdFor(FIXTURE.start, 7)}/${host}--midolman.html`);
      await page.waitForFunction("[...document.querySelectorAll('figure.chart')].every((f) => f.classList.contains('interactive'))", null, { timeout: 20_000 });
      const values = await summary(page);
      const ref = hostile ? 'NDR' : 'lossless max';
      assert.equal(Object.keys(values), ['Lossless max', 'NDR', `p99 latency at ${ref}`, `Agent CPU/kpps at ${ref}`, 'Peak RSS', 'Peak heap', 'Build', 'Profile']);
      assert.match(values['Lossless max']!, /^[0-9],[0-9]{3} pps$/);
      assert.match(values['NDR']!, hostile ? /^[0-9],[0-9]{3} pps$/ : /^—$/);
      assert.match(values[`p99 latency at ${ref}`]!, /^[0-9.]+ (µs|ms)$/);
      assert.match(values[`Agent CPU/kpps at ${ref}`]!, /^[0-9.]+ %$/);
      assert.match(values['Peak RSS']!, /^[0-9.]+ MiB$/);
      assert.match(values['Peak heap']!, /^[0-9.]+ MiB$/);
      // sweep 7 runs the later build; the hostile job's build label and profile are shown as text
      assert.is(values['Build'], hostile ? `midolman 5.6.3 (8b41d0a7) ${XSS_SCRIPT}` : 'midolman 5.6.3 (8b41d0a7)');
      assert.is(values['Profile'], hostile ? `compute${XSS_ATTR}` : 'default');
      // the charts marking the NDR or lossless max name the rate the summary shows
      const ratesText = (await svgTexts(page, '#chart-mm-rates')).join(' | ');
      assert.ok(ratesText.includes(hostile ? `NDR = lossless max ${values['NDR']}` : `lossless max ${values['Lossless max']}`), ratesText);
      for (const [id, types] of STORY) {
        const figure = page.locator(`.story-charts #chart-${id}`);
        assert.is(await figure.count(), 1, `${id} is in the story`);
        for (const type of types) assert.ok((await marksDrawn(page, id, type, '.chart-live svg.marks')) > 0, `${id} drew ${type} marks`);
        const [client, scroll] = await figure.evaluate((f) => [f.clientWidth, f.scrollWidth]);
        assert.ok(scroll <= client + 1, `${id} fits its box (${scroll} > ${client})`);
        assert.ok((await figure.locator('figcaption a[download]').count()) === 2, `${id} has its JSON and CSV downloads`);
      }
      // axes say their units; the time charts shade the three measuring phases and name them
      const axisTitles = (await svgTexts(page, '.story-charts')).join(' | ');
      for (const title of ['offered rate (pps)', 'rate (pps)', 'loss (%)', 'CPU (%)', 'RSS (MiB)', 'heap (MiB)', 'one-way latency (µs)', 'flows', 'time (UTC)']) assert.ok(axisTitles.includes(title), `axis "${title}"`);
      // latencies from tens of µs to ms: the axis reads in whichever of the two fits the largest
      assert.match(axisTitles, /\| latency \((µs|ms)\) \|/);
      assert.ok(['warm-up', 'throughput', 'long-running'].every((p) => (axisTitles.match(new RegExp(`\\| ${p} \\|`, 'g')) ?? []).length >= 4), 'phase legends on the time charts');
      if (hostile) assert.ok(axisTitles.includes(`G1 Eden Space${XSS_SCRIPT}`), 'the hostile pool name is legend text');
      // the first screen holds the summary and the four key charts
      for (const id of ['mm-rates', 'mm-loss', 'mm-latency', 'mm-agent']) {
        const box = (await page.locator(`#chart-${id}`).boundingBox())!;
        assert.ok(box.y + box.height <= 900, `${id} ends at ${Math.round(box.y + box.height)} px, inside the first screen`);
      }
      assert.ok(((await page.locator('dl.summary').boundingBox())!.y) < 300, 'the summary is near the top');
      await assertNoInjectedMarkup(page, name);
      await page.screenshot({ path: join(SHOTS, `${name}-first-screen.png`) });
      for (const [id] of STORY) await page.locator(`#chart-${id}`).screenshot({ path: join(SHOTS, `${name}-${id}.png`) });
      assert.equal(errors, [], `console errors on ${name}`);
    } finally {
      await ctx.close();
    }
  });
}

test('job-midolman without JavaScript: the summary and every story chart, pre-rendered with its marks', async () => {
  const ctx = await context(false);
  try {
    const { page } = await open(ctx, `jobs/${sweepIdFor(FIXTURE.start, 7)}/node-c--midolman.html`);
    assert.is(Object.keys(await summary(page)).length, 8);
    for (const [id, types] of STORY) {
      for (const type of types) assert.ok((await marksDrawn(page, id, type, '.chart-view > svg')) > 0, `${id} pre-rendered ${type} marks`);
      // drawn at its own size, not shrunk to fit (text stays as large as with JavaScript)
      const [natural, shown] = await page.locator(`#chart-${id} .chart-view > svg`).evaluate((svg) => [Number(svg.getAttribute('width')), svg.getBoundingClientRect().width]);
      assert.ok(natural > 0 && shown >= natural - 1, `${id} is ${natural} px wide, shown at ${Math.round(shown)}`);
    }
    await page.screenshot({ path: join(SHOTS, 'job-midolman-nojs-first-screen.png') });
  } finally {
    await ctx.close();
  }
});

test('trends-midolman: each point names its build in the tooltip; the runs table lists the builds', async () => {
  const ctx = await context(true);
  try {
    const { page, errors } = await open(ctx, 'trends/node-c--midolman.html');
    await page.waitForFunction("[...document.querySelectorAll('figure.chart')].every((f) => f.classList.contains('interactive'))", null, { timeout: 30_000 });
    const builds = await page.locator('table.runs tbody tr td:nth-child(3)').allInnerTexts();
    assert.is(builds.length, 10);
    assert.ok(builds[0]!.startsWith('midolman 5.6.3 (8b41d0a7)') && builds.at(-1) === 'midolman 5.6.2 (3f2a1c9e)', builds.join(' | '));
    const points = page.locator('[id="chart-m-throughput.lossless_max"] .chart-live svg.marks g.mark-symbol path');
    assert.ok((await points.count()) >= 10, 'a point per run');
    const seen = new Set<string>();
    const texts: string[] = [];
    const tooltip = page.locator('#vg-tooltip-element');
    for (let i = 0; i < (await points.count()); i++) {
      // away first, so each point's tooltip is its own
      await page.mouse.move(0, 0);
      await points.nth(i).hover({ force: true });
      try {
        await tooltip.waitFor({ state: 'visible', timeout: 2_000 });
      } catch {
        texts.push(`#${i}: no tooltip`);
        continue;
      }
      const text = await tooltip.innerText();
      texts.push(`#${i}: ${text.replace(/\s+/g, ' ')}`);
      const build = /midolman 5\.6\.[23] \([0-9a-f]{8}\)/.exec(text);
      if (build) seen.add(build[0]);
    }
    assert.equal([...seen].sort(), ['midolman 5.6.2 (3f2a1c9e)', 'midolman 5.6.3 (8b41d0a7)'], `the tooltips name both builds: ${texts.join(' | ')}`);
    await page.mouse.move(0, 0);
    assert.equal(errors, []);
  } finally {
    await ctx.close();
  }
});

/** What each count of the at-a-glance line says: label -> number shown. */
async function glanceCounts(page: Page): Promise<Record<string, string>> {
  const stats = page.locator('#glance dl.glance-counts .stat');
  const out: Record<string, string> = {};
  for (let i = 0; i < (await stats.count()); i++) out[(await stats.nth(i).locator('dt').innerText()).trim()] = (await stats.nth(i).locator('.value').innerText()).trim();
  return out;
}

test('index: last night at a glance opens the page - what the latest sweep found, each kind apart, on the first screen', async () => {
  const ctx = await context(true);
  try {
    const { page, errors } = await open(ctx, 'index.html');
    const glance = page.locator('section#glance');
    assert.ok(await glance.isVisible(), 'the at-a-glance section is shown');
    assert.match(await glance.locator('h2').innerText(), /Last night at a glance/);
    assert.match(await glance.locator('.glance-head').innerText(), new RegExp(`Sweep ${sweepIdFor(FIXTURE.start, 9)}`));
    assert.equal(await glanceCounts(page), { 'Confirmed regressions': '1', 'Unconfirmed regressions': '1', 'Still present': '1', Improvements: '1', 'Failed jobs': '0', 'Not reproduced': '1' });
    const counts = (await page.locator('#glance dl.glance-counts').boundingBox())!;
    assert.ok(counts.y + counts.height <= 400, `the counts end at ${Math.round(counts.y + counts.height)} px, at the top of the first screen`);
    const confirmed = (await page.locator('#glance-confirmed').innerText()).replace(/\s+/g, ' ');
    assert.match(confirmed, /throughput\.lossless_max on node-c · midolman/);
    assert.match(confirmed, /4,000 pps → 3,500 pps/);
    assert.match(confirmed, /2 re-runs: 3,480 pps, 3,510 pps against 4,003 pps before/);
    assert.match(confirmed, /paged/);
    assert.match((await page.locator('#glance-unconfirmed').innerText()).replace(/\s+/g, ' '), /throughput\.ndr on node-e · midolman.*no re-run: the confirmation budget was spent/);
    assert.match((await page.locator('#glance-still-present').innerText()).replace(/\s+/g, ' '), /host\.cpu\.busy\.mean on node-a · sysinfo.*20\.1 % → 32\.2 %/);
    // a kvm series is named by its point's short name, as the job page names it
    assert.match((await page.locator('#glance-improvements').innerText()).replace(/\s+/g, ' '), /kvm\.point\.boot on node-d · kvm point smp1x2x1 · raw.*33\.1 s → 30\.4 s/);
    // not reproduced: shown apart, after the regressions, its change not flagged as one
    const apart = page.locator('#glance-not-reproduced');
    assert.match((await apart.innerText()).replace(/\s+/g, ' '), /not counted as regressions.*host\.cpu\.busy\.mean on node-b · sysinfo.*1 re-run: 21\.4 %/);
    assert.is(await apart.locator('.flag.regression').count(), 0, 'a candidate not reproduced is not flagged as a regression');
    const order = await page.locator('#glance .glance-list').evaluateAll((els) => els.map((e) => e.id));
    assert.equal(order, ['glance-confirmed', 'glance-unconfirmed', 'glance-still-present', 'glance-improvements', 'glance-not-reproduced']);
    // one sparkline per changed metric, drawn
    assert.is(await page.locator('#glance table.glance-changes tr').count(), 5);
    assert.ok((await page.locator('#glance table.glance-changes tr svg.spark polyline').count()) >= 5, 'each row has its sparkline');
    const box = (await glance.boundingBox())!;
    assert.ok(box.y < 160, `the section starts the page, under its title (${Math.round(box.y)} px)`);
    await page.screenshot({ path: join(SHOTS, 'index-first-screen.png') });
    assert.equal(errors, []);
  } finally {
    await ctx.close();
  }
});

test('regressions: the table fits the page, its values read in their units, no console errors', async () => {
  const ctx = await context(true);
  try {
    const { page, errors } = await open(ctx, 'regressions.html');
    const [client, scroll] = await page.evaluate('[document.documentElement.clientWidth, document.documentElement.scrollWidth]') as [number, number];
    assert.ok(scroll <= client, `no sideways scrolling (${scroll} > ${client})`);
    const lossless = page.locator('table.changes > tbody.cause > tr:not(.folded)', { hasText: 'throughput.lossless_max' }).first();
    assert.ok(await lossless.isVisible(), 'the headline regression is among the rows shown unfolded');
    const cells = await lossless.locator('td').allInnerTexts();
    assert.match(cells[4]!.replace(/\s+/g, ' '), /^[\d,.]+ pps → [\d,.]+ pps$/, 'before and after with their unit');
    assert.match(cells[5]!.replace(/\s+/g, ' '), /^-?[\d.]+ % p = [\d.]+$/);
    // a build change's per-step rows are folded under their cause; opened, they are there
    const shown = await page.locator('table.changes > tbody.cause > tr:not(.folded)').count();
    const more = page.locator('details.more-changes').first();
    assert.match(await more.locator('summary').innerText(), /^\d+ more changes on node-[ce] · midolman from this sweep, between build midolman 5\.6\.2/);
    assert.not.ok(await more.locator('tr').first().isVisible());
    await more.locator('summary').click();
    assert.ok(await more.locator('tr').first().isVisible());
    assert.ok(shown < (await page.locator('table.changes tr:has(td)').count()) - 1, 'fewer rows shown than there are');
    const [client2, scroll2] = await page.evaluate('[document.documentElement.clientWidth, document.documentElement.scrollWidth]') as [number, number];
    assert.ok(scroll2 <= client2, `no sideways scrolling with a cause unfolded (${scroll2} > ${client2})`);
    await page.screenshot({ path: join(SHOTS, 'regressions-first-screen.png') });
    assert.equal(errors, []);
  } finally {
    await ctx.close();
  }
});

test('index: a sweep is one compact row - counts per status, the jobs worth a look flagged, every job folded', async () => {
  const ctx = await context(true);
  try {
    const { page, errors } = await open(ctx, 'index.html');
    const calm = page.locator(`#sweeps tr:has-text("${sweepIdFor(FIXTURE.start, 9)}")`);
    assert.match((await calm.locator('td.jobs').innerText()).replace(/\s+/g, ' '), /^6 ok all 6 jobs$/);
    assert.ok((await calm.boundingBox())!.height < 70, `a calm night is one line (${(await calm.boundingBox())!.height} px)`);
    // the sweep the build change regressed: its regressed jobs flagged, unfolded; the rest only in the folded list
    const stepped = page.locator(`#sweeps tr:has-text("${sweepIdFor(FIXTURE.start, 4)}")`);
    const flagged = await stepped.locator('ul.notable .chip.changed-regression').allInnerTexts();
    assert.ok(flagged.some((t) => /^node-c · midolman .* regression$/.test(t.replace(/\s+/g, ' '))), flagged.join(' | '));
    const all = stepped.locator('details.all-jobs');
    assert.not.ok(await all.locator('.chip').first().isVisible());
    await all.locator('summary').click();
    assert.is(await all.locator('.chip').count(), 6);
    assert.ok(await all.locator('.chip').first().isVisible());
    // the filter still reads every job, folded or not
    await page.fill('#filter', 'node-d');
    assert.is(await page.locator('#sweeps tbody tr:not([hidden])').count(), 10);
    await page.screenshot({ path: join(SHOTS, 'index-rows.png'), fullPage: true });
    assert.equal(errors, []);
  } finally {
    await ctx.close();
  }
});

test('trends-kvm: the matrix overview on the first screen (points by their short names), a cell opens its chart', async () => {
  const ctx = await context(true);
  try {
    const { page, errors } = await open(ctx, 'trends/node-d--kvm.html');
    const matrix = page.locator('table.matrix').first();
    assert.ok(await matrix.isVisible());
    const heads = await matrix.locator('thead th').allInnerTexts();
    assert.equal(heads, ['Measurement', 'smp1x2x1 · qcow2', 'smp1x2x1 · raw', 'smp2x2x1 · raw']);
    const top = (await matrix.boundingBox())!.y;
    assert.ok(top < 400, `the matrix starts at ${Math.round(top)} px`);
    // a row per measurement: the fio jobs apart (the hostile job name as text), each point's steps
    const rows = await matrix.locator('tbody th[scope=row]').allInnerTexts();
    assert.ok(rows.some((r) => r.startsWith('fio.bw') && r.includes(`job=seq-read${XSS_ATTR}`)), rows.join(' | '));
    assert.ok(rows.some((r) => r.startsWith('kvm.point.boot')), rows.join(' | '));
    const cell = matrix.locator('tbody tr', { has: page.locator('th', { hasText: 'kvm.point.define' }) }).locator('td.cell').first();
    assert.match((await cell.innerText()).replace(/\s+/g, ' '), /^\d{3} ms [+-]?[\d.]+ %|^\d{3} ms 0 %/, 'a step under a second reads in ms');
    assert.is(await cell.locator('svg.spark polyline').count(), 1, 'with its history');
    // the full charts are folded under the overview; a cell unfolds its own
    assert.is(await page.locator('details.all-charts[open]').count(), 0);
    await page.waitForFunction("[...document.querySelectorAll('figure.chart')].every((f) => f.classList.contains('interactive'))", null, { timeout: 30_000 });
    await cell.locator('a').click();
    const chart = page.locator('[id="chart-m-kvm.point.define"]');
    await chart.waitFor({ state: 'visible', timeout: 5_000 });
    assert.ok(await chart.isVisible(), 'the cell opened its chart');
    const legend = await svgTexts(page, '[id="chart-m-kvm.point.define"] .chart-live');
    assert.ok(['smp1x2x1 · qcow2', 'smp1x2x1 · raw', 'smp2x2x1 · raw'].every((n) => legend.includes(n)), `the legend names points as the job page does: ${legend.join(' | ')}`);
    assert.ok(legend.includes('kvm.point.define (ms)'), legend.join(' | '));
    await page.locator('table.matrix').first().screenshot({ path: join(SHOTS, 'trends-kvm-matrix.png') });
    assert.equal(errors, []);
  } finally {
    await ctx.close();
  }
});

test('compare: opens on the latest run of a job against its previous run; picking B brings A along', async () => {
  const ctx = await context(true);
  try {
    const { page, errors } = await open(ctx, 'compare.html');
    await page.waitForSelector('#result table', { timeout: 10_000 });
    const latest = sweepIdFor(FIXTURE.start, 9);
    assert.is(await page.locator('#b-job').inputValue(), `${latest}/node-a--sysinfo`);
    assert.is(await page.locator('#a-job').inputValue(), `${sweepIdFor(FIXTURE.start, 8)}/node-a--sysinfo`);
    const memory = page.locator('#result tbody tr', { has: page.locator('td', { hasText: /^memory\.total$/ }) });
    assert.equal((await memory.locator('td').allInnerTexts()).slice(2, 4), ['64 GiB', '64 GiB'], 'values read in their unit, as on the pages');
    await page.selectOption('#b-job', `${sweepIdFor(FIXTURE.start, 5)}/node-a--sysinfo`);
    assert.is(await page.locator('#a-job').inputValue(), `${sweepIdFor(FIXTURE.start, 4)}/node-a--sysinfo`);
    await page.locator('#result .lead', { hasText: `A: node-a · sysinfo · ${sweepIdFor(FIXTURE.start, 4)}` }).waitFor({ timeout: 5_000 });
    assert.equal(errors, []);
  } finally {
    await ctx.close();
  }
});

/** A compare table's rows as read: [metric, labels, A, B, Δ, p, verdict], and the Δ cells' classes. */
async function compareTable(page: Page, table: string): Promise<{ rows: string[][]; deltas: { cls: string; lines: number }[] }> {
  return page.$$eval(`${table} tbody tr`, (trs) => {
    // in the page: its window, typed here by what is used of it (the tests compile without the DOM library)
    type Cell = { innerText: string; className: string };
    const view = globalThis as unknown as {
      getComputedStyle(element: unknown): { lineHeight: string };
      document: { createRange(): { selectNodeContents(node: unknown): void; getBoundingClientRect(): { height: number } } };
    };
    const rows = trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as unknown as Cell).innerText.trim()));
    const deltas = trs.map((tr) => {
      const td = tr.querySelectorAll('td')[4] as unknown as Cell;
      const lineHeight = parseFloat(view.getComputedStyle(td).lineHeight) || 20;
      const range = view.document.createRange();
      range.selectNodeContents(td);
      return { cls: td.className, lines: Math.round(range.getBoundingClientRect().height / lineHeight) };
    });
    return { rows, deltas };
  });
}

test('compare: a regression on one sample each reads "worse, untested", p "—", Δ red on one line; the picker reads the pair the same', async () => {
  // sweep 4 is the regression: node-a's host.cpu.busy.mean ~60 % higher (lower is better), one sample a side
  const [before, after] = [sweepIdFor(FIXTURE.start, 3), sweepIdFor(FIXTURE.start, 4)];
  const noJs = await context(false);
  let pair: Awaited<ReturnType<typeof compareTable>>;
  try {
    const { page, errors } = await open(noJs, `compare/${after}/node-a--sysinfo.html`);
    pair = await compareTable(page, 'table.compare-metrics');
    const cpu = pair.rows.find((r) => r[0] === 'host.cpu.busy.mean')!;
    assert.ok(cpu, 'the regressed metric is listed');
    assert.match(cpu[4]!, /^\+\d+\.\d %$/);
    assert.is(cpu[5], '—', 'no p-value: one sample each cannot reach 0.05 (it read "1")');
    assert.is(cpu[6], 'worse, untested (1 sample each)', 'was "inconclusive"');
    assert.is(pair.rows[0]![6]!.startsWith('worse'), true, 'worse rows first');
    const cpuDelta = pair.deltas[pair.rows.indexOf(cpu)]!;
    assert.ok(cpuDelta.cls.split(' ').includes('delta-worse'), cpuDelta.cls);
    for (const d of pair.deltas) assert.is(d.lines, 1, 'Δ stays on one line');
    // no better direction and beyond the 5 % threshold: "changed", never "same"
    for (const r of pair.rows.filter((r) => r[0] === 'load.1m' && Math.abs(parseFloat(r[4]!.replace(/[+,]/g, ''))) >= 5)) assert.match(r[6]!, /^changed/);
    assert.not.ok(pair.rows.some((r) => r[5] === '1'), 'no row says p = 1');
    const memory = await page.locator('table.env tr', { has: page.locator('th', { hasText: /^memory/ }) }).locator('td').allInnerTexts();
    assert.equal(memory, ['64 GiB', '64 GiB'], 'memory in its unit, as on the job page');
    assert.match(await page.locator('.compare-differs').innerText(), /What differs: .*midolman 5\.6\.2 → 5\.6\.3/);
    await page.screenshot({ path: join(SHOTS, 'compare-pair-regression-nojs.png') });
    assert.equal(errors, []);
  } finally {
    await noJs.close();
  }
  const js = await context(true);
  try {
    const { page, errors } = await open(js, `compare.html#a=${encodeURIComponent(`${before}/node-a--sysinfo`)}&b=${encodeURIComponent(`${after}/node-a--sysinfo`)}`);
    await page.waitForSelector('#result table.compare-metrics', { timeout: 10_000 });
    const picked = await compareTable(page, '#result table.compare-metrics');
    assert.equal(picked.rows, pair.rows, 'the picker reads the pair as its page does: values, Δ, p, verdict and order');
    assert.equal(picked.deltas, pair.deltas);
    assert.match(await page.locator('#result .compare-differs').innerText(), /What differs: .*midolman 5\.6\.2 → 5\.6\.3/);
    await page.screenshot({ path: join(SHOTS, 'compare-picker-regression.png') });
    assert.equal(errors, []);
  } finally {
    await js.close();
  }
});

test('no request left 127.0.0.1', () => {
  assert.equal(offsite, []);
});

test.run();
