// Which trends page draws which points. A host x scenario's history is drawn on pages that do
// not grow with it:
//   - its landing page (trends/<host>--<scenario>.html): the recent window, the sweeps that started
//     at most WINDOW_DAYS before the group's newest sweep;
//   - one page per calendar month (UTC, by the sweep's start) that has ended, i.e. every month
//     before the newest sweep's: trends/<host>--<scenario>/<YYYY-MM>.html. A month that has ended
//     keeps its points, so its page is drawn once and then left alone.
// Change detection runs over the whole history elsewhere (analysis/); only the drawing is cut.
// Pure: histories and sweep starts in, plans and slices out. The slices are found with one cheap
// pass over each history's points (a string compare per point) and binary searches; nothing here
// serialises a whole history.
import type { HistoryPoint, MetricHistory } from '../analysis/history.js';
import type { DetectedChange } from '../analysis/regressions.js';
import { slug } from './names.js';

/** The recent window of a landing trends page, in days before the group's newest sweep start. */
export const WINDOW_DAYS = 90;
const DAY_MS = 86_400_000;

/** The histories and changes of one host x scenario (the site draws them on its trends pages). */
export interface TrendGroup {
  host: string;
  scenario: string;
  path: string;
  histories: MetricHistory[];
  changes: DetectedChange[];
}

/** A calendar month (UTC) of sweep starts: "2026-03". */
export function periodOf(at: string): string {
  // the store's times are ISO in UTC ("2026-03-31T02:00:00.000Z"): their first 7 characters
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(at)) return at.slice(0, 7);
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return 'undated';
  return new Date(t).toISOString().slice(0, 7);
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "March 2026" for "2026-03". */
export function periodLabel(period: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  return m && month ? `${month} ${m[1]}` : period;
}

/** The page of a host x scenario's period: beside its landing page, in the directory of its assets. */
export function periodPage(landing: string, period: string): string {
  return `${landing.replace(/\.html$/, '')}/${slug(period)}.html`;
}

/** The sweeps of one page: their ids and the range of ids they span (for binary searches). */
export interface SweepSet {
  ids: Set<string>;
  min: string;
  max: string;
}

export interface PeriodPlan {
  period: string;
  label: string;
  path: string;
  sweeps: SweepSet;
  /** The sweeps whose points on this page are not backed by the store's scan (see planTrendPages). */
  unscanned: boolean;
}

export interface TrendPlan {
  group: TrendGroup;
  /** ISO time: sweeps that started at or after it are in the window. */
  windowStart: string;
  window: SweepSet;
  /** Whether a sweep of the window is not backed by the store's scan (see planTrendPages). */
  windowUnscanned: boolean;
  /** Months that have ended, oldest first. */
  periods: PeriodPlan[];
  /** sweepId -> the page (site path) that draws it: the landing page for the window, else its period's. */
  pageOf: (sweepId: string) => string;
}

function sweepSet(ids: readonly string[]): SweepSet {
  const sorted = [...ids].sort();
  return { ids: new Set(sorted), min: sorted[0] ?? '', max: sorted.at(-1) ?? '' };
}

/**
 * Plans a group's pages. `sweepStart` gives a sweep's start (the store's scan); a sweep the scan
 * does not know (its sweep.json unreadable) is dated by its first point's job start and marks its
 * period `unscanned` (its fingerprint then hashes its points).
 */
