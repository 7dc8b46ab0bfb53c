// Vega-Lite spec builders. A ChartSpec is everything a page needs for one chart: the spec
// with the data it shows (downsampled when long), and the full data for the download links.
// Host text only ever goes into data values and titles, never into Vega expressions.
import { downsampleMinMax, type Point } from './downsample.js';

export type VlSpec = Record<string, unknown>;

export interface ChartSpec {
  /** Unique within its page and file-name safe. */
  id: string;
  title: string;
  /** One line under the chart. */
  note?: string;
  spec: VlSpec;
  /** The full data (not downsampled), written beside the chart as JSON and CSV. */
  rows: Record<string, unknown>[];
  columns: string[];
}

/** Points a long series is reduced to for display. */
export const DISPLAY_POINTS = 800;
const WIDTH = 760;

export const STATUS_COLORS: Record<string, string> = {
  ok: '#2e7d32',
  failed: '#c62828',
  'timed-out': '#e65100',
  lost: '#6a1b9a',
  interrupted: '#616161',
  skipped: '#9e9e9e',
  unreachable: '#ad1457',
  running: '#1565c0',
  pending: '#90a4ae',
};

const BASE = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: WIDTH,
  config: {
    font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e8eb' },
    legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
    view: { stroke: null },
  },
};

function unitTitle(metric: string, unit: string): string {
  return unit ? `${metric} (${unit})` : metric;
}

export interface SeriesInput {
  label: string;
  points: readonly Point[];
}

/** Line chart of one metric's time series (one line per label set); zoom/pan on x, legend filtering. */
export function timeSeriesChart(options: { id: string; metric: string; unit: string; better: string; series: readonly SeriesInput[] }): ChartSpec {
  const rows: Record<string, unknown>[] = [];
  const shown: Record<string, unknown>[] = [];
  let total = 0;
  let kept = 0;
  const perSeries = Math.max(50, Math.floor(DISPLAY_POINTS / Math.max(1, options.series.length)));
  for (const s of options.series) {
    for (const [t, v] of s.points) rows.push({ series: s.label, t: new Date(t * 1000).toISOString(), value: v });
    const small = downsampleMinMax(s.points, perSeries);
    total += s.points.length;
    kept += small.length;
    for (const [t, v] of small) shown.push({ series: s.label, t: t * 1000, time: new Date(t * 1000).toISOString(), value: v });
  }
  const multi = options.series.length > 1;
  const spec: VlSpec = {
    ...BASE,
    height: 220,
    title: { text: options.metric, subtitle: options.better === 'none' ? undefined : `${options.better} is better` },
    data: { values: shown },
    mark: { type: 'line', interpolate: 'linear', point: shown.length <= 120, tooltip: true },
    params: [
      { name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' },
      ...(multi ? [{ name: 'pick', select: { type: 'point', fields: ['series'] }, bind: 'legend' }] : []),
    ],
    encoding: {
      x: { field: 't', type: 'temporal', scale: { type: 'utc' }, title: 'time (UTC)', axis: { format: '%H:%M:%S' } },
      y: { field: 'value', type: 'quantitative', title: unitTitle(options.metric, options.unit), axis: { format: '~s' } },
      ...(multi
        ? {
            color: { field: 'series', type: 'nominal', title: 'labels' },
            opacity: { condition: { param: 'pick', value: 1 }, value: 0.15 },
          }
        : { color: { value: '#1f77b4' } }),
      tooltip: [
        { field: 'time', type: 'nominal', title: 'time (UTC)' },
        { field: 'value', type: 'quantitative', title: options.unit || 'value', format: ',.4~r' },
        ...(multi ? [{ field: 'series', type: 'nominal', title: 'labels' }] : []),
      ],
    },
  };
  return {
    id: options.id,
    title: options.metric,
    note: kept < total ? `${kept.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} points shown (min/max per bucket keeps the peaks); the full series is in the downloads.` : undefined,
    spec,
    rows,
    columns: ['series', 't', 'value'],
  };
}

export interface PhaseBar {
  name: string;
  status: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
}

/** Gantt-like bars of a job's phases, coloured by status (the status is also in the label). */
export function phaseTimelineChart(id: string, phases: readonly PhaseBar[]): ChartSpec | undefined {
  const rows = phases
    .filter((p) => p.startedAt && p.endedAt)
    .map((p, i) => ({
      phase: `${i + 1}. ${p.name} (${p.status})`,
      name: p.name,
      status: p.status,
      start: Date.parse(p.startedAt!),
      end: Math.max(Date.parse(p.endedAt!), Date.parse(p.startedAt!) + 1),
      startedAt: p.startedAt,
      endedAt: p.endedAt,
      seconds: p.durationMs === null ? null : Math.round(p.durationMs / 100) / 10,
    }));
  if (rows.length === 0) return undefined;
  const statuses = [...new Set(rows.map((r) => r.status))];
  return {
    id,
    title: 'Phase timeline',
    spec: {
      ...BASE,
      // narrower than the other charts: long phase names (kvm's point-<id>) take the rest
      width: 540,
      height: { step: 26 },
      title: 'Phase timeline',
      data: { values: rows },
      mark: { type: 'bar', cornerRadius: 2, tooltip: true },
      params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }],
      encoding: {
        y: { field: 'phase', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
        x: { field: 'start', type: 'temporal', scale: { type: 'utc' }, title: 'time (UTC)', axis: { format: '%H:%M:%S' } },
        x2: { field: 'end' },
        color: {
          field: 'status',
          type: 'nominal',
          scale: { domain: statuses, range: statuses.map((s) => STATUS_COLORS[s] ?? '#455a64') },
          title: 'status',
        },
        tooltip: [
          { field: 'name', type: 'nominal', title: 'phase' },
          { field: 'status', type: 'nominal' },
          { field: 'startedAt', type: 'nominal', title: 'started' },
          { field: 'seconds', type: 'quantitative', title: 'seconds' },
        ],
      },
    },
    rows: rows.map(({ name, status, startedAt, endedAt, seconds }) => ({ name, status, startedAt, endedAt, seconds })),
    columns: ['name', 'status', 'startedAt', 'endedAt', 'seconds'],
  };
}

