// A host x scenario's trends page, drawn from its histories in a render worker (render-pool.ts):
// one chart per metric (or per measurement of a point matrix), the changes table and the builds.
// Everything arrives as data that survives a structured clone (no functions).
import type { HistoryPoint, MetricHistory } from '../analysis/history.js';
import type { Thresholds } from '../analysis/regressions.js';
import { trendChart, type ChartSpec, type TrendLine } from './charts.js';
import { changeText } from '../analysis/change-text.js';
import { labelsText } from './format.js';
import { jobPaths } from './load.js';
import { rel, slug } from './names.js';
import type { OutFile } from './output.js';
import { page, type PageContext } from './page-context.js';
import { runRows, type ChangeRow } from './pages.js';
import { pointMatrix, type PointMatrix } from './point-matrix.js';
import { renderCharts } from './render-pages.js';
import type { TrendGroup } from './trend-periods.js';

export type { TrendGroup } from './trend-periods.js';

/**
 * A row of a trends page's changes table: where its chart is, from this page; its numbers (which
 * later runs move) only on the landing page, null on a period's.
 */
export type TrendChangeRow = Pick<ChangeRow, 'kind' | 'metric' | 'labels' | 'sweepId' | 'keyId' | 'builds' | 'jobHref' | 'unit'> & {
  numbers: Pick<ChangeRow, 'beforeMean' | 'afterMean' | 'relativeChange' | 'pValue'> | null;
  chartHref: string;
};

/** What part of the history a trends page shows, and the links to the other parts. */
export type TrendsView =
  | { kind: 'window'; days: number; since: string; periods: { label: string; href: string }[] }
  | { kind: 'period'; period: string; label: string; latestHref: string; previous: { label: string; href: string } | null };

/**
 * A trends page's inputs: its group cut to the page's sweeps (trend-periods.ts), its rows of the
 * changes table, each history's thresholds by keyId, and the view it is.
 */
export interface TrendsInput {
  group: TrendGroup;
  rows: readonly TrendChangeRow[];
  thresholds: Record<string, Thresholds>;
  view: TrendsView;
}

/** A link from the page at `from` to a job's page, by sweep and job. */
type JobHref = (sweepId: string, jobId: string) => string;

/**
 * Links from the page at `from` to job pages, each made once per page: every line of a trends page
 * links the same few sweeps' jobs (a midolman landing page: 72,000 points, 90 jobs).
 */
function jobHrefs(from: string): JobHref {
  const bySweep = new Map<string, Map<string, string>>();
  return (sweepId, jobId) => {
    let byJob = bySweep.get(sweepId);
    if (!byJob) bySweep.set(sweepId, (byJob = new Map()));
    let href = byJob.get(jobId);
    if (href === undefined) byJob.set(jobId, (href = rel(from, jobPaths(sweepId, jobId).page)));
    return href;
  };
}

/** A history's points as a trend line's, each with the link to its job's page. */
function linePoints(points: readonly HistoryPoint[], hrefOf: JobHref): TrendLine['points'] {
  return points.map((p) => ({ at: p.at, value: p.value, sweepId: p.sweepId, jobId: p.jobId, href: hrefOf(p.sweepId, p.jobId), build: p.build }));
}

/**
 * The order a reader needs the metrics in: those with a change detected on the page first, then
 * those with a better direction (the scenario's results), then the rest, and last the ones that
 * did not move at all (cpu.logical = 16 every night); by name within each. Alphabetical alone put
 * a midolman host's lossless max 28th of 32 charts, under 11,000 px of per-step agent charts.
 */
export function orderedForReading(byMetric: ReadonlyMap<string, readonly MetricHistory[]>, changes: readonly { keyId: string }[]): [string, MetricHistory[]][] {
  const changed = new Set(changes.map((c) => c.keyId));
  const rank = (hs: readonly MetricHistory[]): number => {
    if (hs.some((h) => changed.has(h.keyId))) return 0;
    const first = hs[0]?.points[0]?.value;
    const flat = hs.every((h) => h.points.every((p) => p.value === first));
    if (flat) return 3;
    return hs[0]!.better === 'none' ? 2 : 1;
  };
  return [...byMetric.entries()]
    .map(([metric, hs]) => ({ metric, hs: [...hs], rank: rank(hs) }))
    .sort((a, b) => a.rank - b.rank || a.metric.localeCompare(b.metric))
    .map(({ metric, hs }) => [metric, hs]);
}