export function planTrendPages(group: TrendGroup, sweepStart: (sweepId: string) => string | undefined): TrendPlan {
  const starts = new Map<string, string>();
  const unscanned = new Set<string>();
  // The group's sweeps. Its histories mostly share them: each history is walked along the sorted
  // ids found so far (a string compare a point), and only an id not among them is looked up.
  let seen: string[] = [];
  for (const h of group.histories) {
    let j = 0;
    let added = false;
    for (const p of h.points) {
      const id = p.sweepId;
      while (j < seen.length && seen[j]! < id) j++;
      if (j < seen.length && seen[j] === id) continue;
      if (starts.has(id)) continue;
      const known = sweepStart(id);
      if (known === undefined) unscanned.add(id);
      starts.set(id, known ?? p.at);
      added = true;
    }
    if (added) seen = [...starts.keys()].sort();
  }
  let newest = -Infinity;
  for (const at of starts.values()) {
    const t = Date.parse(at);
    if (t > newest) newest = t;
  }
  const windowStartMs = Number.isFinite(newest) ? newest - WINDOW_DAYS * DAY_MS : -Infinity;
  const windowStart = Number.isFinite(windowStartMs) ? new Date(windowStartMs).toISOString() : '';
  const current = Number.isFinite(newest) ? periodOf(new Date(newest).toISOString()) : '';
  const inWindow: string[] = [];
  const byPeriod = new Map<string, string[]>();
  const periodOfSweep = new Map<string, string>();
  for (const [sweepId, at] of starts) {
    const t = Date.parse(at);
    // an undated sweep cannot be placed in time: the window keeps it rather than lose it
    if (!(t < windowStartMs)) inWindow.push(sweepId);
    const period = periodOf(at);
    periodOfSweep.set(sweepId, period);
    if (period === 'undated' || period >= current) continue;
    const ids = byPeriod.get(period);
    if (ids) ids.push(sweepId);
    else byPeriod.set(period, [sweepId]);
  }
  const periods = [...byPeriod.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([period, ids]) => ({ period, label: periodLabel(period), path: periodPage(group.path, period), sweeps: sweepSet(ids), unscanned: ids.some((id) => unscanned.has(id)) }));
  const window = sweepSet(inWindow);
  const pathOf = new Map(periods.map((p) => [p.period, p.path]));
  return {
    group,
    windowStart,
    window,
    windowUnscanned: inWindow.some((id) => unscanned.has(id)),
    periods,
    pageOf: (sweepId) => (window.ids.has(sweepId) ? group.path : (pathOf.get(periodOfSweep.get(sweepId) ?? '') ?? group.path)),
  };
}

function lowerBound(points: readonly HistoryPoint[], sweepId: string): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.sweepId < sweepId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The points of `sweeps` (histories are in sweepId order: two binary searches, then a filter of that range). */
export function pointsIn(points: readonly HistoryPoint[], sweeps: SweepSet): HistoryPoint[] {
  if (sweeps.ids.size === 0) return [];
  const from = lowerBound(points, sweeps.min);
  const out: HistoryPoint[] = [];
  for (let i = from; i < points.length && points[i]!.sweepId <= sweeps.max; i++) if (sweeps.ids.has(points[i]!.sweepId)) out.push(points[i]!);
  return out;
}

/** The group cut to `sweeps`: histories with a point there (only those points), the changes detected at them. */
export function sliceGroup(group: TrendGroup, sweeps: SweepSet, path: string): TrendGroup {
  const histories: MetricHistory[] = [];
  for (const h of group.histories) {
    const points = pointsIn(h.points, sweeps);
    if (points.length > 0) histories.push({ ...h, points });
  }
  const keep = new Set(histories.map((h) => h.keyId));
  return { host: group.host, scenario: group.scenario, path, histories, changes: group.changes.filter((c) => sweeps.ids.has(c.sweepId) && keep.has(c.keyId)) };
}

/**
 * Each history's index range over `sweeps`' id range, as [keyId, points] (its fingerprint's share of
 * the points: two binary searches a history, nothing copied). A range may hold a sweep of another
 * page whose id sorts between, which only makes the fingerprint stricter.
 */
export function pointCounts(group: TrendGroup, sweeps: SweepSet): [string, number][] {
  const counts: [string, number][] = [];
  if (sweeps.ids.size === 0) return counts;
  for (const h of group.histories) {
    const n = upperBound(h.points, sweeps.max) - lowerBound(h.points, sweeps.min);
    if (n > 0) counts.push([h.keyId, n]);
  }
  return counts;
}

function upperBound(points: readonly HistoryPoint[], sweepId: string): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.sweepId <= sweepId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
