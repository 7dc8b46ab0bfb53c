// Which trends page draws which points (orchestrator/site/trend-periods.ts, trend-units.ts): the
// landing page the last WINDOW_DAYS before the newest sweep, one page per calendar month (UTC, by
// the sweep's start) that has ended; fingerprints of a period from its own part only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MetricHistory } from '../../orchestrator/analysis/history.js';
import { seriesKeyId } from '../../orchestrator/analysis/history.js';
import type { DetectedChange } from '../../orchestrator/analysis/regressions.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import type { ChangeRow } from '../../orchestrator/site/pages.js';
import { WINDOW_DAYS, periodLabel, periodOf, periodPage, planTrendPages, pointCounts, pointsIn, sliceGroup, type TrendGroup } from '../../orchestrator/site/trend-periods.js';
import { trendUnits, withTrendPages, type SweepFacts } from '../../orchestrator/site/trend-units.js';

const DAY = 86_400_000;
const PATH = 'trends/node-a--sysinfo.html';

/** Sweep ids sort as their starts do (as the store's do). */
function sweepAt(iso: string): { id: string; at: string } {
  return { id: `${iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-s`, at: iso };
}

function history(metric: string, sweeps: readonly { id: string; at: string }[], value = (i: number) => 100 + i): MetricHistory {
  const key = { host: 'node-a', scenario: 'sysinfo', metric, labels: {} };
  return { key, keyId: seriesKeyId(key), unit: 'percent', better: 'lower', points: sweeps.map((s, i) => ({ sweepId: s.id, jobId: 'node-a--sysinfo', at: s.at, value: value(i) })) };
}

function change(h: MetricHistory, sweep: { id: string; at: string }, afterMean = 160): DetectedChange {
  return { keyId: h.keyId, key: h.key, unit: h.unit, better: 'lower', kind: 'regression', sweepId: sweep.id, at: sweep.at, beforeMean: 100, afterMean, relativeChange: afterMean / 100 - 1, pValue: 0.001 };
}

function facts(sweeps: readonly { id: string; at: string }[], fpOf: (id: string) => string = (id) => `fp-${id}`): SweepFacts {
  const starts = new Map(sweeps.map((s) => [s.id, s.at]));
  return { start: (id) => starts.get(id), fp: (id) => (starts.has(id) ? fpOf(id) : undefined) };
}

function row(c: DetectedChange): ChangeRow {
  return {
    kind: c.kind,
    host: c.key.host,
    scenario: c.key.scenario,
    metric: c.key.metric,
    labels: '',
    unit: c.unit,
    better: c.better,
    sweepId: c.sweepId,
    at: c.at,
    beforeMean: c.beforeMean,
    afterMean: c.afterMean,
    relativeChange: c.relativeChange,
    pValue: c.pValue,
    buildBefore: null,
    buildAfter: null,
    builds: '',
    keyId: c.keyId,
    trendHref: `${PATH}#m-${c.keyId}`,
    jobHref: null,
    compareHref: null,
  };
}

/** Nightly sweeps at 02:00 UTC from `from`, `n` of them. */
function nightly(from: string, n: number): { id: string; at: string }[] {
  return Array.from({ length: n }, (_, i) => sweepAt(new Date(Date.parse(from) + i * DAY).toISOString()));
}

test('periods are calendar months of the sweep start in UTC: 23:30 on the 31st in New York is already the next month', () => {
  assert.is(periodOf('2026-03-31T23:59:59.999Z'), '2026-03');
  assert.is(periodOf('2026-04-01T00:00:00.000Z'), '2026-04');
  assert.is(periodOf('2026-03-31T23:30:00-04:00'), '2026-04');
  assert.is(periodOf('not a time'), 'undated');
  assert.is(periodLabel('2026-03'), 'March 2026');
  assert.is(periodPage(PATH, '2026-03'), 'trends/node-a--sysinfo/2026-03.html');
});

