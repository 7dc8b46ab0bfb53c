// The site build's trends page units (build.ts renderRest): for each host x scenario, its landing
// page (the recent window) and one page per month that has ended (trend-periods.ts), each with a
// fingerprint from its own part of the history only: its sweeps' fingerprints from the store's scan
// (a sweep's files: sizes and mtimes), how many points each history has there (binary searches),
// the change marks in it, the thresholds of its histories, its rows and links. No point is
// serialised (a sweep the scan does not know is the exception: its page's points are hashed).
// Nothing that later runs move (a change's mean after it, its p) is on a period page, so an ended
// month is drawn once; the window's rows carry those numbers, so it is drawn again when they move.
// The page's data is cut only when its fingerprint changed.
import type { SeriesKey } from '../analysis/history.js';
import { KIND_ORDER, type Thresholds } from '../analysis/regressions.js';
import { rel, sha } from './names.js';
import type { ChangeRow } from './pages.js';
import { WINDOW_DAYS, planTrendPages, pointCounts, sliceGroup, type PeriodPlan, type SweepSet, type TrendGroup, type TrendPlan } from './trend-periods.js';
import type { TrendChangeRow, TrendsInput, TrendsView } from './trends-pages.js';

export interface TrendUnit {
  /** The writer's unit id: trends:<host>/<scenario> for the landing page, ...@<YYYY-MM> for a period. */
  id: string;
  fp: string;
  /** How much the page draws (its points), for drawing the biggest pages first. */
  weight: number;
  input: () => TrendsInput;
}

/** The store's sweeps as the trends pages need them: when each started, and its files' fingerprint. */
export interface SweepFacts {
  start: (sweepId: string) => string | undefined;
  fp: (sweepId: string) => string | undefined;
}

export function trendPlans(groups: readonly TrendGroup[], sweeps: SweepFacts): TrendPlan[] {
  return groups.map((g) => planTrendPages(g, sweeps.start));
}

/** The regressions rows with each trendHref at the page that draws its point (the window's, or its month's). */
export function withTrendPages<R extends ChangeRow>(rows: readonly R[], plans: readonly TrendPlan[]): R[] {
  const byGroup = new Map(plans.map((p) => [`${p.group.host}\u0000${p.group.scenario}`, p]));
  return rows.map((r) => {
    const plan = byGroup.get(`${r.host}\u0000${r.scenario}`);
    return plan ? { ...r, trendHref: `${plan.pageOf(r.sweepId)}#m-${r.keyId}` } : r;
  });
}

function chartHref(row: ChangeRow, pagePath: string, sweeps: SweepSet): string {
  if (sweeps.ids.has(row.sweepId)) return `#m-${row.keyId}`;
  const [path = '', anchor = ''] = row.trendHref.split('#');
  return `${rel(pagePath, path)}#${anchor}`;
}

/** A period page's row: what stays true of the change once later runs come (no means, no p). */
function frozenRow(row: ChangeRow, pagePath: string, sweeps: SweepSet): TrendChangeRow {
  return { kind: row.kind, metric: row.metric, labels: row.labels, sweepId: row.sweepId, keyId: row.keyId, builds: row.builds, jobHref: row.jobHref, unit: row.unit, numbers: null, chartHref: chartHref(row, pagePath, sweeps) };
}

function liveRow(row: ChangeRow, pagePath: string, sweeps: SweepSet): TrendChangeRow {
  return {
    kind: row.kind,
    metric: row.metric,
    labels: row.labels,
    sweepId: row.sweepId,
    keyId: row.keyId,
    builds: row.builds,
    jobHref: row.jobHref,
    unit: row.unit,
    numbers: { beforeMean: row.beforeMean, afterMean: row.afterMean, relativeChange: row.relativeChange, pValue: row.pValue },
    chartHref: chartHref(row, pagePath, sweeps),
  };
}

/**
 * The units of one group. `rows` are the group's rows of the regressions table (withTrendPages
 * applied), `siteFp` the fingerprint of the builder, its templates and assets.
 */
