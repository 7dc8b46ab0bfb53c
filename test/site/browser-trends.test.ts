// A long history's trends pages in headless Chromium (orchestrator/site/trend-units.ts): the
// landing page (the last 90 days) and a month's page draw their charts with the right points,
// the links between them and from the regressions page work, the downloads hold the page's
// points, nothing errors, no request leaves 127.0.0.1; without JavaScript the pre-rendered SVGs
// are there; a midolman page's legends tell its lines apart and its charts fit their cards; the
// pre-rendered charts' time axes label what the live charts' label, the days among them.
// Screenshots: test/.output/site-screenshots/trends-window.png, trends-period.png, trends-midolman-legend.png.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildSite } from '../../orchestrator/site/build.js';
import { timeBandsChart, timeSeriesChart, trendChart, type ChartSpec } from '../../orchestrator/site/charts.js';
import { drawChart } from '../../orchestrator/site/svg-chart/draw.js';
import { sweepIdFor, TEST_FIXTURE, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';
import { servedOnlyContext, serveDir } from './serve.js';

const SHOTS = resolve('test/.output/site-screenshots');
const CHROMIUM = '/usr/bin/chromium';

/** node-a (sysinfo, a regression from sweep 4 on June 24) and node-c (midolman, a new build then), from 2026-06-20. */
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
// June 20-27 (8), July 30-31, September 3-4, October 8-10: the window is July 12 to October 10
const SWEEPS = [0, 1, 2, 3, 4, 5, 6, 7, 40, 41, 75, 76, 110, 111, 112];
const LANDING = 'trends/node-a--sysinfo.html';
const JUNE = 'trends/node-a--sysinfo/2026-06.html';
const CPU_MEAN = '[id="chart-m-host.cpu.busy.mean"]';

let work = '';
let server: Awaited<ReturnType<typeof serveDir>>;
let browser: Browser;
const offsite: string[] = [];

const context = (javaScriptEnabled: boolean): Promise<BrowserContext> => servedOnlyContext(browser, server, javaScriptEnabled, offsite);

function watch(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()}`));
  return errors;
}

async function live(page: Page): Promise<void> {
  await page.waitForFunction("[...document.querySelectorAll('figure.chart')].every((f) => f.classList.contains('interactive'))", null, { timeout: 30_000 });
  assert.is(await page.locator('figure.chart .chart-live svg.marks').count(), await page.locator('figure.chart').count(), 'every chart is live');
}

/** The rows of a chart's CSV download (its link on the page, fetched as the reader would). */
async function csvRows(page: Page, chart: string): Promise<string[]> {
  const href = await page.locator(`${chart} .downloads a[href$=".csv"]`).getAttribute('href');
  const response = await page.request.get(new URL(href!, page.url()).href);
  assert.is(response.status(), 200, `${href}`);
  return (await response.text()).trim().split('\n').slice(1);
}

test.before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is needed for this test`);
  work = await mkdtemp(join(tmpdir(), 'site-browser-trends-'));
  for (const i of SWEEPS) await writeFixtureSweep(join(work, 'results'), i, FIXTURE);
  await buildSite({ resultsDir: join(work, 'results'), outDir: join(work, 'site') });
  server = await serveDir(join(work, 'site'));
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