export interface StepBar {
  /** What the bar is (a matrix point). */
  item: string;
  step: string;
  seconds: number;
}

/** Horizontal stacked bars: each item's time split into its steps, in the order given. */
export function stepBarsChart(options: { id: string; title: string; note?: string; bars: readonly StepBar[] }): ChartSpec | undefined {
  if (options.bars.length === 0) return undefined;
  const steps = [...new Set(options.bars.map((b) => b.step))];
  const rows = options.bars.map((b) => ({ item: b.item, step: b.step, order: steps.indexOf(b.step), seconds: Math.round(b.seconds * 1000) / 1000 }));
  return {
    id: options.id,
    title: options.title,
    ...(options.note ? { note: options.note } : {}),
    spec: {
      ...BASE,
      width: 440,
      height: { step: 26 },
      title: options.title,
      data: { values: rows },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'item', type: 'nominal', sort: null, title: null, axis: { labelLimit: 400 } },
        x: { field: 'seconds', type: 'quantitative', stack: 'zero', title: 'seconds' },
        color: { field: 'step', type: 'nominal', sort: steps, scale: { scheme: 'tableau10' }, title: 'step' },
        order: { field: 'order', type: 'quantitative' },
        tooltip: [
          { field: 'item', type: 'nominal' },
          { field: 'step', type: 'nominal' },
          { field: 'seconds', type: 'quantitative' },
        ],
      },
    },
    rows: rows.map(({ item, step, seconds }) => ({ item, step, seconds })),
    columns: ['item', 'step', 'seconds'],
  };
}

export interface ItemValue {
  item: string;
  value: number;
  /** Shown in the tooltip (e.g. the point's configuration). */
  detail?: string;
}

/** Horizontal bars, one per item (a matrix point), for one metric: which configuration did better. */
export function itemBarsChart(options: { id: string; metric: string; unit: string; better: string; title?: string; bars: readonly ItemValue[] }): ChartSpec | undefined {
  if (options.bars.length === 0) return undefined;
  const title = options.title ?? options.metric;
  const axis = unitTitle(options.metric, options.unit);
  const rows = options.bars.map((b) => ({ item: b.item, value: b.value, detail: b.detail ?? '' }));
  return {
    id: options.id,
    title,
    spec: {
      ...BASE,
      width: 440,
      height: { step: 22 },
      title: { text: title, subtitle: options.better === 'none' ? undefined : `${options.better} is better` },
      data: { values: rows },
      mark: { type: 'bar', tooltip: true, color: '#1565c0' },
      encoding: {
        y: { field: 'item', type: 'nominal', sort: null, title: null, axis: { labelLimit: 400 } },
        x: { field: 'value', type: 'quantitative', title: axis },
        tooltip: [
          { field: 'item', type: 'nominal', title: 'point' },
          { field: 'value', type: 'quantitative', format: ',.4~g' },
          { field: 'detail', type: 'nominal', title: 'point id' },
        ],
      },
    },
    rows,
    columns: ['item', 'value', 'detail'],
  };
}

