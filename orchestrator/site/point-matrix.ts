// A matrix scenario's trends (one whose samples carry a `point` label and which says how its
// points are named: JobPage.points) as a matrix: one row per measurement (a metric and what it
// measured, such as fio.bw of the seq-read job), one column per matrix point (named as the job page
// names them), each cell the latest value, its change against the run before, and a sparkline of
// its history, linking to the measurement's full chart. Histories in, rows out; the
// scenario's point naming comes from its job page (job-charts.ts pointNamingFor).
//
// What a sample measured leaves out where it came from (the scenario's `measured`), so one
// measurement of one point can be several histories across sweeps (where the output came from may
// name a time); they are one line here.
import type { MetricHistory, SeriesKey } from '../analysis/history.js';
import type { DetectedChange, Thresholds } from '../analysis/regressions.js';
import type { PointNaming } from '../scenarios/types.js';
import { formatPercent, formatValue, labelsText } from './format.js';
import { pointNamingFor } from './job-charts.js';
import { slug } from './names.js';
import { sparkline } from './sparkline.js';

export interface MatrixPoint {
  /** The point id (label `point`). */
  id: string;
  /** Its short name: the axes that differ between points ("smp1x2x1 · raw"). */
  name: string;
}

export interface MeasurementHistory {
  /** The point, or undefined for a measurement of the whole job (one without a point label). */
  point: string | undefined;
  /** Points of every history of this measurement at this point, in sweep order. */
  points: { sweepId: string; jobId: string; at: string; value: number; build?: string }[];
  keyIds: string[];
}

export interface Measurement {
  /** Unique and file-name safe: the chart's id is `m-<id>`. */
  id: string;
  metric: string;
  /** The labels that say what was measured ("job=seq-read, rw=read"), '' when none. */
  what: string;
  /** "fio.bw (job=seq-read, rw=read)" */
  title: string;
  unit: string;
  better: 'higher' | 'lower' | 'none';
  /** One per point it was measured at (or one for the whole job). */
  lines: MeasurementHistory[];
}

export type CellTone = 'better' | 'worse' | 'changed' | 'same' | 'new';

export interface MatrixCell {
  point: string | undefined;
  latest: string;
  /** Against the run before: "+3.1 %", or null when there is none. */
  change: string | null;
  tone: CellTone;
  /** The kind of the newest change detected in this cell's history, if any. */
  detected: DetectedChange['kind'] | null;
  /** The sweep the latest value is from. */
  sweepId: string;
  /** The history as an inline SVG (numbers only). */
  spark: string;
  /** Fragment of the measurement's chart. */
  href: string;
}

export interface MatrixRow {
  id: string;
  title: string;
  metric: string;
  what: string;
  unit: string;
  better: string;
  /** Per point, in `points` order; null where the point has no value. */
  cells: (MatrixCell | null)[];
}

export interface PointMatrix {
  points: MatrixPoint[];
  /** Measurements made at each point. */
  rows: MatrixRow[];
  /** Measurements of the whole job (no point label): one cell each. */
  jobRows: (Omit<MatrixRow, 'cells'> & { cell: MatrixCell })[];
  measurements: Measurement[];
}

/** Histories grouped by measurement and point, in the scenario's order; a history without a point label is the whole job's. */
export function measurements(histories: readonly MetricHistory[], naming: PointNaming): Measurement[] {
  const byMeasurement = new Map<string, Measurement>();
  for (const h of histories) {
    const point = h.key.labels['point'];
    const what = point === undefined ? labelsText(h.key.labels) : naming.measured(h.key.labels);
    const id = `${h.key.metric}\u0000${what}`;
    let m = byMeasurement.get(id);
    if (!m) {
      const title = what ? `${h.key.metric} (${what})` : h.key.metric;
      byMeasurement.set(id, (m = { id: slug(title), metric: h.key.metric, what, title, unit: h.unit, better: h.better, lines: [] }));
    }
    let line = m.lines.find((l) => l.point === point);
    if (!line) m.lines.push((line = { point, points: [], keyIds: [] }));
    line.points.push(...h.points);
    line.keyIds.push(h.keyId);
  }
  for (const m of byMeasurement.values()) {
    for (const l of m.lines) l.points.sort((a, b) => a.sweepId.localeCompare(b.sweepId) || a.jobId.localeCompare(b.jobId));
  }
  return [...byMeasurement.values()].sort((a, b) => {
    const [ra, sa] = naming.rank(a.metric);
    const [rb, sb] = naming.rank(b.metric);
    return ra - rb || sa - sb || a.metric.localeCompare(b.metric) || a.what.localeCompare(b.what);
  });
}