test.after(async () => {
  await browser?.close();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('the landing page draws the window, lists the months, and a month link opens that month drawn with its own points', async () => {
  const ctx = await context(true);
  try {
    const page = await ctx.newPage();
    const errors = watch(page);
    assert.is((await page.goto(server.url + LANDING))?.status(), 200);
    await live(page);
    // the window: 7 runs from July 30 on, a point each
    assert.is(await page.locator(`${CPU_MEAN} .chart-live svg.marks g.mark-symbol.role-mark path`).count(), 7);
    assert.is((await csvRows(page, CPU_MEAN)).length, 7, 'the window\'s csv holds its runs');
    const months = await page.locator('nav.periods a').allInnerTexts();
    assert.equal(months, ['September 2026', 'July 2026', 'June 2026']);
    await page.screenshot({ path: join(SHOTS, 'trends-window.png'), fullPage: true });

    await page.locator('nav.periods a', { hasText: 'June 2026' }).click();
    await page.waitForURL(/2026-06\.html$/);
    await live(page);
    assert.match(await page.locator('h1').innerText(), /June 2026/);
    assert.is(await page.locator(`${CPU_MEAN} .chart-live svg.marks g.mark-symbol.role-mark path`).count(), 8, 'June\'s 8 runs');
    assert.is(await page.locator(`${CPU_MEAN} .chart-live svg.marks g.mark-rule.role-mark line`).count(), 1, 'the regression of June 24 is marked');
    const rows = await csvRows(page, CPU_MEAN);
    assert.is(rows.length, 8);
    assert.ok(rows.every((r) => r.includes('2026-06-')), 'June\'s csv holds June only');
    assert.ok((await page.locator('table.data tbody tr', { hasText: 'host.cpu.busy.mean' }).locator('.flag.regression').count()) === 1, 'its changes table lists the regression');
    await page.screenshot({ path: join(SHOTS, 'trends-period.png'), fullPage: true });

    // a point opens its job; back, the latest-page link goes back to the window
    const jobHref = await page.locator('table.runs a').first().getAttribute('href').catch(() => null);
    if (jobHref) assert.is((await page.request.get(new URL(jobHref, page.url()).href)).status(), 200, jobHref);
    await page.locator('nav.periods a', { hasText: 'The latest' }).click();
    await page.waitForURL(/node-a--sysinfo\.html$/);
    await live(page);
    assert.equal(errors, []);
    assert.equal(offsite, []);
  } finally {
    await ctx.close();
  }
});

test('the regressions page\'s trend link of June\'s regression opens June\'s page at its chart', async () => {
  const ctx = await context(true);
  try {
    const page = await ctx.newPage();
    const errors = watch(page);
    assert.is((await page.goto(`${server.url}regressions.html`))?.status(), 200);
    const link = page.locator('a', { hasText: 'trend' }).filter({ has: page.locator(':scope') }).first();
    const href = await page.locator('a[href*="node-a--sysinfo/2026-06.html#m-"]').first().getAttribute('href');
    assert.ok(href, `a trend link to June (first link: ${await link.getAttribute('href')})`);
    await page.locator(`a[href="${href}"]`).first().click();
    await page.waitForURL(/2026-06\.html#m-/);
    const anchor = new URL(page.url()).hash.slice(1);
    assert.is(await page.locator(`[id="${anchor}"]`).count(), 1, 'the anchor is on the page');
    await live(page);
    assert.equal(errors, []);
  } finally {
    await ctx.close();
  }
});

/** Per chart of the page with a legend: its legend's entry texts as drawn (the live Vega view, else the pre-rendered SVG) and whether the chart's card scrolls sideways. */
async function legendsOf(page: Page): Promise<{ id: string; entries: string[]; scrollWidth: number; clientWidth: number }[]> {
  return page.locator('figure.chart').evaluateAll((figures) =>
    figures.map((figure) => {
      const live = figure.querySelector('.chart-live svg');
      // Vega's legend labels, or the SVG writer's legends (less their bold titles)
      const texts = live ? [...live.querySelectorAll('g.role-legend-label text')] : [...figure.querySelectorAll('.chart-view > svg g.legend text')].filter((t) => t.getAttribute('font-weight') !== 'bold');
      return { id: figure.id, entries: texts.map((t) => t.textContent ?? ''), scrollWidth: figure.scrollWidth, clientWidth: figure.clientWidth };
    }),
  );
}

test('a midolman trends page: every legend names its lines apart, whole, live and pre-rendered; no chart is wider than its card', async () => {
  for (const javaScript of [true, false]) {
    const ctx = await context(javaScript);
    try {
      const page = await ctx.newPage();
      const errors = watch(page);
      assert.is((await page.goto(`${server.url}trends/node-c--midolman.html`))?.status(), 200);
      if (javaScript) await live(page);
      const charts = await legendsOf(page);
      // the legends of label sets (a single line's chart may have one of detected changes)
      const withLegend = charts.filter((c) => c.entries.length > 1 && c.entries.some((e) => e.includes('=')));
      assert.ok(withLegend.length >= 5, `charts with a line per step: ${withLegend.length}`);
      for (const c of withLegend) {
        assert.is(new Set(c.entries).size, c.entries.length, `${c.id}: legend entries pairwise distinct: ${c.entries.join(' | ')}`);
        assert.not.ok(c.entries.some((e) => e.includes('…')), `${c.id}: no entry cut: ${c.entries.join(' | ')}`);
        assert.ok(c.entries.every((e) => e.includes('step=')), `${c.id}: each entry says its step`);
      }
      for (const c of charts) assert.ok(c.scrollWidth <= c.clientWidth, `${c.id}: ${c.scrollWidth} px in a ${c.clientWidth} px card`);
      if (javaScript) {
        // the legend still picks its line: a click on a name dims the other lines
        const chart = page.locator(`[id="${withLegend[0]!.id}"]`);
        const opacities = () => chart.locator('.chart-live g.mark-line path').evaluateAll((paths) => paths.map((p) => p.getAttribute('opacity')));
        assert.ok((await opacities()).every((o) => o === '1'));
        await chart.locator('.chart-live g.role-legend-label text', { hasText: withLegend[0]!.entries[1]! }).click();
        for (let i = 0; i < 50 && (await opacities()).filter((o) => o === '1').length !== 1; i++) await page.waitForTimeout(100);
        assert.is((await opacities()).filter((o) => o === '0.15').length, withLegend[0]!.entries.length - 1, 'the other lines dimmed');
        await chart.screenshot({ path: join(SHOTS, 'trends-midolman-legend.png') });
      }
      assert.equal(errors, []);
      await page.close();
    } finally {
      await ctx.close();
    }
  }
  assert.equal(offsite, []);
});

/** Per chart of the page with a time x axis: the x tick labels shown (the live Vega view's, else the pre-rendered SVG's, less its title). */
async function timeLabelsOf(page: Page): Promise<{ id: string; labels: string[] }[]> {
  const charts = await page.locator('figure.chart').evaluateAll((figures) =>
    figures.map((figure) => {
      const live = figure.querySelector('.chart-live svg');
      const axis = live ? [...live.querySelectorAll('g.role-axis')].find((a) => a.getAttribute('aria-label')?.startsWith('X-axis') && a.querySelector('g.role-axis-title')) : figure.querySelector('.chart-view > svg g.axis.x');
      const texts = axis ? [...axis.querySelectorAll(live ? 'g.role-axis-label text' : 'text')] : [];
      const title = live ? (axis?.querySelector('g.role-axis-title text')?.textContent ?? '') : (texts.find((t) => t.getAttribute('font-weight') === 'bold')?.textContent ?? '');
      const shown = texts.filter((t) => t.getAttribute('font-weight') !== 'bold' && t.getAttribute('opacity') !== '0');
      return { id: figure.id, title, labels: shown.map((t) => t.textContent ?? '') };
    }),
  );
  return charts.filter((c) => c.title.includes('(UTC)')).map(({ id, labels }) => ({ id, labels }));
}

test('a pre-rendered time axis labels the ticks the live chart labels: June\'s days, the window\'s weeks, a job\'s times', async () => {
  const job = `jobs/${sweepIdFor(FIXTURE.start, 112)}/node-a--sysinfo.html`;
  const drawn = new Map<boolean, { id: string; labels: string[] }[]>();
  for (const javaScript of [true, false]) {
    const ctx = await context(javaScript);
    try {
      const charts: { id: string; labels: string[] }[] = [];
      for (const path of [LANDING, JUNE, 'trends/node-c--midolman.html', job]) {
        const page = await ctx.newPage();
        assert.is((await page.goto(server.url + path))?.status(), 200, path);
        if (javaScript) await live(page);
        charts.push(...(await timeLabelsOf(page)).map((c) => ({ id: `${path}#${c.id}`, labels: c.labels })));
        await page.close();
      }
      drawn.set(javaScript, charts);
    } finally {
      await ctx.close();
    }
  }
  const [interactive, pre] = [drawn.get(true)!, drawn.get(false)!];
  assert.ok(interactive.length >= 10, `charts with a time axis: ${interactive.length}`);
  assert.equal(pre.map((c) => c.id), interactive.map((c) => c.id));
  pre.forEach((c, i) => assert.equal(c.labels, interactive[i]!.labels, c.id));
  const june = pre.find((c) => c.id === `${JUNE}#chart-m-host.cpu.busy.mean`)!;
  for (const day of ['Jun 21', 'Mon 22', 'Tue 23', 'Wed 24', 'Thu 25', 'Fri 26', 'Sat 27']) assert.ok(june.labels.includes(day), `${day}: ${june.labels.join(' | ')}`);
  const times = pre.filter((c) => c.id.startsWith(job));
  assert.ok(times.length >= 2 && times.every((c) => c.labels.length >= 3 && c.labels.every((l) => /^\d\d:\d\d:\d\d$/.test(l))), `the job's phases and series: ${JSON.stringify(times)}`);
  assert.equal(offsite, []);
});

/** Per chart of the page: its x axis' shown labels (live or pre-rendered, less the title) and the least gap between neighbours' boxes as Chromium lays them out (px). */
async function axisGaps(page: Page): Promise<{ id: string; labels: string[]; gap: number }[]> {
  return page.locator('figure.chart').evaluateAll((figures) =>
    figures.map((figure) => {
      const live = figure.querySelector('.chart-live svg');
      const axis = live ? [...live.querySelectorAll('g.role-axis')].find((a) => a.getAttribute('aria-label')?.startsWith('X-axis') && a.querySelector('g.role-axis-title')) : figure.querySelector('.chart-view > svg g.axis.x');
      const texts = axis ? [...axis.querySelectorAll(live ? 'g.role-axis-label text' : 'text')] : [];
      const shown = texts.filter((t) => t.getAttribute('font-weight') !== 'bold' && t.getAttribute('opacity') !== '0');
      const boxes = shown.map((t) => t.getBoundingClientRect());
      let gap = Infinity;
      for (let i = 1; i < boxes.length; i++) gap = Math.min(gap, boxes[i]!.left - boxes[i - 1]!.right);
      return { id: figure.id, labels: shown.map((t) => t.textContent ?? ''), gap };
    }),
  );
}

test('charts no fixture history has (one sweep, 6 and 6.5 days, a job series, a story chart) read the same live and pre-rendered: dates on every multi-day axis, labels apart', async () => {
  // the builders' charts, embedded as the site embeds them (its scripts, its expression interpreter, its style)
  const H = 3_600_000;
  const t0 = Date.UTC(2026, 9, 1, 2, 0, 13);
  const trend = (times: number[]) =>
    trendChart({ id: 'm', metric: 'host.cpu.busy.mean', unit: '%', better: 'lower', changes: [], lines: [{ label: 'a', points: times.map((t, i) => ({ at: new Date(t).toISOString(), value: 5 + (i % 3), sweepId: `s${i}`, jobId: 'j', href: 'x' })) }] });
  const seconds = (count: number, from: number) => Array.from({ length: count }, (_, i) => from + i);
  const charts: [string, ChartSpec][] = [
    ['one-sweep', trend([t0])],
    ['six-days', trend(Array.from({ length: 7 }, (_, i) => t0 + i * 24 * H))],
    ['six-and-a-half-days', trend(Array.from({ length: 14 }, (_, i) => t0 + i * 12 * H))],
    ['job-series', timeSeriesChart({ id: 's', metric: 'host.cpu.busy', unit: '%', better: 'lower', series: [{ label: 'host.cpu.busy', points: Array.from({ length: 300 }, (_, i) => [1_790_000_000 + i * 30, 20 + (i % 7)] as [number, number]) }] })],
    ['story', timeBandsChart({ id: 'b', title: 'Throughput', y: { title: 'rate', unit: 'pps' }, lines: [{ label: 'rx', color: '#1565c0', points: seconds(240, 1_790_000_000).map((t, i) => [t, 3000 + (i % 9) * 10] as [number, number]) }], bands: [{ label: 'warm-up', start: 1_790_000_000, end: 1_790_000_060, color: '#ffe0b2' }] })!],
  ];
  const site = join(work, 'site');
  const assets = await readdir(join(site, 'assets'));
  const asset = (name: string, ext: string) => `assets/${assets.find((f) => f.startsWith(`${name}.`) && f.endsWith(`.${ext}`))}`;
  await writeFile(join(site, 'axes-charts.js'), `window.__site = { charts: ${JSON.stringify(Object.fromEntries(charts.map(([id, c]) => [id, c.spec])))} };`);
  await writeFile(
    join(site, 'axes.html'),
    `<!doctype html><meta charset="utf-8"><link rel="stylesheet" href="${asset('site', 'css')}"><body>` +
      charts.map(([id, c]) => `<figure class="chart" id="${id}" data-chart="${id}"><div class="chart-view">${drawChart(c.drawing!)}</div></figure>`).join('') +
      ['vega', 'vega-lite', 'vega-embed', 'vega-interpreter'].map((name) => `<script src="${asset(name, 'js')}"></script>`).join('') +
      `<script src="axes-charts.js"></script><script src="${asset('site', 'js')}"></script></body>`,
  );
  const drawn = new Map<boolean, { id: string; labels: string[]; gap: number }[]>();
  for (const javaScript of [true, false]) {
    const ctx = await context(javaScript);
    try {
      const page = await ctx.newPage();
      const errors = watch(page);
      assert.is((await page.goto(server.url + 'axes.html'))?.status(), 200);
      if (javaScript) await live(page);
      drawn.set(javaScript, await axisGaps(page));
      if (javaScript) await page.screenshot({ path: join(SHOTS, 'trends-axes.png'), fullPage: true });
      assert.equal(errors, []);
      await page.close();
    } finally {
      await ctx.close();
    }
  }
  const [interactive, pre] = [drawn.get(true)!, drawn.get(false)!];
  const separation: Record<string, number> = { story: 8 };
  pre.forEach((c, i) => {
    const liveAxis = interactive[i]!;
    assert.equal(c.labels, liveAxis.labels, `${c.id}: the same labels live and pre-rendered`);
    for (const axis of [c, liveAxis]) assert.ok(axis.gap >= (separation[c.id] ?? 5) - 0.5, `${c.id}: labels ${axis.gap} px apart: ${axis.labels.join(' | ')}`);
  });
  const byId = new Map(interactive.map((c) => [c.id, c.labels]));
  for (const id of ['six-days', 'six-and-a-half-days']) {
    for (const day of ['Fri 02', 'Sat 03', 'Oct 04', 'Mon 05', 'Tue 06', 'Wed 07']) assert.ok(byId.get(id)!.includes(day), `${id}, live: ${day} in ${byId.get(id)!.join(' | ')}`);
  }
  assert.equal([byId.get('one-sweep')![0], byId.get('one-sweep')!.at(-1)], ['October', 'Fri 02'], `one sweep, live: its day (${byId.get('one-sweep')!.join(' | ')})`);
  assert.equal(offsite, []);
});

test('with JavaScript disabled both pages have their pre-rendered SVG charts', async () => {
  const ctx = await context(false);
  try {
    for (const path of [LANDING, JUNE, 'trends/node-c--midolman/2026-06.html']) {
      const page = await ctx.newPage();
      assert.is((await page.goto(server.url + path))?.status(), 200, path);
      const figures = await page.locator('figure.chart').count();
      assert.ok(figures > 0, path);
      assert.is(await page.locator('figure.chart .chart-view > svg').count(), figures, path);
      await page.close();
    }
  } finally {
    await ctx.close();
  }
});

test.run();
