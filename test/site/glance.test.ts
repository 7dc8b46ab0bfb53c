// "Last night at a glance" (orchestrator/site/glance.ts and the index): what the latest sweep
// found, from its findings.json when it has one (written here as the sweep would), else from what
// the site detects; "nothing to compare yet" when there is no earlier run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHistory } from '../../orchestrator/analysis/history.js';
import { DEFAULT_THRESHOLDS, detectChanges } from '../../orchestrator/analysis/regressions.js';
import { buildSite } from '../../orchestrator/site/build.js';
import { glance, quiet, revealedBy, sparkWindow, SPARK_BEFORE, SPARK_POINTS, type Glance } from '../../orchestrator/site/glance.js';
import { jobPaths, scanStore, trendsPage } from '../../orchestrator/site/load.js';
import { previousJobs } from '../../orchestrator/site/pages.js';
import { findingChange, sweepIdFor, writeFindings, writeFixtureStore, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';

/** Two sysinfo hosts: node-a's CPU busy steps up ~60 % from sweep 4; node-b fails in sweep 7. */
const OPTS: FixtureOptions = {
  hosts: [
    { name: 'node-a', scenarios: ['sysinfo'] },
    { name: 'node-b', scenarios: ['sysinfo'] },
  ],
  start: new Date('2026-10-01T02:00:00Z'),
  seriesPoints: 40,
  stepAt: 4,
  failing: (i, host) => i === 7 && host.name === 'node-b',
};

let work = '';
const dirs: string[] = [];
async function store(name: string, sweeps: number, opts: FixtureOptions = OPTS): Promise<string> {
  const dir = join(work, name);
  await writeFixtureStore(dir, sweeps, opts);
  dirs.push(dir);
  return dir;
}

/** The glance of a store, computed as the build does. */
async function glanceOf(dir: string, findings?: Parameters<typeof glance>[0]['findings']): Promise<Glance> {
  const scan = await scanStore(dir);
  const { histories } = await loadHistory(dir);
  const changes = detectChanges(histories, () => DEFAULT_THRESHOLDS);
  const latest = scan.sweeps.at(-1)!.sweepId;
  return glance({ sweeps: scan.sweeps, findings, changes, histories, previous: previousJobs(scan.sweeps), ...(findings ? {} : { revealed: revealedBy(histories, changes, () => DEFAULT_THRESHOLDS, latest) }) })!;
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&[a-z#0-9]+;/g, ' ').replace(/\s+/g, ' ');

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'site-glance-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('from findings.json: confirmed, unconfirmed, still present, improvements and failed jobs each in their list; not reproduced apart', async () => {
  const dir = await store('findings', 7);
  const s6 = sweepIdFor(OPTS.start, 6);
  const busyA = await findingChange(dir, s6, { host: 'node-a', scenario: 'sysinfo', metric: 'host.cpu.busy.mean', beforeMean: 20.1, afterMean: 32.2 });
  const maxA = await findingChange(dir, s6, { host: 'node-a', scenario: 'sysinfo', metric: 'host.cpu.busy.max', beforeMean: 61, afterMean: 72 });
  const loadA = await findingChange(dir, s6, { host: 'node-a', scenario: 'sysinfo', metric: 'load.1m', beforeMean: 0.6, afterMean: 0.55 });
  const memA = await findingChange(dir, s6, { host: 'node-a', scenario: 'sysinfo', metric: 'memory.available', kind: 'improvement', beforeMean: 60e9, afterMean: 66e9 });
  const still = await findingChange(dir, s6, { host: 'node-a', scenario: 'sysinfo', metric: 'host.cpu.busy.mean', sweepId: sweepIdFor(OPTS.start, 4), beforeMean: 20.1, afterMean: 32.2 });
  const findings = await writeFindings(dir, {
    sweepId: s6,
    at: '2026-10-07T03:00:00.000Z',
    comparable: true,
    candidates: [
      { change: busyA, status: 'confirmed', paged: true, evidence: { jobIds: ['node-a--sysinfo', 'node-a--sysinfo~rerun1'], values: [32.1, 32.4], baseline: [20, 20.2, 20.1], relativeChange: 0.6, pValue: 0.02 } },
      { change: maxA, status: 'unconfirmed', paged: false, note: 'host unreachable for the re-run' },
      { change: loadA, status: 'not-reproduced', paged: false, evidence: { jobIds: ['node-a--sysinfo~rerun1'], values: [0.59], baseline: [0.6, 0.61], relativeChange: -0.02, pValue: 0.7 } },
    ],
    stillPresent: [still],
    improvements: [memA],
    failedJobs: [{ jobId: 'node-b--sysinfo', host: 'node-b', scenario: 'sysinfo', status: 'failed' }],
  });
  const g = await glanceOf(dir, findings);
  assert.is(g.source, 'findings');
  assert.is(g.comparable, true);
  assert.is(g.sweepId, s6);
  assert.equal([g.confirmed, g.unconfirmed, g.notReproduced, g.stillPresent, g.improvements].map((l) => l.map((c) => c.metric)), [
    ['host.cpu.busy.mean'],
    ['host.cpu.busy.max'],
    ['load.1m'],
    ['host.cpu.busy.mean'],
    ['memory.available'],
  ]);
  const confirmed = g.confirmed[0]!;
  assert.equal([confirmed.before, confirmed.after, confirmed.change, confirmed.pValue, confirmed.paged], ['20.1 %', '32.2 %', '+60.2 %', '0.004', true]);
  assert.is(confirmed.evidence, '2 re-runs: 32.1 %, 32.4 % against 20.1 % before (3 runs): +60.0 %, p = 0.02');
  // a re-run job the sweep has is linked; one it does not have is not
  assert.equal(confirmed.reruns, [{ label: 'node-a--sysinfo', href: jobPaths(s6, 'node-a--sysinfo').page }]);
  assert.is(confirmed.trendHref, `${trendsPage('node-a', 'sysinfo')}#m-${busyA.keyId}`);
  assert.is(confirmed.jobHref, jobPaths(s6, 'node-a--sysinfo').page);
  assert.match(confirmed.spark, /^<svg class="spark"[^>]*><polyline points="[\d., ]+"/);
  assert.is(g.unconfirmed[0]!.note, 'host unreachable for the re-run');
  assert.is(g.unconfirmed[0]!.paged, false);
  assert.is(g.notReproduced[0]!.after, '0.55', 'a load is a plain number');
  assert.not.match(g.notReproduced[0]!.spark, /#c62828/, 'not drawn as a regression');
  assert.is(g.improvements[0]!.after, '61.5 GiB', 'bytes in binary units');
  // the still-present regression's sparkline turns red where its regime began (sweep 4 of 7)
  assert.match(g.stillPresent[0]!.spark, /<line x1="[\d.]+" y1="0"[^>]*stroke="#c62828"/);
  assert.equal(g.failedJobs, [{ host: 'node-b', scenario: 'sysinfo', status: 'failed', href: jobPaths(s6, 'node-b--sysinfo').page }]);
  assert.is(quiet(g), false);
});

test('the index shows the findings: counts first, each list in its order, the not-reproduced list last and unflagged', async () => {
  const dir = dirs.find((d) => d.endsWith('findings'))!;
  await buildSite({ resultsDir: dir, outDir: join(work, 'site-findings') });
  const html = await readFile(join(work, 'site-findings', 'index.html'), 'utf8');
  const glanceHtml = html.slice(html.indexOf('<section class="glance"'), html.indexOf('</section>'));
  const t = text(glanceHtml);
  assert.match(t, /Last night at a glance Sweep 20261007T020000Z-1006/);
  assert.match(t, /Confirmed regressions 1 Unconfirmed regressions 1 Still present 1 Improvements 1 Failed jobs 1 Not reproduced 1/);
  const order = [...glanceHtml.matchAll(/class="glance-list [a-z-]+" id="glance-([a-z-]+)"/g)].map((m) => m[1]);
  assert.equal(order, ['confirmed', 'unconfirmed', 'still-present', 'improvements', 'not-reproduced', 'failed-jobs']);
  const apart = glanceHtml.slice(glanceHtml.indexOf('id="glance-not-reproduced"'), glanceHtml.indexOf('id="glance-failed-jobs"'));
  assert.not.match(apart, /class="flag regression"/, 'a candidate the re-runs did not reproduce is not flagged as a regression');
  assert.match(text(apart), /not counted as regressions, never paged/);
  assert.is((glanceHtml.match(/<svg class="spark"/g) ?? []).length, 5, 'one sparkline per changed metric');
  assert.not.match(t, /This sweep recorded no findings/);
});

test('the Atom feed carries only what sweeps paged: the confirmed regression, never the unconfirmed or the not reproduced', async () => {
  const dir = dirs.find((d) => d.endsWith('findings'))!;
  await buildSite({ resultsDir: dir, outDir: join(work, 'site-feed') });
  const atom = await readFile(join(work, 'site-feed', 'regressions.atom'), 'utf8');
  const titles = [...atom.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]!).slice(1);
  assert.ok(titles.length >= 1, atom);
  assert.equal(titles.map((t) => t.replace(/ [+-][\d.,]+ %$/, '')), ['regression: node-a · sysinfo · host.cpu.busy.mean'], 'the confirmed regression alone: not the unconfirmed busy.max, not the not-reproduced load.1m');
  const regressions = await readFile(join(work, 'site-feed', 'regressions.html'), 'utf8');
});

test('without findings.json (an older sweep) the glance is what the site detects: the regression the sweep revealed, then still present; failed jobs', async () => {
  const dir = await store('computed', 8);
  const g = await glanceOf(dir);
  assert.is(g.source, 'computed');
  assert.is(g.comparable, true);
  assert.equal(g.confirmed, []);
  assert.equal(g.notReproduced, []);
  // node-a's CPU rose from sweep 4; the detector (a new level must hold) first reveals busy.max in
  // sweep 7 (busy.mean's step was already significant on its third night, sweep 6: still present)
  assert.ok(g.unconfirmed.some((c) => c.host === 'node-a' && c.metric === 'host.cpu.busy.max' && c.sinceSweepId === sweepIdFor(OPTS.start, 4)), JSON.stringify(g.unconfirmed.map((c) => [c.host, c.metric, c.sinceSweepId])));
  assert.ok(g.stillPresent.some((c) => c.host === 'node-a' && c.metric === 'host.cpu.busy.mean'), JSON.stringify(g.stillPresent.map((c) => [c.host, c.metric])));
  assert.ok(g.unconfirmed.every((c) => c.paged === null && c.evidence === null));
  assert.equal(g.failedJobs.map((j) => [j.host, j.status]), [['node-b', 'failed']]);
  // a night later it is no longer new: still present
  await writeFixtureSweep(dir, 8, OPTS);
  const later = await glanceOf(dir);
  assert.not.ok(later.unconfirmed.some((c) => c.host === 'node-a' && c.metric === 'host.cpu.busy.max'), 'not revealed again');
  assert.ok(later.stillPresent.some((c) => c.host === 'node-a' && c.metric === 'host.cpu.busy.max'), JSON.stringify(later.stillPresent.map((c) => [c.host, c.metric])));
  assert.equal(later.failedJobs, []);
  await buildSite({ resultsDir: dir, outDir: join(work, 'site-computed') });
  const t = text(await readFile(join(work, 'site-computed', 'index.html'), 'utf8'));
  assert.match(t, /This sweep recorded no findings: what follows is what this report detects, without confirmation re-runs/);
  assert.match(t, /Still present \d+ Improvements \d+ Failed jobs 0/);
});

test('a sparkline shows its change\'s step: the points before it, then (thinned, the newest kept) the points since', () => {
  const sweeps = Array.from({ length: 100 }, (_, i) => ({ sweepId: `s${String(i).padStart(3, '0')}` }));
  // a recent change: the newest SPARK_POINTS, as always
  const recent = sparkWindow(sweeps, 's090');
  assert.equal([recent.points.length, recent.points[0]!.sweepId, recent.from], [SPARK_POINTS, 's070', 20]);
  // near the window's start: reaches back SPARK_BEFORE points before it
  const edge = sparkWindow(sweeps, 's072');
  assert.equal([edge.points[0]!.sweepId, edge.points.at(-1)!.sweepId, edge.from], ['s064', 's099', SPARK_BEFORE]);
  // long ago (a regression still present): the points before, then the regime since, thinned
  const old = sparkWindow(sweeps, 's010');
  assert.is(old.points.length, SPARK_POINTS);
  assert.is(old.from, SPARK_BEFORE);
  assert.equal(old.points.slice(0, SPARK_BEFORE + 1).map((p) => p.sweepId), ['s002', 's003', 's004', 's005', 's006', 's007', 's008', 's009', 's010']);
  assert.is(old.points.at(-1)!.sweepId, 's099');
  assert.ok(old.points.every((p, i) => i === 0 || p.sweepId > old.points[i - 1]!.sweepId), 'in order, no point twice');
  // no change point among them, and the first sweep's change: nothing before to show
  assert.equal(sparkWindow(sweeps, 's200').from, 0);
  assert.equal(sparkWindow(sweeps, 's000').from, 0);
});

test('a regression still present long after it began: its sparkline draws the level before the step, below the red level since', async () => {
  const dir = await store('long', 45, { ...OPTS, failing: () => false });
  const g = await glanceOf(dir);
  const busy = g.stillPresent.find((c) => c.host === 'node-a' && c.metric === 'host.cpu.busy.mean');
  assert.ok(busy, JSON.stringify(g.stillPresent.map((c) => [c.host, c.metric])));
  const ys = (color: string) => [...busy!.spark.matchAll(new RegExp(`<polyline points="([^"]+)"[^>]*stroke="${color}"`, 'g'))].flatMap((m) => m[1]!.split(' ').map((xy) => Number(xy.split(',')[1])));
  const before = ys('#90a4ae');
  const after = ys('#c62828');
  assert.ok(before.length >= 4, `the level before is drawn: ${busy!.spark}`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // CPU busy rose: the old level is lower on the sparkline (a larger y)
  assert.ok(mean(before) > mean(after.slice(2)) + 5, `${mean(before)} vs ${mean(after)}`);
});

test('the sweeps table and the regressions page read the findings: a row is counts and the jobs worth a look; the confirmed, paged change first in its sweep', async () => {
  // node-b fails in sweep 7 (as in OPTS), and both hosts in sweep 8
  const dir = await store('rows', 10, { ...OPTS, failing: (i, host) => (i === 7 && host.name === 'node-b') || i === 8 });
  const s4 = sweepIdFor(OPTS.start, 4);
  const s9 = sweepIdFor(OPTS.start, 9);
  // sweep 6 revealed node-a's step (of sweep 4) and confirmed it; node-b failed in sweep 7
  const s6 = sweepIdFor(OPTS.start, 6);
  const busy = await findingChange(dir, s6, { host: 'node-a', scenario: 'sysinfo', metric: 'host.cpu.busy.mean', beforeMean: 20.1, afterMean: 32.2 });
  const max = await findingChange(dir, s6, { host: 'node-a', scenario: 'sysinfo', metric: 'host.cpu.busy.max', beforeMean: 61, afterMean: 72 });
  await writeFindings(dir, {
    sweepId: s6,
    at: '2026-10-07T03:00:00.000Z',
    comparable: true,
    candidates: [
      { change: busy, status: 'confirmed', paged: true },
      { change: max, status: 'unconfirmed', paged: false },
    ],
    stillPresent: [],
    improvements: [],
    failedJobs: [],
  });
  const out = join(work, 'site-rows');
  await buildSite({ resultsDir: dir, outDir: out });
  const regressions = await readFile(join(out, 'regressions.html'), 'utf8');
  const rows = [...regressions.matchAll(/<tr[^>]*>\s*<td><span class="flag [a-z]+">([a-z]+)<\/span>(.*?)<\/td><td>([^<]+)<br>.*?<\/td>\s*<td>([^<]+)/gs)].map((m) => [m[1], text(m[2]!).trim(), m[3], m[4]]);
  assert.ok(rows.length >= 2, regressions);
  assert.equal(rows[0], ['regression', 'confirmed paged', 'node-a', 'host.cpu.busy.mean'], JSON.stringify(rows));
  assert.ok(rows.some((r) => r[1] === 'unconfirmed' && r[3] === 'host.cpu.busy.max'), JSON.stringify(rows));
  assert.ok(rows.filter((r) => r[1] === '').length === rows.length - 2, 'what no findings name has no status');

  const html = await readFile(join(out, 'index.html'), 'utf8');
  const row = (sweepId: string) => {
    const at = html.indexOf(`<span class="muted small">${sweepId}</span>`);
    return html.slice(at, html.indexOf('</tr>', at));
  };
  const unfolded = (r: string) => [...r.slice(0, r.indexOf('<details')).matchAll(/<a class="chip ([^"]+)"[^>]*>(.*?)<\/a>/g)].map((m) => [m[1], text(m[2]!).trim()]);
  // the sweep node-a's regressions start at: its chip unfolded and flagged, every job in the folded list
  const detected = JSON.parse(await readFile(join(out, 'regressions.json'), 'utf8')) as { changes: { sweepId: string; host: string; kind: string }[] };
  const from = detected.changes.find((c) => c.host === 'node-a' && c.kind === 'regression')!.sweepId;
  const stepped = row(from);
  assert.match(text(stepped), /\b2 ok\b/);
  assert.equal(unfolded(stepped).map(([cls, t]) => [cls, t!.replace(/CPU busy [\d.]+ % /, '')]), [['status-ok changed-regression', 'node-a ok regression']]);
  assert.match(stepped, /<details class="all-jobs"><summary>all 2 jobs<\/summary>/);
  assert.is((stepped.slice(stepped.indexOf('<details')).match(/<a class="chip /g) ?? []).length, 2, 'the folded list has every job');
  // a failed job is unfolded; a calm night unfolds nothing
  const failed = row(sweepIdFor(OPTS.start, 7));
  assert.match(text(failed), /1 ok · 1 failed/);
  assert.equal(unfolded(failed).map(([cls]) => cls), ['status-failed']);
  assert.equal(unfolded(row(sweepIdFor(OPTS.start, 2))), [], 'a calm night unfolds no chip');
  // a night every job failed: every chip unfolded, no folded copy of them
  const down = row(sweepIdFor(OPTS.start, 8));
  assert.equal(unfolded(down).map(([cls]) => cls), ['status-failed', 'status-failed']);
  assert.not.match(down, /<details/);
  assert.ok(s4 <= from && from < s9);
});

test('one sweep: "nothing to compare yet", never "0 regressions ... no change detected"', async () => {
  const dir = await store('first', 1);
  const g = await glanceOf(dir);
  assert.is(g.comparable, false);
  await buildSite({ resultsDir: dir, outDir: join(work, 'site-first') });
  const t = text(await readFile(join(work, 'site-first', 'index.html'), 'utf8'));
  assert.match(t, /Last night at a glance .* Nothing to compare yet\. This sweep's jobs have no earlier run to compare with/);
  assert.match(t, /No host and scenario has run twice yet: nothing to compare\./);
  assert.not.match(t, /0 regression/);
  assert.not.match(t, /No change detected/);
  assert.not.match(t, /Confirmed regressions|Still present/, 'no counts of what cannot be known yet');
});

test('findings with comparable=false say "nothing to compare yet", whatever the store holds', async () => {
  const dir = await store('incomparable', 3);
  const s2 = sweepIdFor(OPTS.start, 2);
  await writeFindings(dir, { sweepId: s2, at: '2026-10-03T03:00:00.000Z', comparable: false, candidates: [], stillPresent: [], improvements: [], failedJobs: [] });
  await buildSite({ resultsDir: dir, outDir: join(work, 'site-incomparable') });
  const t = text(await readFile(join(work, 'site-incomparable', 'index.html'), 'utf8'));
  assert.match(t, /Nothing to compare yet/);
  assert.not.match(t, /This sweep recorded no findings/);
});

test('an unreadable findings.json is named on the index, and the site shows what it detects instead', async () => {
  const dir = await store('broken', 2);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'sweeps', sweepIdFor(OPTS.start, 1), 'findings.json'), '{"schema": "orchestrate/findings@1"}');
  await buildSite({ resultsDir: dir, outDir: join(work, 'site-broken') });
  const t = text(await readFile(join(work, 'site-broken', 'index.html'), 'utf8'));
  assert.match(t, /Its findings could not be read \(.*findings\.json ?: not a findings file: sweepId: /, t.slice(0, 1200));
  assert.not.match(t, /This sweep recorded no findings/, 'it did record some: they are unreadable');
  assert.match(t, /Still present 0 Improvements 0 Failed jobs 0/);
  assert.match(t, /No change detected and every job ended ok\./);
});

test.run();