/** The trend charts of a host x scenario, built one at a time: one per metric, a line per label set. */
function* metricTrendCharts(group: TrendGroup, frozen: boolean, hrefOf: JobHref): Generator<ChartSpec & { anchors: string[] }> {
  const byMetric = new Map<string, MetricHistory[]>();
  for (const h of group.histories) byMetric.set(h.key.metric, [...(byMetric.get(h.key.metric) ?? []), h]);
  for (const [metric, hs] of orderedForReading(byMetric, group.changes)) {
    const lines: TrendLine[] = hs.map((h) => ({
      label: labelsText(h.key.labels) || metric,
      // the legend names each line by the labels that differ between the chart's lines (charts.ts)
      labels: h.key.labels,
      points: linePoints(h.points, hrefOf),
    }));
    const keyIds = new Set(hs.map((h) => h.keyId));
    const marks = group.changes
      .filter((c) => keyIds.has(c.keyId))
      .map((c) => ({ at: c.at, kind: c.kind, label: labelsText(c.key.labels) || metric, ...(frozen ? {} : { change: changeText(c) }) }));
    yield { ...trendChart({ id: `m-${slug(metric)}`, metric, unit: hs[0]!.unit, better: hs[0]!.better, lines, changes: marks }), anchors: hs.map((h) => h.keyId) };
  }
}

/** The trend charts of a matrix (kvm), built one at a time: one per measurement, a line per point named as the job page names it. */
function* matrixTrendCharts(group: TrendGroup, matrix: PointMatrix, frozen: boolean, hrefOf: JobHref): Generator<ChartSpec & { anchors: string[] }> {
  const names = new Map(matrix.points.map((p) => [p.id, p.name]));
  for (const m of matrix.measurements) {
    const keyIds = new Set(m.lines.flatMap((l) => l.keyIds));
    const nameOf = (point: string | undefined) => (point === undefined ? 'job' : (names.get(point) ?? point));
    const lines: TrendLine[] = m.lines.map((l) => ({
      label: nameOf(l.point),
      points: linePoints(l.points, hrefOf),
    }));
    const marks = group.changes
      .filter((c) => keyIds.has(c.keyId))
      .map((c) => ({ at: c.at, kind: c.kind, label: nameOf(c.key.labels['point']), ...(frozen ? {} : { change: changeText(c) }) }));
    const chart = trendChart({ id: `m-${m.id}`, metric: m.metric, title: m.title, unit: m.unit, better: m.better, lines, changes: marks, seriesTitle: 'point' });
    yield { ...chart, anchors: [...keyIds] };
  }
}

export async function renderTrends(ctx: PageContext, { group, rows, thresholds, view }: TrendsInput): Promise<OutFile[]> {
  // a period that has ended shows what stays true of it: a change's mean after it moves with later runs
  const frozen = view.kind === 'period';
  const matrix = pointMatrix(group.histories, group.changes, (h) => thresholds[h.keyId]!);
  const hrefOf = jobHrefs(group.path);
  const charts = matrix ? matrixTrendCharts(group, matrix, frozen, hrefOf) : metricTrendCharts(group, frozen, hrefOf);
  const assetsDir = group.path.replace(/\.html$/, '');
  const pageId = `trends:${group.host}/${group.scenario}${frozen ? `@${view.period}` : ''}`;
  // each chart drawn as soon as it is built (renderCharts); only its anchors are kept for its view
  const anchors: string[][] = [];
  const rendered = await renderCharts(
    (function* () {
      for (const chart of charts) {
        anchors.push(chart.anchors);
        yield chart;
      }
    })(),
    pageId,
    group.path,
    assetsDir,
  );
  const views = rendered.views.map((v, i) => ({ ...v, anchors: anchors[i]! }));
  const sweepIds = new Set<string>();
  for (const h of group.histories) for (const p of h.points) sweepIds.add(p.sweepId);
  const sweeps = sweepIds.size;
  const runs = runRows(group.histories.flatMap((h) => h.points), hrefOf);
  const html = page(ctx, './trends', group.path, {
    title: `Trends · ${group.host} · ${group.scenario}${frozen ? ` · ${view.label}` : ''}`,
    section: 'trends',
    chartScript: rendered.script,
    host: group.host,
    scenario: group.scenario,
    view,
    metrics: new Set(group.histories.map((h) => h.key.metric)).size,
    sweeps,
    changes: rows,
    charts: views,
    matrix: matrix ? { points: matrix.points, rows: matrix.rows, jobRows: matrix.jobRows } : null,
    runs: runs.some((r) => r.build !== null) ? runs : [],
  });
  return [...rendered.files, { path: group.path, data: html }];
}
