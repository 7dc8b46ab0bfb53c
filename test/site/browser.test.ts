// The built site in headless Chromium: charts render interactively, nothing errors, no
// request leaves 127.0.0.1, and with JavaScript off the pre-rendered SVG charts are there.
// Screenshots go to test/.output/site-screenshots/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildSite } from '../../orchestrator/site/build.js';
import { writeFixtureStore, TEST_FIXTURE, sweepIdFor } from './fixture-store.js';
import { serveDir } from './serve.js';

const SHOTS = resolve('test/.output/site-screenshots');
const CHROMIUM = '/usr/bin/chromium';

let work = '';
let site = '';
let server: Awaited<ReturnType<typeof serveDir>>;
let browser: Browser;
const offsite: string[] = [];

async function context(javaScriptEnabled: boolean): Promise<BrowserContext> {
  const ctx = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 900 } });
  await ctx.route('**', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' && server.url.startsWith(`${url.protocol}//${url.host}/`)) return route.continue();
    offsite.push(route.request().url());
    return route.abort();
  });
  return ctx;
}

async function open(ctx: BrowserContext, path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()}`));
  const response = await page.goto(server.url + path, { waitUntil: 'load' });
  assert.is(response?.status(), 200, path);
  return { page, errors };
}

const jobPath = () => `jobs/${sweepIdFor(TEST_FIXTURE.start, 7)}/node-a--sysinfo.html`;
const PAGES: [string, () => string][] = [
  ['index', () => 'index.html'],
  ['job', jobPath],
  ['job-midolman', () => `jobs/${sweepIdFor(TEST_FIXTURE.start, 7)}/node-c--midolman.html`],
  ['trends', () => 'trends/node-a--sysinfo.html'],
  ['compare-pair', () => `compare/${sweepIdFor(TEST_FIXTURE.start, 7)}/node-a--sysinfo.html`],
  ['compare', () => 'compare.html'],
  ['regressions', () => 'regressions.html'],
];

test.before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is needed for this test`);
  work = await mkdtemp(join(tmpdir(), 'site-browser-'));
  site = join(work, 'site');
  await writeFixtureStore(join(work, 'results'), 10, TEST_FIXTURE);
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
      }
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
      if (name === 'job' || name === 'trends') assert.ok(figures > 0);
      if (name === 'index') assert.ok((await page.locator('#sweeps tbody tr').count()) === 10, 'the table is complete without JS');
      if (name === 'compare') assert.ok((await page.locator('#pairs a').count()) > 0, 'pre-rendered pairs listed');
      if (name === 'job' || name === 'index') await page.screenshot({ path: join(SHOTS, `${name}-nojs.png`), fullPage: true });
      await page.close();
    }
  } finally {
    await ctx.close();
  }
});

test('no request left 127.0.0.1', () => {
  assert.equal(offsite, []);
});

test.run();