test('the window holds the sweeps of the last WINDOW_DAYS before the newest; each month before the newest one is a period', () => {
  const sweeps = nightly('2026-01-01T02:00:00.000Z', 200); // to 2026-07-19
  const h = history('cpu.busy', sweeps);
  const group: TrendGroup = { host: 'node-a', scenario: 'sysinfo', path: PATH, histories: [h], changes: [] };
  const plan = planTrendPages(group, facts(sweeps).start);
  const newest = Date.parse(sweeps.at(-1)!.at);
  assert.is(plan.windowStart, new Date(newest - WINDOW_DAYS * DAY).toISOString());
  assert.is(plan.window.ids.size, WINDOW_DAYS + 1, 'the sweep exactly WINDOW_DAYS before the newest is in');
  assert.equal(
    plan.periods.map((p) => p.period),
    ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06'],
    'July, the newest sweep\'s month, is not a period yet',
  );
  assert.is(plan.periods[1]!.sweeps.ids.size, 28);
  assert.is(plan.periods[1]!.path, 'trends/node-a--sysinfo/2026-02.html');
  // every point is on the landing page or on a period's, and a period holds exactly its month
  const feb = pointsIn(h.points, plan.periods[1]!.sweeps);
  assert.is(feb.length, 28);
  assert.ok(feb.every((p) => p.at.startsWith('2026-02')));
  const shown = new Set([...pointsIn(h.points, plan.window), ...plan.periods.flatMap((p) => pointsIn(h.points, p.sweeps))].map((p) => p.sweepId));
  assert.is(shown.size, sweeps.length);
  assert.equal(pointCounts(group, plan.periods[1]!.sweeps), [[h.keyId, 28]]);
});

test('a change in an old period: marked on its month\'s page, its row links there; a change in the window links to the landing page', () => {
  const sweeps = nightly('2026-01-01T02:00:00.000Z', 200);
  const h = history('cpu.busy', sweeps);
  const old = change(h, sweeps[40]!); // 2026-02-10
  const recent = change(h, sweeps[190]!);
  const group: TrendGroup = { host: 'node-a', scenario: 'sysinfo', path: PATH, histories: [h], changes: [old, recent] };
  const plan = planTrendPages(group, facts(sweeps).start);
  const [oldRow, recentRow] = withTrendPages([row(old), row(recent)], [plan]);
  assert.is(oldRow!.trendHref, `trends/node-a--sysinfo/2026-02.html#m-${h.keyId}`);
  assert.is(recentRow!.trendHref, `${PATH}#m-${h.keyId}`);
  const feb = sliceGroup(group, plan.periods[1]!.sweeps, plan.periods[1]!.path);
  assert.equal(feb.changes, [old]);
  assert.equal(sliceGroup(group, plan.periods[0]!.sweeps, plan.periods[0]!.path).changes, []);
  assert.equal(sliceGroup(group, plan.window, PATH).changes, [recent]);

  const units = trendUnits(plan, [oldRow!, recentRow!], () => DEFAULT_THRESHOLDS, facts(sweeps), 'site');
  assert.equal(units.map((u) => u.id), ['trends:node-a/sysinfo', ...plan.periods.map((p) => `trends:node-a/sysinfo@${p.period}`)]);
  const landing = units[0]!.input();
  assert.equal(landing.rows.map((r) => r.chartHref), [`../trends/node-a--sysinfo/2026-02.html#m-${h.keyId}`, `#m-${h.keyId}`]);
  assert.ok(landing.rows.every((r) => r.numbers !== null), 'the landing page has the changes\' numbers');
  assert.equal(landing.view.kind === 'window' ? landing.view.periods.map((p) => p.href)[0] : undefined, '../trends/node-a--sysinfo/2026-06.html', 'newest month first');
  const febInput = units[2]!.input();
  assert.equal(febInput.rows.map((r) => [r.chartHref, r.numbers]), [[`#m-${h.keyId}`, null]], 'a period page: its own changes, without the numbers later runs move');
  assert.equal(febInput.view.kind === 'period' ? [febInput.view.latestHref, febInput.view.previous?.href] : [], ['../../trends/node-a--sysinfo.html', '../../trends/node-a--sysinfo/2026-01.html']);
  assert.is(febInput.group.histories[0]!.points.length, 28);
});

test('an empty period has no page; a history with no point in a period is not on it', () => {
  // January and March, nothing in February; the disk metric only from March
  const sweeps = [...nightly('2026-01-10T02:00:00.000Z', 5), ...nightly('2026-03-10T02:00:00.000Z', 5), ...nightly('2026-07-01T02:00:00.000Z', 3)];
  const cpu = history('cpu.busy', sweeps);
  const disk = history('disk.util', sweeps.slice(5));
  const group: TrendGroup = { host: 'node-a', scenario: 'sysinfo', path: PATH, histories: [cpu, disk], changes: [] };
  const plan = planTrendPages(group, facts(sweeps).start);
  assert.equal(plan.periods.map((p) => p.period), ['2026-01', '2026-03']);
  const jan = sliceGroup(group, plan.periods[0]!.sweeps, plan.periods[0]!.path);
  assert.equal(jan.histories.map((h) => h.key.metric), ['cpu.busy']);
  assert.equal(sliceGroup(group, plan.window, PATH).histories.map((h) => h.points.length), [3, 3], 'the window: July only (March is more than 90 days back)');
  const units = trendUnits(plan, [], () => DEFAULT_THRESHOLDS, facts(sweeps), 'site');
  // a unit's weight is what its page draws: its points (the window: July's 3 nights x 2 metrics)
  for (const unit of units) assert.is(unit.weight, unit.input().group.histories.reduce((n, h) => n + h.points.length, 0), unit.id);
  assert.equal(units.map((u) => u.weight), [6, 5, 10]);
  const march = units.find((u) => u.id.endsWith('@2026-03'))!.input();
  assert.equal(march.view.kind === 'period' ? march.view.previous : undefined, { label: 'January 2026', href: '../../trends/node-a--sysinfo/2026-01.html' }, 'the previous page is the previous month with sweeps');
});