export interface TrendLine {
  label: string;
  points: readonly { at: string; value: number; sweepId: string; jobId: string; href: string }[];
}

export interface TrendMark {
  at: string;
  kind: 'regression' | 'improvement' | 'change';
  label: string;
  relativeChange: number;
}

export const CHANGE_COLORS = { regression: '#c62828', improvement: '#2e7d32', change: '#6d4c41' } as const;

/** One metric of one host x scenario across sweeps; detected change points as rule marks. */
export function trendChart(options: { id: string; metric: string; unit: string; better: string; lines: readonly TrendLine[]; changes: readonly TrendMark[] }): ChartSpec {
  const rows: Record<string, unknown>[] = [];
  for (const line of options.lines) {
    for (const p of line.points) rows.push({ series: line.label, at: p.at, value: p.value, sweepId: p.sweepId, jobId: p.jobId, href: p.href });
  }
  // a year of nightly sweeps fits; far longer histories are thinned for display, keeping peaks
  let shown: Record<string, unknown>[] = rows.map((r) => ({ ...r, t: Date.parse(r.at as string) }));
  if (shown.length > DISPLAY_POINTS * 2) {
    const kept: typeof shown = [];
    for (const line of options.lines) {
      const own = shown.filter((r) => r.series === line.label);
      const idx = downsampleMinMax(own.map((r, i) => [i, r.value as number] as const), Math.floor((DISPLAY_POINTS * 2) / options.lines.length));
      for (const [i] of idx) kept.push(own[i]!);
    }
    shown = kept;
  }
  const multi = options.lines.length > 1;
  const changeRows = options.changes.map((c) => ({ t: Date.parse(c.at), kind: c.kind, label: c.label, change: `${c.relativeChange > 0 ? '+' : ''}${(c.relativeChange * 100).toFixed(1)} %` }));
  const kinds = [...new Set(changeRows.map((c) => c.kind))];
  const x = { field: 't', type: 'temporal', scale: { type: 'utc' }, title: 'sweep start (UTC)' };
  const layers: VlSpec[] = [
    {
      mark: { type: 'line', point: shown.length <= 400, tooltip: true },
      params: [
        { name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' },
        ...(multi ? [{ name: 'pick', select: { type: 'point', fields: ['series'] }, bind: 'legend' }] : []),
      ],
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: unitTitle(options.metric, options.unit), scale: { zero: false }, axis: { format: '~s' } },
        href: { field: 'href' },
        ...(multi
          ? { color: { field: 'series', type: 'nominal', title: 'labels' }, opacity: { condition: { param: 'pick', value: 1 }, value: 0.15 } }
          : { color: { value: '#1f77b4' } }),
        tooltip: [
          { field: 'sweepId', type: 'nominal', title: 'sweep' },
          { field: 'value', type: 'quantitative', title: options.unit || 'value', format: ',.4~r' },
          ...(multi ? [{ field: 'series', type: 'nominal', title: 'labels' }] : []),
        ],
      },
    },
  ];
  if (changeRows.length > 0) {
    layers.push({
      data: { values: changeRows },
      mark: { type: 'rule', strokeWidth: 2, strokeDash: [5, 3], tooltip: true },
      encoding: {
        x: { field: 't', type: 'temporal' },
        color: {
          field: 'kind',
          type: 'nominal',
          title: 'detected',
          scale: { domain: kinds, range: kinds.map((k) => CHANGE_COLORS[k as keyof typeof CHANGE_COLORS]) },
          legend: multi ? null : undefined,
        },
        tooltip: [
          { field: 'kind', type: 'nominal', title: 'detected' },
          { field: 'change', type: 'nominal', title: 'change of mean' },
          { field: 'label', type: 'nominal', title: 'series' },
        ],
      },
    });
  }
  return {
    id: options.id,
    title: options.metric,
    note: shown.length < rows.length ? `${shown.length} of ${rows.length} points shown; the full history is in the downloads.` : undefined,
    spec: {
      ...BASE,
      height: 200,
      title: { text: options.metric, subtitle: options.better === 'none' ? undefined : `${options.better} is better` },
      data: { values: shown },
      layer: layers,
      ...(multi && changeRows.length > 0 ? { resolve: { scale: { color: 'independent' } } } : {}),
    },
    rows,
    columns: ['series', 'at', 'value', 'sweepId', 'jobId'],
  };
}