export function trendUnits(plan: TrendPlan, rows: readonly ChangeRow[], thresholdsFor: (key: SeriesKey) => Thresholds, sweeps: SweepFacts, siteFp: string): TrendUnit[] {
  const { group } = plan;
  const base = `trends:${group.host}/${group.scenario}`;
  const thresholdsOf = (g: TrendGroup) => Object.fromEntries(g.histories.map((h) => [h.keyId, thresholdsFor(h.key)]));

  const windowView: TrendsView = {
    kind: 'window',
    days: WINDOW_DAYS,
    since: plan.windowStart,
    periods: [...plan.periods].reverse().map((p) => ({ label: p.label, href: rel(group.path, p.path) })),
  };
  const windowRows = rows.map((r) => liveRow(r, group.path, plan.window));
  const windowPage = { path: group.path, sweeps: plan.window, unscanned: plan.windowUnscanned };
  const unit = (id: string, part: PagePart, pageRows: readonly TrendChangeRow[], view: TrendsView): TrendUnit => {
    // what the page draws, counted once: its fingerprint's and its weight's
    const counts = pointCounts(group, part.sweeps);
    return {
      id,
      fp: pageFingerprint(plan, part, counts, pageRows, view, thresholdsFor, sweeps, siteFp),
      weight: counts.reduce((sum, [, n]) => sum + n, 0),
      input: () => pageInput(plan, part, pageRows, view, thresholdsOf),
    };
  };
  const units: TrendUnit[] = [unit(base, windowPage, windowRows, windowView)];

  plan.periods.forEach((period, i) => {
    const previous = plan.periods[i - 1];
    const view: TrendsView = {
      kind: 'period',
      period: period.period,
      label: period.label,
      latestHref: rel(period.path, group.path),
      previous: previous ? { label: previous.label, href: rel(period.path, previous.path) } : null,
    };
    // in an order later runs cannot move (the regressions page orders by size, which they do),
    // so that an ended month's page is drawn once
    const own = rows
      .filter((r) => period.sweeps.ids.has(r.sweepId))
      .sort(frozenOrder)
      .map((r) => frozenRow(r, period.path, period.sweeps));
    units.push(unit(`${base}@${period.period}`, period, own, view));
  });
  return units;
}

/** An ended month's change rows: newest sweep first, regressions before improvements, then by metric and series. */
function frozenOrder(a: ChangeRow, b: ChangeRow): number {
  return b.sweepId.localeCompare(a.sweepId) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.metric.localeCompare(b.metric) || a.keyId.localeCompare(b.keyId);
}

/** A page of a group: its path, its sweeps, whether one of them is not backed by the store's scan. */
type PagePart = Pick<PeriodPlan, 'path' | 'sweeps' | 'unscanned'>;

function pageInput(plan: TrendPlan, part: PagePart, rows: readonly TrendChangeRow[], view: TrendsView, thresholdsOf: (g: TrendGroup) => Record<string, Thresholds>): TrendsInput {
  const group = sliceGroup(plan.group, part.sweeps, part.path);
  return { group, rows, thresholds: thresholdsOf(group), view };
}

/** `counted`: the page's points per history (pointCounts). */
function pageFingerprint(plan: TrendPlan, period: PagePart, counted: readonly [string, number][], rows: readonly TrendChangeRow[], view: TrendsView, thresholdsFor: (key: SeriesKey) => Thresholds, sweeps: SweepFacts, siteFp: string): string {
  const { group } = plan;
  // a sweep the scan does not know has no files' fingerprint: its points themselves are hashed
  if (period.unscanned) {
    const slice = sliceGroup(group, period.sweeps, period.path);
    return sha(`${siteFp}|page|${JSON.stringify({ h: slice.histories, c: slice.changes, r: rows, v: view, t: slice.histories.map((h) => thresholdsFor(h.key)) })}`);
  }
  const counts = new Map(counted);
  const shown = group.histories.filter((h) => counts.has(h.keyId));
  const parts = {
    p: period.path,
    s: [...period.sweeps.ids].sort().map((id) => [id, sweeps.fp(id)]),
    h: shown.map((h) => [h.keyId, h.unit, h.better, counts.get(h.keyId)]),
    // a period's marks say where and what; the window's also by how much (it moves with later runs)
    c: group.changes.filter((c) => period.sweeps.ids.has(c.sweepId)).map((c) => [c.keyId, c.sweepId, c.at, c.kind, ...(view.kind === 'window' ? [c.relativeChange] : [])]),
    t: shown.map((h) => thresholdsFor(h.key)),
    r: rows,
    v: view,
  };
  return sha(`${siteFp}|page|${JSON.stringify(parts)}`);
}