test('a new sweep moves the window\'s fingerprint, not an ended month\'s; a change of a month\'s own sweep or a new mark in it does', () => {
  const sweeps = nightly('2026-01-01T02:00:00.000Z', 150);
  const unitsFor = (ss: typeof sweeps, changes: DetectedChange[] = [], fpOf?: (id: string) => string) => {
    const h = history('cpu.busy', ss);
    const group: TrendGroup = { host: 'node-a', scenario: 'sysinfo', path: PATH, histories: [h], changes: changes.map((c) => ({ ...c, keyId: h.keyId })) };
    const plan = planTrendPages(group, facts(ss, fpOf).start);
    return new Map(trendUnits(plan, withTrendPages(group.changes.map(row), [plan]), () => DEFAULT_THRESHOLDS, facts(ss, fpOf), 'site').map((u) => [u.id, u.fp]));
  };
  const before = unitsFor(sweeps.slice(0, 149));
  const after = unitsFor(sweeps);
  assert.is.not(after.get('trends:node-a/sysinfo'), before.get('trends:node-a/sysinfo'));
  const periods = [...before.keys()].filter((id) => id.includes('@'));
  assert.ok(periods.length === 4, periods.join());
  for (const id of periods) assert.is(after.get(id), before.get(id), `${id} is left alone`);

  // a February sweep's files changed: February only
  const touched = unitsFor(sweeps, [], (id) => (id === sweeps[40]!.id ? 'changed' : `fp-${id}`));
  assert.equal(periods.filter((id) => touched.get(id) !== after.get(id)), ['trends:node-a/sysinfo@2026-02']);
  // a change detected at a March sweep: March's page marks it; its mean moving later does not redraw March
  const h = history('cpu.busy', sweeps);
  const marked = unitsFor(sweeps, [change(h, sweeps[70]!, 160)]);
  const moved = unitsFor(sweeps, [change(h, sweeps[70]!, 170)]);
  assert.equal(periods.filter((id) => marked.get(id) !== after.get(id)), ['trends:node-a/sysinfo@2026-03']);
  assert.is(moved.get('trends:node-a/sysinfo@2026-03'), marked.get('trends:node-a/sysinfo@2026-03'));
  // other thresholds: every page
  const h2 = history('cpu.busy', sweeps);
  const group: TrendGroup = { host: 'node-a', scenario: 'sysinfo', path: PATH, histories: [h2], changes: [] };
  const plan = planTrendPages(group, facts(sweeps).start);
  const stricter = trendUnits(plan, [], () => ({ ...DEFAULT_THRESHOLDS, minRelativeChange: 0.5 }), facts(sweeps), 'site');
  assert.ok(stricter.every((u) => u.fp !== after.get(u.id)));
});

test('a sweep the scan does not know is still drawn, dated by its job: its period hashes its points', () => {
  const sweeps = nightly('2026-01-01T02:00:00.000Z', 100);
  const h = history('cpu.busy', sweeps);
  const group: TrendGroup = { host: 'node-a', scenario: 'sysinfo', path: PATH, histories: [h], changes: [] };
  const known = facts(sweeps.filter((_, i) => i !== 5));
  const plan = planTrendPages(group, known.start);
  assert.equal(plan.periods.filter((p) => p.unscanned).map((p) => p.period), ['2026-01']);
  assert.ok(plan.periods[0]!.sweeps.ids.has(sweeps[5]!.id));
  const a = trendUnits(plan, [], () => DEFAULT_THRESHOLDS, known, 'site');
  const h2 = history('cpu.busy', sweeps, (i) => (i === 5 ? 1 : 100 + i));
  const plan2 = planTrendPages({ ...group, histories: [h2] }, known.start);
  const b = trendUnits(plan2, [], () => DEFAULT_THRESHOLDS, known, 'site');
  assert.is.not(b[1]!.fp, a[1]!.fp, 'its value changed: January is drawn again');
});

test.run();