function cellOf(m: Measurement, line: MeasurementHistory, changes: readonly DetectedChange[], threshold: number): MatrixCell {
  const last = line.points.at(-1)!;
  const before = line.points.at(-2);
  const relative = before && before.value !== 0 ? (last.value - before.value) / Math.abs(before.value) : null;
  let tone: CellTone = 'new';
  if (before) {
    if (relative === null ? last.value === before.value : Math.abs(relative) < threshold) tone = 'same';
    else if (m.better === 'none' || relative === null) tone = 'changed';
    else tone = (relative > 0) === (m.better === 'higher') ? 'better' : 'worse';
  }
  const keyIds = new Set(line.keyIds);
  const newest = changes.filter((c) => keyIds.has(c.keyId)).sort((a, b) => a.sweepId.localeCompare(b.sweepId)).at(-1);
  const from = newest ? line.points.findIndex((p) => p.sweepId === newest.sweepId) : -1;
  const values = line.points.map((p) => p.value);
  return {
    point: line.point,
    latest: formatValue(last.value, m.unit),
    change: relative === null ? (before ? (last.value === before.value ? formatPercent(0) : '—') : null) : formatPercent(relative * 100),
    tone,
    detected: newest?.kind ?? null,
    sweepId: last.sweepId,
    spark: sparkline(values, { width: 72, height: 18, ...(from > 0 ? { from, tone: newest!.kind } : {}) }),
    href: `#chart-m-${m.id}`,
  };
}

/**
 * The matrix of a host x scenario's histories (one group: the scenario is the first history's)
 * when the scenario names its points (a matrix scenario) and its histories are labelled by point;
 * undefined otherwise. `thresholdFor` gives the least relative change that counts for a metric (a
 * smaller one is shown as "same").
 */
export function pointMatrix(histories: readonly MetricHistory[], changes: readonly DetectedChange[], thresholdFor: (h: MetricHistory) => Pick<Thresholds, 'minRelativeChange'>): PointMatrix | undefined {
  const naming = histories[0] ? pointNamingFor(histories[0].key.scenario) : undefined;
  if (!naming || !histories.some((h) => h.key.labels['point'] !== undefined)) return undefined;
  const names = naming.names(histories.map((h) => ({ labels: h.key.labels })));
  const points: MatrixPoint[] = [...names.entries()].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const all = measurements(histories, naming);
  const threshold = (m: Measurement) => thresholdFor(histories.find((h) => h.key.metric === m.metric)!).minRelativeChange;
  const rows: MatrixRow[] = [];
  const jobRows: PointMatrix['jobRows'] = [];
  for (const m of all) {
    const base = { id: m.id, title: m.title, metric: m.metric, what: m.what, unit: m.unit, better: m.better };
    const whole = m.lines.find((l) => l.point === undefined);
    if (whole) jobRows.push({ ...base, cell: cellOf(m, whole, changes, threshold(m)) });
    if (m.lines.some((l) => l.point !== undefined)) {
      rows.push({ ...base, cells: points.map((p) => {
        const line = m.lines.find((l) => l.point === p.id);
        return line ? cellOf(m, line, changes, threshold(m)) : null;
      }) });
    }
  }
  return { points, rows, jobRows, measurements: all };
}

/**
 * A series' labels as text, with a matrix point named as its job page names it: "point smp1x2x1 ·
 * raw, job=seq-read, rw=read" rather than every axis of the point and where its output came from.
 * Series without a point label, or of a scenario that does not name its points, read as their labels.
 */
export function seriesLabeller(histories: readonly { key: Pick<SeriesKey, 'host' | 'scenario' | 'labels'> }[]): (key: Pick<SeriesKey, 'host' | 'scenario' | 'labels'>) => string {
  const names = new Map<string, Map<string, string>>();
  const namesOf = (host: string, scenario: string, naming: PointNaming) => {
    const id = `${host}\u0000${scenario}`;
    let found = names.get(id);
    if (!found) {
      const own = histories.filter((h) => h.key.host === host && h.key.scenario === scenario).map((h) => ({ labels: h.key.labels }));
      names.set(id, (found = naming.names(own)));
    }
    return found;
  };
  return (key) => {
    const point = key.labels['point'];
    const naming = pointNamingFor(key.scenario);
    if (point === undefined || !naming) return labelsText(key.labels);
    const what = naming.measured(key.labels);
    const name = namesOf(key.host, key.scenario, naming).get(point) ?? point;
    return `point ${name}${what ? `, ${what}` : ''}`;
  };
}
