// Vega-Lite spec builders. A ChartSpec is everything a page needs for one chart: the spec
// with the data it shows (downsampled when long), and the full data for the download links.
// Host text only ever goes into data values, parameter values and titles, never into Vega expressions.
import { downsampleMean, downsampleMinMax, type Point } from './downsample.js';
import { displayUnit, formatIn, lineNames, withUnit, type DisplayUnit } from './format.js';
import {
  CATEGORY_COLORS,
  DATED_LABEL_SEPARATION,
  datedTickCountExpr,
  timeDomain,
  withinOneDay,
  type ChartDrawing,
  type DrawnLegend,
  type DrawnLine,
  type DrawnValueAxis,
} from './svg-chart/drawing.js';

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
  /** 'story': one of the charts that tell a job's story, drawn side by side at the top of its page. */
  placement?: 'story';
  /**
   * The same chart for the site's own SVG writer (svg-chart/draw.ts), which draws the page's
   * pre-rendered view without Vega; charts without one are drawn by Vega from `spec`.
   */
  drawing?: ChartDrawing;
}

/** Colours of the series of a chart, over its sorted labels (CATEGORY_COLORS; the spec's scale gets them as its range). */
function categoryColors(labels: readonly string[]): Map<string, string> {
  const sorted = [...new Set(labels)].sort();
  return new Map(sorted.map((label, i) => [label, CATEGORY_COLORS[i % CATEGORY_COLORS.length]!]));
}

const SINGLE_COLOR = '#1f77b4';

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

/**
 * Labels of a value axis in its display unit (the data is scaled to it): plain grouped numbers,
 * never an SI prefix on a unit ("190m" ms, "600m" load); whole numbers only for counts.
 */
export function valueAxisLabels(display: Pick<DisplayUnit, 'integer'>): Record<string, unknown> {
  return { format: ',~r', ...(display.integer ? { tickMinStep: 1 } : {}) };
}

/**
 * The domain of a linear value scale whose values are all the same, or undefined when they
 * differ: Vega draws a zero-span domain as one "NaN" tick. A constant series is drawn against
 * zero (0 to its value; 0 to 1 when it is zero).
 */
export function constantDomain(values: readonly (number | null | undefined)[]): [number, number] | undefined {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (finite.length === 0) return [0, 1];
  const v = finite[0]!;
  if (finite.some((x) => x !== v)) return undefined;
  return v === 0 ? [0, 1] : v > 0 ? [0, v] : [v, 0];
}

function finiteValues(values: Iterable<number | null | undefined>): number[] {
  const out: number[] = [];
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  return out;
}

/**
 * `new Date(seconds * 1000).toISOString()`, remembered for one chart: a chart's lines share their
 * timestamps, and each point is written twice (the download rows and the shown points).
 */
function isoTimes(): (seconds: number) => string {
  const known = new Map<number, string>();
  return (seconds) => {
    let text = known.get(seconds);
    if (text === undefined) known.set(seconds, (text = new Date(seconds * 1000).toISOString()));
    return text;
  };
}

const scaleBy = (v: number | null | undefined, factor: number): number | null => (typeof v === 'number' && Number.isFinite(v) ? v * factor : null);

/** Least room between the labels of a time axis in HH:MM:SS (px; the spec's labelSeparation and the drawing's): they never touch. */
const TIME_LABEL_SEPARATION = 5;
/**
 * A time axis in HH:MM:SS ticks whole seconds at the finest (tickMinStep, ms), as the writer's
 * does: over a few seconds Vega ticked every 500 ms, read each second twice and hid half of them.
 */
const WHOLE_SECONDS = { tickMinStep: 1000 } as const;

/** Earliest and latest of the times (ms), or undefined for none. */
function timeExtent(times: Iterable<number>): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of times) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * The x scale's domain a spec gives Vega where its data is one instant: timeDomain's (its whole
 * UTC day on a dated axis, an hour either side on a job's), which the drawing draws too; Vega's
 * own (the data's extent) otherwise. Vega would draw one instant as a lone label (":13").
 */
function instantDomain(extent: [number, number] | undefined, dated: boolean): { domain?: { expr: string } } {
  if (!extent || extent[1] > extent[0]) return {};
  // as an expression of numbers: a domain of numbers becomes Vega signals ({data: datetime(...)})
  // that the site's expression interpreter reads as no domain at all (no axis, the point at the left edge)
  const [lo, hi] = timeDomain(extent[0], extent[1], dated);
  return { domain: { expr: `[${lo}, ${hi}]` } };
}

/** "Thu 01 Oct 2026": the UTC date of ms since the epoch, as a dated time axis' title says it where no label does. */
function utcDateText(t: number): string {
  // toUTCString is "Thu, 01 Oct 2026 02:00:13 GMT" in every locale
  return new Date(t).toUTCString().slice(0, 16).replace(',', '');
}

/** A chart line's full label (the data: tooltips, downloads) and, when it is a label set, the set. */
interface LabelledLine {
  label: string;
  labels?: Readonly<Record<string, string>>;
}

/**
 * How a chart's legend names its lines: by the labels that differ between them, with the labels
 * every line shares said once (`common`, for the subtitle). Only where every line is a label set
 * (others, such as a matrix's point names, are named as given) and the names stay distinct; a
 * line with nothing beyond the shared labels keeps its full label.
 */
function legendNames(lines: readonly LabelledLine[]): { common: string; nameOf: (label: string) => string } {
  const sets = lines.map((l) => l.labels);
  if (lines.length === 0 || sets.some((s) => s === undefined)) return { common: '', nameOf: (label) => label };
  const { common, names } = lineNames(sets as Readonly<Record<string, string>>[]);
  const byLabel = new Map(lines.map((l, i) => [l.label, names[i] || l.label]));
  if (new Set(byLabel.values()).size !== byLabel.size) return { common: '', nameOf: (label) => label };
  return { common, nameOf: (label) => byLabel.get(label) ?? label };
}

/** A chart's subtitle: which way is better, then the labels all its lines share ("every line: mode=linear"). */
function subtitleOf(better: string, common: string, multi: boolean): string | undefined {
  const parts = [...(better === 'none' ? [] : [`${better} is better`]), ...(common ? [multi ? `every line: ${common}` : common] : [])];
  return parts.length ? parts.join(' · ') : undefined;
}

/** Width of a legend label as the site's SVG writer lays it out (0.62 x the 11 px font a character). */
const SVG_LABEL_CHAR_PX = 0.62 * 11;
/**
 * Widest legend label (px, as the SVG writer measures) drawn right of a WIDTH plot: with the y axis
 * and the legend's symbols the chart is then at most about 1,100 px wide, and fits its card on a
 * wide page (report-site/assets/site.css: 1,180 px less the margins).
 */
const RIGHT_LEGEND_FIT = 200;
/**
 * Room a legend below a WIDTH plot has (px, as the SVG writer measures): under the plot and on past
 * its right edge, where a right legend would be; with the y axis still inside the card.
 */
const BOTTOM_LEGEND_BUDGET = 1000;
/** Name of the spec's parameter holding the legend's names, in the colour domain's order (its labelExpr reads them by index). */
const LEGEND_NAMES = 'legendNames';

/**
 * The legend of a WIDTH-plot chart's lines (a trend, a job series), for the drawing and the spec
 * alike: right of the plot, titled, where every name fits there; else below it, in as many
 * columns as fit the card, every name whole. Vega shows the names through `labelExpr` from
 * the spec's `legendNames` parameter (host text stays data, never expression text), while the
 * colour field, the legend-bound selection and the tooltips keep the full label.
 */
function linesLegend(title: string, entries: readonly { label: string; name: string; color: string }[]): { drawn: DrawnLegend; vega: Record<string, unknown>; params: Record<string, unknown>[] } {
  const names = entries.map((e) => e.name);
  const renamed = entries.some((e) => e.name !== e.label);
  const drawnEntries = entries.map((e) => ({ label: e.name, color: e.color }));
  // every entry shown, as the SVG writer draws them (Vega's default stops at 30)
  const common = { symbolLimit: 0, ...(renamed ? { labelExpr: `${LEGEND_NAMES}[datum.index]` } : {}) };
  const params = renamed ? [{ name: LEGEND_NAMES, value: names }] : [];
  const longest = Math.max(0, ...names.map((n) => n.length));
  if (longest * SVG_LABEL_CHAR_PX <= RIGHT_LEGEND_FIT) {
    // Vega's limit (the site's default) only cuts: a legend is as wide as its labels are
    return { drawn: { title, symbol: 'stroke', labelLimit: RIGHT_LEGEND_FIT, entries: drawnEntries }, vega: common, params };
  }
  const layout = legendLayout(names, BOTTOM_LEGEND_BUDGET, SVG_LABEL_CHAR_PX);
  // Vega lays out the columns by the widths it measures; its limit, as wide as it could estimate a label, cuts none
  const vegaLimit = Math.max(layout.labelLimit, Math.ceil(longest * LABEL_CHAR_PX) + 12);
  return {
    drawn: { title: null, symbol: 'stroke', placement: 'bottom', ...layout, entries: drawnEntries },
    vega: { ...common, orient: 'bottom', direction: 'horizontal', title: null, columns: layout.columns, labelLimit: vegaLimit },
    params,
  };
}

export interface SeriesInput {
  /** The series' full label: its tooltips and download rows say it. */
  label: string;
  /** Its label set, when the label is one: the legend then names it by the labels that differ between the chart's series. */
  labels?: Readonly<Record<string, string>>;
  points: readonly Point[];
}

/** Line chart of one metric's time series (one line per label set); zoom/pan on x, legend filtering. */
export function timeSeriesChart(options: { id: string; metric: string; unit: string; better: string; series: readonly SeriesInput[]; seriesTitle?: string }): ChartSpec {
  const rows: Record<string, unknown>[] = [];
  const shown: Record<string, unknown>[] = [];
  let total = 0;
  let kept = 0;
  const perSeries = Math.max(50, Math.floor(DISPLAY_POINTS / Math.max(1, options.series.length)));
  const display = displayUnit(options.unit, finiteValues(options.series.flatMap((s) => s.points.map(([, v]) => v))));
  const iso = isoTimes();
  for (const s of options.series) {
    for (const [t, v] of s.points) rows.push({ series: s.label, t: iso(t), value: v });
    const small = downsampleMinMax(s.points, perSeries);
    total += s.points.length;
    kept += small.length;
    for (const [t, v] of small) shown.push({ series: s.label, t: t * 1000, time: iso(t), value: scaleBy(v, display.factor), shown: formatIn(v, display) });
  }
  const domain = constantDomain(shown.map((r) => r['value'] as number | null));
  const multi = options.series.length > 1;
  const colors = categoryColors(options.series.map((s) => s.label));
  const names = legendNames(options.series);
  const subtitle = subtitleOf(options.better, names.common, multi);
  const legend = linesLegend(options.seriesTitle ?? 'labels', [...colors].map(([label, color]) => ({ label, name: names.nameOf(label), color })));
  const drawnLines = new Map<string, DrawnLine>();
  for (const r of shown) {
    const label = r['series'] as string;
    let line = drawnLines.get(label);
    if (!line) drawnLines.set(label, (line = { label, color: multi ? colors.get(label)! : SINGLE_COLOR, points: [] }));
    line.points.push([r['t'] as number, r['value'] as number | null]);
  }
  const drawing: ChartDrawing = {
    kind: 'lines',
    title: options.metric,
    ...(subtitle ? { subtitle } : {}),
    width: WIDTH,
    height: 220,
    x: { title: 'time (UTC)', format: '%H:%M:%S', labelSeparation: TIME_LABEL_SEPARATION },
    y: { title: withUnit(options.metric, display.label), ...(domain ? { domain } : {}), zero: true, padding: 0, integer: display.integer },
    lines: [...drawnLines.values()],
    symbols: shown.length <= 120,
    rules: [],
    legends: multi ? [legend.drawn] : [],
  };
  const spec: VlSpec = {
    ...BASE,
    height: 220,
    title: { text: options.metric, subtitle },
    data: { values: shown },
    mark: { type: 'line', interpolate: 'linear', point: shown.length <= 120, tooltip: true },
    params: [
      { name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' },
      ...(multi ? [{ name: 'pick', select: { type: 'point', fields: ['series'] }, bind: 'legend' }, ...legend.params] : []),
    ],
    encoding: {
      x: {
        field: 't',
        type: 'temporal',
        scale: { type: 'utc', ...instantDomain(timeExtent(shown.map((r) => r['t'] as number)), false) },
        title: 'time (UTC)',
        axis: { format: '%H:%M:%S', labelSeparation: TIME_LABEL_SEPARATION, ...WHOLE_SECONDS },
      },
      y: { field: 'value', type: 'quantitative', title: withUnit(options.metric, display.label), ...(domain ? { scale: { domain, nice: true } } : {}), axis: valueAxisLabels(display) },
      ...(multi
        ? {
            color: { field: 'series', type: 'nominal', title: options.seriesTitle ?? 'labels', scale: { domain: [...colors.keys()], range: [...colors.values()] }, legend: legend.vega },
            opacity: { condition: { param: 'pick', value: 1 }, value: 0.15 },
          }
        : { color: { value: '#1f77b4' } }),
      tooltip: [
        { field: 'time', type: 'nominal', title: 'time (UTC)' },
        { field: 'shown', type: 'nominal', title: 'value' },
        ...(multi ? [{ field: 'series', type: 'nominal', title: options.seriesTitle ?? 'labels' }] : []),
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
    drawing,
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
  const statusColor = (s: string) => STATUS_COLORS[s] ?? '#455a64';
  const drawing: ChartDrawing = {
    kind: 'timeline',
    title: 'Phase timeline',
    width: 540,
    step: 26,
    x: { title: 'time (UTC)', format: '%H:%M:%S', labelSeparation: TIME_LABEL_SEPARATION },
    rows: rows.map((r) => ({ label: r.phase, start: r.start, end: r.end, color: statusColor(r.status), tip: `${r.name}: ${r.status}, started ${r.startedAt}${r.seconds === null ? '' : `, ${r.seconds} s`}` })),
    legends: [{ title: 'status', symbol: 'square', entries: statuses.map((s) => ({ label: s, color: statusColor(s) })) }],
    labelLimit: 320,
  };
  return {
    id,
    title: 'Phase timeline',
    drawing,
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
        x: { field: 'start', type: 'temporal', scale: { type: 'utc' }, title: 'time (UTC)', axis: { format: '%H:%M:%S', labelSeparation: TIME_LABEL_SEPARATION, ...WHOLE_SECONDS } },
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
        x: { field: 'seconds', type: 'quantitative', stack: 'zero', title: 'seconds', axis: valueAxisLabels({ integer: false }) },
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
  const rows = options.bars.map((b) => ({ item: b.item, value: b.value, detail: b.detail ?? '' }));
  const display = displayUnit(options.unit, finiteValues(rows.map((r) => r.value)));
  const shown = rows.map((r) => ({ ...r, value: scaleBy(r.value, display.factor), shown: formatIn(r.value, display) }));
  const domain = constantDomain(shown.map((r) => r.value));
  return {
    id: options.id,
    title,
    spec: {
      ...BASE,
      width: 440,
      height: { step: 22 },
      title: { text: title, subtitle: options.better === 'none' ? undefined : `${options.better} is better` },
      data: { values: shown },
      mark: { type: 'bar', tooltip: true, color: '#1565c0' },
      encoding: {
        y: { field: 'item', type: 'nominal', sort: null, title: null, axis: { labelLimit: 400 } },
        x: { field: 'value', type: 'quantitative', title: withUnit(options.metric, display.label), ...(domain ? { scale: { domain, nice: true } } : {}), axis: valueAxisLabels(display) },
        tooltip: [
          { field: 'item', type: 'nominal', title: 'point' },
          { field: 'shown', type: 'nominal', title: 'value' },
          { field: 'detail', type: 'nominal', title: 'point id' },
        ],
      },
    },
    rows,
    columns: ['item', 'value', 'detail'],
  };
}

export interface TrendLine {
  /** The line's full label: its tooltips, change marks and download rows say it. */
  label: string;
  /** Its label set, when the label is one: the legend then names it by the labels that differ between the chart's lines. */
  labels?: Readonly<Record<string, string>>;
  points: readonly { at: string; value: number; sweepId: string; jobId: string; href: string; build?: string }[];
}

export interface TrendMark {
  at: string;
  kind: 'regression' | 'improvement' | 'change';
  label: string;
  /** The change of the mean as it reads (analysis/change-text.ts: "+12.3 %", "from 0"); left out where it is not final (a period page: later runs move it). */
  change?: string;
}

/** A trend chart's download row (JSON and CSV), in the order its fields are written. */
type TrendRow = {
  series: string;
  at: string;
  value: number;
  sweepId: string;
  jobId: string;
  href: string;
  build?: string;
};

/** A trend chart's shown row (the spec's data): a download row's fields, the value scaled to the display unit, its time and text. */
type ShownTrendRow = Omit<TrendRow, 'value'> & {
  value: number | null;
  t: number;
  shown: string;
};

export const CHANGE_COLORS = { regression: '#c62828', improvement: '#2e7d32', change: '#6d4c41' } as const;

/** One metric of one host x scenario across sweeps; detected change points as rule marks. */
export function trendChart(options: {
  id: string;
  metric: string;
  /** The chart's title when it is not the metric's name (a measurement: "fio.bw (job=seq-read)"). */
  title?: string;
  unit: string;
  better: string;
  lines: readonly TrendLine[];
  changes: readonly TrendMark[];
  /** What the lines are, for the legend ("point"; default "labels"). */
  seriesTitle?: string;
}): ChartSpec {
  const title = options.title ?? options.metric;
  const seriesTitle = options.seriesTitle ?? 'labels';
  // the download rows, and the rows shown (each made once, in its final shape: a trends page has tens of thousands)
  const rows: TrendRow[] = [];
  let builds = false;
  for (const line of options.lines) {
    for (const p of line.points) {
      if (p.build === undefined) rows.push({ series: line.label, at: p.at, value: p.value, sweepId: p.sweepId, jobId: p.jobId, href: p.href });
      else {
        rows.push({ series: line.label, at: p.at, value: p.value, sweepId: p.sweepId, jobId: p.jobId, href: p.href, build: p.build });
        builds = true;
      }
    }
  }
  // a year of nightly sweeps fits; far longer histories are thinned for display, keeping peaks
  let kept: readonly TrendRow[] = rows;
  if (rows.length > DISPLAY_POINTS * 2) {
    const thinned: TrendRow[] = [];
    // each line's rows in order, grouped once (a filter per line was lines x rows: a third of a midolman trends page's drawing)
    const byLabel = new Map<string, TrendRow[]>();
    for (const r of rows) {
      let own = byLabel.get(r.series);
      if (!own) byLabel.set(r.series, (own = []));
      own.push(r);
    }
    for (const line of options.lines) {
      const own = byLabel.get(line.label) ?? [];
      const idx = downsampleMinMax(own.map((r, i) => [i, r.value] as const), Math.floor((DISPLAY_POINTS * 2) / options.lines.length));
      for (const [i] of idx) thinned.push(own[i]!);
    }
    kept = thinned;
  }
  const display = displayUnit(options.unit, finiteValues(rows.map((r) => r.value)));
  // the fields of a download row, then its time, its value in the display unit and that value's text (the spec's data)
  const shown: ShownTrendRow[] = kept.map((r) => {
    const value = scaleBy(r.value, display.factor);
    return r.build === undefined
      ? { series: r.series, at: r.at, value, sweepId: r.sweepId, jobId: r.jobId, href: r.href, t: Date.parse(r.at), shown: formatIn(r.value, display) }
      : { series: r.series, at: r.at, value, sweepId: r.sweepId, jobId: r.jobId, href: r.href, build: r.build, t: Date.parse(r.at), shown: formatIn(r.value, display) };
  });
  const domain = constantDomain(shown.map((r) => r.value));
  const multi = options.lines.length > 1;
  const changeRows = options.changes.map((c) => ({
    t: Date.parse(c.at),
    kind: c.kind,
    label: c.label,
    ...(c.change === undefined ? {} : { change: c.change }),
  }));
  const kinds = [...new Set(changeRows.map((c) => c.kind))];
  const colors = categoryColors(options.lines.map((l) => l.label));
  const names = legendNames(options.lines);
  const subtitle = subtitleOf(options.better, names.common, multi);
  const legend = linesLegend(seriesTitle, [...colors].map(([label, color]) => ({ label, name: names.nameOf(label), color })));
  const drawnLines = new Map<string, DrawnLine & { hrefs: string[]; tips: string[] }>();
  for (const r of shown) {
    const label = r.series;
    let line = drawnLines.get(label);
    if (!line) drawnLines.set(label, (line = { label, color: multi ? colors.get(label)! : SINGLE_COLOR, points: [], hrefs: [], tips: [] }));
    line.points.push([r.t, r.value]);
    line.hrefs.push(r.href);
    line.tips.push(`${multi ? `${label}: ` : ''}${r.shown} · sweep ${r.sweepId}${r.build !== undefined ? ` · build ${r.build}` : ''}`);
  }
  const kindColor = (k: string) => CHANGE_COLORS[k as keyof typeof CHANGE_COLORS];
  // the time axis over the points and change marks (one sweep: its day), its ticks far enough apart
  // that no label is hidden (each midnight's date stays: datedTickCount), in the spec (evaluated on
  // the domain shown, zoomed or not) and the drawing alike; where labels still overlap (an end
  // label flush on its tick, days past two weeks) "greedy" hides the one in the way, where parity
  // hid every other label. A span inside one day, whose labels say no date, says it in its title.
  const extent = timeExtent([...shown.map((r) => r.t), ...changeRows.map((c) => c.t)]);
  const xDomain = instantDomain(extent, true);
  const xTitle = extent && extent[1] > extent[0] && withinOneDay(extent[0], extent[1]) ? `sweep start (UTC) · ${utcDateText(extent[0])}` : 'sweep start (UTC)';
  const drawing: ChartDrawing = {
    kind: 'lines',
    title,
    ...(subtitle ? { subtitle } : {}),
    width: WIDTH,
    height: 200,
    x: { title: xTitle, ticks: 'dated', labelSeparation: DATED_LABEL_SEPARATION, labelOverlap: 'greedy' },
    y: { title: withUnit(options.metric, display.label), ...(domain ? { domain } : {}), zero: false, padding: 8, integer: display.integer },
    lines: [...drawnLines.values()],
    symbols: shown.length <= 400,
    rules: changeRows.map((c) => ({ x: c.t, color: kindColor(c.kind), tip: c.change === undefined ? `${c.kind} (${c.label})` : `${c.kind} ${c.change} (${c.label})` })),
    legends: [
      ...(multi ? [legend.drawn] : []),
      // what a dashed rule is: right of a single line; above a chart of many lines, whose own legend takes the right or the bottom
      ...(kinds.length > 0 ? [{ title: 'detected', symbol: 'rule' as const, entries: kinds.map((k) => ({ label: k, color: kindColor(k) })), ...(multi ? { placement: 'top' as const } : {}) }] : []),
    ],
  };
  const x = {
    field: 't',
    type: 'temporal',
    scale: { type: 'utc', ...xDomain },
    title: xTitle,
    axis: { tickCount: { expr: datedTickCountExpr(WIDTH) }, labelSeparation: DATED_LABEL_SEPARATION, labelOverlap: 'greedy' },
  };
  const layers: VlSpec[] = [
    {
      mark: { type: 'line', point: shown.length <= 400, tooltip: true },
      params: [
        { name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' },
        ...(multi ? [{ name: 'pick', select: { type: 'point', fields: ['series'] }, bind: 'legend' }] : []),
      ],
      encoding: {
        x,
        // padded: a point at the top or bottom of the plot would be half clipped and hard to hover
        y: {
          field: 'value',
          type: 'quantitative',
          title: withUnit(options.metric, display.label),
          scale: domain ? { domain, nice: true, padding: 8 } : { zero: false, padding: 8 },
          axis: valueAxisLabels(display),
        },
        href: { field: 'href' },
        ...(multi
          ? {
              color: { field: 'series', type: 'nominal', title: seriesTitle, scale: { domain: [...colors.keys()], range: [...colors.values()] }, legend: legend.vega },
              opacity: { condition: { param: 'pick', value: 1 }, value: 0.15 },
            }
          : { color: { value: '#1f77b4' } }),
        tooltip: [
          { field: 'sweepId', type: 'nominal', title: 'sweep' },
          ...(builds ? [{ field: 'build', type: 'nominal', title: 'build' }] : []),
          { field: 'shown', type: 'nominal', title: 'value' },
          ...(multi ? [{ field: 'series', type: 'nominal', title: seriesTitle }] : []),
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
          // above a chart of many lines (their legend takes the right or the bottom), as the drawing puts it
          ...(multi ? { legend: { orient: 'top', direction: 'horizontal', titleOrient: 'left' } } : {}),
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
    title,
    note: shown.length < rows.length ? `${shown.length} of ${rows.length} points shown; the full history is in the downloads.` : undefined,
    spec: {
      ...BASE,
      height: 200,
      title: { text: title, subtitle },
      ...(multi && legend.params.length ? { params: legend.params } : {}),
      data: { values: shown },
      layer: layers,
      ...(multi && changeRows.length > 0 ? { resolve: { scale: { color: 'independent' } } } : {}),
    },
    rows,
    columns: ['series', 'at', 'value', 'sweepId', 'jobId', ...(builds ? ['build'] : [])],
    drawing,
  };
}

// ---- Layered charts: lines on one or two y axes, rules that mark values, shaded time bands ----

/** Plot size of a story chart: two fit side by side on the page, legend below. */
export const STORY_WIDTH = 430;
/** Narrower with a second y axis, so the chart still fits its half of the page (with grouped labels such as "40,000" on both axes). */
export const STORY_WIDTH_TWO_AXES = 375;
export const STORY_HEIGHT = 135;

export interface AxisSpec {
  /** Without its unit when `unit` is given ("latency"), with it otherwise ("flows/s"). */
  title: string;
  /**
   * The unit of the values given for this axis ("µs", "bytes", "pps", "%"): the axis then shows
   * them in the unit of that family that reads best for them (µs up to ms, bytes as MiB or GiB),
   * the title says which, and the tooltips format values the same way. Markers, levels and
   * `includes` are in this unit too.
   */
  unit?: string;
  scale?: 'linear' | 'log';
  /** d3 format of the axis labels (default: grouped plain numbers, ',~r'). */
  format?: string;
  /** Start the axis at zero (default true for linear scales). */
  zero?: boolean;
  /** Values the axis always shows, whatever the data (a loss axis: 0 to 1 %, even when nothing was lost). */
  includes?: readonly number[];
}

export interface XyPoint {
  x: number;
  y: number | null;
  /** One line of context for the tooltip ("step 5 · loss 6.2 %"). */
  detail?: string;
}

export interface XyLine {
  label: string;
  points: readonly XyPoint[];
  color: string;
  /** Which y axis (default left). */
  axis?: 'left' | 'right';
  dashed?: boolean;
}

/** A vertical rule at an x value (the NDR on a rate axis), labelled at the top of the plot. */
export interface ChartMarker {
  at: number;
  label: string;
  color: string;
}

/** A horizontal rule at a value of the left axis (a loss threshold). */
export interface ChartLevel {
  at: number;
  label: string;
  color: string;
}

const DASH = [6, 3];
const SOLID = [1, 0];

/**
 * The y scale of an axis. `includes` widens the domain to take those values (a loss axis reads 0 to
 * 1 % even when nothing was lost): with the data's own values known, as a fixed domain, because a
 * line drawn with points is two layers to Vega-Lite and two `unionWith` domains make it warn about
 * the conflict at every build.
 */
function yScale(axis: ResolvedAxis, values?: readonly number[]): Record<string, unknown> {
  const spec = axis.spec;
  const scale = spec.scale === 'log' ? { type: 'log' } : { zero: spec.zero ?? true };
  const includes = (spec.includes ?? []).map((v) => v * axis.display.factor);
  if (!includes.length) {
    const constant = spec.scale !== 'log' && values ? constantDomain(values) : undefined;
    return constant ? { ...scale, domain: constant, nice: true } : scale;
  }
  if (!values) return { ...scale, domain: { unionWith: includes } };
  const all = [...includes, ...values, ...(spec.scale !== 'log' && (spec.zero ?? true) ? [0] : [])];
  return { ...scale, domain: [Math.min(...all), Math.max(...all)], nice: true };
}

/** An axis with its unit settled for the values it shows. */
interface ResolvedAxis {
  spec: AxisSpec;
  /** With the display unit: "latency (ms)". */
  title: string;
  display: DisplayUnit;
  /** Vega-Lite `axis` properties of its labels. */
  labels: Record<string, unknown>;
}

const AS_GIVEN: DisplayUnit = { factor: 1, label: '', integer: false };

function resolveAxis(spec: AxisSpec, values: readonly number[]): ResolvedAxis {
  if (spec.unit === undefined) return { spec, title: spec.title, display: AS_GIVEN, labels: { format: spec.format ?? ',~r' } };
  const display = displayUnit(spec.unit, values);
  return { spec, title: withUnit(spec.title, display.label), display, labels: spec.format ? { format: spec.format } : valueAxisLabels(display) };
}

/** An axis for the site's SVG writer, from the Vega-Lite scale and labels the spec gives it. */
function drawnAxis(axis: ResolvedAxis, scale: Record<string, unknown>, extra: Partial<DrawnValueAxis> = {}): DrawnValueAxis {
  const domain = Array.isArray(scale['domain']) ? (scale['domain'] as [number, number]) : undefined;
  return {
    title: axis.title,
    ...(domain ? { domain } : {}),
    zero: scale['zero'] === true,
    padding: typeof scale['padding'] === 'number' ? scale['padding'] : 0,
    integer: axis.labels['tickMinStep'] === 1,
    ...(scale['type'] === 'log' ? { log: true } : {}),
    ...(typeof axis.labels['format'] === 'string' ? { format: axis.labels['format'] } : {}),
    ...extra,
  };
}

/** The legend of a story chart's lines, below the plot, as seriesEncodings lays it out. */
function seriesLegend(lines: readonly { label: string; color: string; dashed?: boolean }[]): DrawnLegend {
  return { title: null, symbol: 'stroke', placement: 'bottom', ...legendLayout(lines.map((l) => l.label)), entries: lines.map((l) => ({ label: l.label, color: l.color, ...(l.dashed ? { dashed: true } : {}) })) };
}

/** Room a story chart's legend has below the plot (px), so chart and legend fit half the page. */
export const LEGEND_BUDGET = 470;

/**
 * Width of a legend label as Vega estimates it where it cannot measure text - the build-time SVG:
 * 0.8 x the font size (11 px) a character. Browsers measure narrower, so what fits here fits there.
 */
const LABEL_CHAR_PX = 0.8 * 11;

/**
 * Columns for a legend below a plot: as many as fit `budget` pixels (each column as wide as its
 * widest entry, a label `charPx` a character), and the label limit that keeps even a single column
 * inside it. Long labels are cut with an ellipsis; tooltips keep them whole.
 */
export function legendLayout(labels: readonly string[], budget = LEGEND_BUDGET, charPx = LABEL_CHAR_PX): { columns: number; labelLimit: number } {
  const entry = (label: string) => 28 + charPx * label.length;
  for (let columns = Math.max(1, labels.length); columns > 1; columns--) {
    let width = (columns - 1) * 10;
    for (let c = 0; c < columns; c++) width += Math.max(0, ...labels.filter((_, i) => i % columns === c).map(entry));
    if (width <= budget) return { columns, labelLimit: Math.ceil(Math.max(...labels.map((l) => charPx * l.length))) + 12 };
  }
  return { columns: 1, labelLimit: budget - 28 };
}

function seriesEncodings(lines: readonly { label: string; color: string; dashed?: boolean }[]): Record<string, unknown> {
  const domain = lines.map((l) => l.label);
  const legend = { orient: 'bottom', direction: 'horizontal', title: null, ...legendLayout(domain), symbolType: 'stroke', symbolStrokeWidth: 2.5 };
  return {
    color: { field: 'series', type: 'nominal', sort: domain, scale: { domain, range: lines.map((l) => l.color) }, legend },
    strokeDash: { field: 'series', type: 'nominal', sort: domain, scale: { domain, range: lines.map((l) => (l.dashed ? DASH : SOLID)) }, legend },
  };
}

/** Rules for markers (vertical, labelled at the top, staggered so close ones do not overlap) and levels. */
function ruleLayers(markers: readonly ChartMarker[], levels: readonly ChartLevel[], x: { field: string; type: string }, xMax: number, xMin: number, width: number): Record<string, unknown>[] {
  const layers: Record<string, unknown>[] = [];
  markers.forEach((m, i) => {
    const right = m.at > xMin + (xMax - xMin) * 0.6;
    const row = { [x.field]: m.at, label: m.label };
    layers.push({
      data: { values: [row] },
      mark: { type: 'rule', color: m.color, strokeWidth: 1.5, strokeDash: [4, 3], tooltip: true },
      encoding: { x: { field: x.field, type: x.type }, tooltip: [{ field: 'label', type: 'nominal', title: 'marks' }] },
    });
    layers.push({
      data: { values: [row] },
      mark: { type: 'text', color: m.color, fontSize: 11, fontWeight: 600, baseline: 'top', align: right ? 'right' : 'left', dx: right ? -4 : 4, dy: 2 + i * 14 },
      encoding: { x: { field: x.field, type: x.type }, y: { value: 0 }, text: { field: 'label' } },
    });
  });
  for (const l of levels) {
    const row = { level: l.at, label: l.label };
    layers.push({
      data: { values: [row] },
      mark: { type: 'rule', color: l.color, strokeWidth: 1, strokeDash: [2, 2] },
      encoding: { y: { field: 'level', type: 'quantitative' } },
    });
    layers.push({
      data: { values: [row] },
      mark: { type: 'text', color: l.color, fontSize: 10, align: 'right', baseline: 'bottom', dy: -2 },
      encoding: { y: { field: 'level', type: 'quantitative' }, x: { value: width - 2 }, text: { field: 'label' } },
    });
  }
  return layers;
}

/**
 * Lines over a quantitative x (a rate, a burst number): up to two y axes (independent scales,
 * one legend), vertical markers and horizontal levels on the left axis. Undefined when there is
 * nothing to draw.
 */
export function xyChart(options: {
  id: string;
  title: string;
  subtitle?: string;
  note?: string;
  x: AxisSpec;
  y: AxisSpec;
  y2?: AxisSpec;
  lines: readonly XyLine[];
  markers?: readonly ChartMarker[];
  levels?: readonly ChartLevel[];
  placement?: 'story';
}): ChartSpec | undefined {
  const lines = options.lines.filter((l) => l.points.some((p) => p.y !== null && Number.isFinite(p.y)));
  if (lines.length === 0) return undefined;
  const measured = (l: XyLine) => l.points.filter((p): p is XyPoint & { y: number } => p.y !== null && Number.isFinite(p.y));
  const rows = lines.flatMap((l) => measured(l).map((p) => ({ series: l.label, x: p.x, y: p.y, detail: p.detail ?? '' })));
  const left = lines.filter((l) => l.axis !== 'right');
  const right = options.y2 ? lines.filter((l) => l.axis === 'right') : [];
  const xAxis = resolveAxis(options.x, [...rows.map((r) => r.x), ...(options.markers ?? []).map((m) => m.at)]);
  const yAxis = resolveAxis(options.y, left.flatMap((l) => measured(l).map((p) => p.y)));
  const y2Axis = options.y2 ? resolveAxis(options.y2, right.flatMap((l) => measured(l).map((p) => p.y))) : undefined;
  // what is drawn, once per line for the spec and the drawing alike: in the axes' display units,
  // with the values as the tooltips show them
  const shownOf = new Map(
    lines.map((l) => {
      const axis = right.includes(l) ? y2Axis! : yAxis;
      const shown = measured(l).map((p) => ({
        series: l.label,
        x: p.x * xAxis.display.factor,
        y: p.y * axis.display.factor,
        xShown: formatIn(p.x, xAxis.display),
        yShown: formatIn(p.y, axis.display),
        detail: p.detail ?? '',
      }));
      return [l, shown] as const;
    }),
  );
  const shownRows = (axisLines: readonly XyLine[]) => axisLines.flatMap((l) => shownOf.get(l)!);
  // each axis' scale, for the spec's layer and the drawing's axis alike
  const leftScale = left.length ? yScale(yAxis, shownRows(left).map((r) => r.y)) : undefined;
  const rightScale = right.length ? yScale(y2Axis!, shownRows(right).map((r) => r.y)) : undefined;
  const xs = rows.map((r) => r.x * xAxis.display.factor);
  const markers = (options.markers ?? []).map((m) => ({ ...m, at: m.at * xAxis.display.factor }));
  const levels = (options.levels ?? []).map((l) => ({ ...l, at: l.at * yAxis.display.factor }));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, ...markers.map((m) => m.at));
  // padded, so the points at either end are drawn whole
  const x = { field: 'x', type: 'quantitative', title: xAxis.title, scale: { ...(options.x.scale === 'log' ? { type: 'log' } : { zero: options.x.zero ?? false }), padding: 8 }, axis: { ...xAxis.labels, tickCount: 8 } };
  const series = seriesEncodings(lines);
  const tooltip = [
    { field: 'series', type: 'nominal', title: 'series' },
    { field: 'xShown', type: 'nominal', title: options.x.title },
    { field: 'yShown', type: 'nominal', title: 'value' },
    ...(rows.some((r) => r.detail) ? [{ field: 'detail', type: 'nominal', title: 'step' }] : []),
  ];
  const lineLayer = (axisLines: readonly XyLine[], axis: ResolvedAxis, scale: Record<string, unknown>, zoom: boolean) => {
    return {
      data: { values: shownRows(axisLines) },
      mark: { type: 'line', point: { size: 30, filled: true }, strokeWidth: 2, tooltip: true },
      ...(zoom ? { params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }] } : {}),
      encoding: {
        x,
        y: { field: 'y', type: 'quantitative', title: axis.title, scale, axis: axis.labels },
        ...series,
        tooltip,
      },
    };
  };
  const width = right.length ? STORY_WIDTH_TWO_AXES : STORY_WIDTH;
  const drawnLinesOf = (axisLines: readonly XyLine[], side: 'left' | 'right'): DrawnLine[] =>
    axisLines.map((l) => {
      const shown = shownOf.get(l)!;
      return {
        label: l.label,
        color: l.color,
        points: shown.map((r) => [r.x, r.y] as [number, number]),
        tips: shown.map((r) => `${l.label}: ${r.xShown} · ${r.yShown}${r.detail ? ` · ${r.detail}` : ''}`),
        ...(side === 'right' ? { axis: 'right' as const } : {}),
        ...(l.dashed ? { dashed: true } : {}),
      };
    });
  const drawing: ChartDrawing = {
    kind: 'lines',
    title: options.title,
    ...(options.subtitle ? { subtitle: options.subtitle } : {}),
    width,
    height: STORY_HEIGHT,
    x: { scale: 'value', ...drawnAxis(xAxis, x.scale, { tickCount: 8, zero: options.x.scale !== 'log' && (options.x.zero ?? false), padding: 8 }) },
    y: drawnAxis(yAxis, leftScale ?? { zero: true }),
    ...(rightScale ? { y2: drawnAxis(y2Axis!, rightScale) } : {}),
    lines: [...drawnLinesOf(left, 'left'), ...drawnLinesOf(right, 'right')],
    symbols: true,
    rules: markers.map((m) => ({ x: m.at, color: m.color, tip: m.label, label: m.label, dash: '4,3', strokeWidth: 1.5 })),
    levels: left.length ? levels.map((l) => ({ y: l.at, color: l.color, label: l.label })) : [],
    legends: [seriesLegend(lines)],
  };
  const leftGroup = [
    ...(leftScale ? [lineLayer(left, yAxis, leftScale, true)] : []),
    ...ruleLayers(markers, left.length ? levels : [], x, xMax, xMin, width),
  ];
  const layer = right.length ? [{ layer: leftGroup }, lineLayer(right, y2Axis!, rightScale!, !left.length)] : leftGroup;
  return {
    id: options.id,
    title: options.title,
    ...(options.note ? { note: options.note } : {}),
    ...(options.placement ? { placement: options.placement } : {}),
    drawing,
    spec: {
      ...BASE,
      width,
      height: STORY_HEIGHT,
      title: { text: options.title, ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
      layer,
      ...(right.length ? { resolve: { scale: { y: 'independent' } } } : {}),
    },
    rows,
    columns: ['series', 'x', 'y', 'detail'],
  };
}

export interface TimeLine {
  label: string;
  points: readonly Point[];
  color: string;
  axis?: 'left' | 'right';
  dashed?: boolean;
  /** Drawn as an area stacked on the other area lines of its axis (heap pools). */
  stacked?: boolean;
}

/** A span of time shaded behind the lines (a phase of the job). Unix seconds. */
export interface TimeBand {
  label: string;
  start: number;
  end: number;
  /** The band's fill (the scenario names its phases' colours; one per label, the first band's); grey without. */
  color?: string;
}

const BAND_GREY = '#e0e0e0';
/** Least room between a story chart's time labels (px), in its spec and its drawing: a half-page plot keeps them well apart. */
const BANDS_LABEL_SEPARATION = 8;

/**
 * Lines (and stacked areas) over time, on up to two y axes, with shaded bands behind them (the
 * job's phases) and a legend for each. Long series are downsampled for display (min/max per
 * bucket; stacked ones by mean, so they stay aligned); the full series is in the downloads.
 */
export function timeBandsChart(options: {
  id: string;
  title: string;
  subtitle?: string;
  note?: string;
  y: AxisSpec;
  y2?: AxisSpec;
  lines: readonly TimeLine[];
  bands: readonly TimeBand[];
  placement?: 'story';
}): ChartSpec | undefined {
  const lines = options.lines.filter((l) => l.points.some(([, v]) => v !== null && Number.isFinite(v)));
  if (lines.length === 0) return undefined;
  const rows: Record<string, unknown>[] = [];
  let total = 0;
  let kept = 0;
  const perSeries = Math.max(60, Math.floor(DISPLAY_POINTS / lines.length));
  const left = lines.filter((l) => l.axis !== 'right');
  const right = options.y2 ? lines.filter((l) => l.axis === 'right') : [];
  const valuesOf = (axisLines: readonly TimeLine[]) => finiteValues(axisLines.flatMap((l) => l.points.map(([, v]) => v)));
  const yAxis = resolveAxis(options.y, valuesOf(left));
  const y2Axis = options.y2 ? resolveAxis(options.y2, valuesOf(right)) : undefined;
  const shownOf = new Map<TimeLine, Record<string, unknown>[]>();
  const iso = isoTimes();
  for (const l of lines) {
    const display = (right.includes(l) ? y2Axis! : yAxis).display;
    for (const [t, v] of l.points) rows.push({ series: l.label, t: iso(t), value: v });
    const small = l.stacked ? downsampleMean(l.points, perSeries) : downsampleMinMax(l.points, perSeries);
    total += l.points.length;
    kept += small.length;
    shownOf.set(
      l,
      small.map(([t, v]) => ({ series: l.label, t: t * 1000, time: iso(t), value: scaleBy(v, display.factor), shown: formatIn(v, display) })),
    );
  }
  const x = { field: 't', type: 'temporal', scale: { type: 'utc' }, title: 'time (UTC)', axis: { format: '%H:%M:%S', labelOverlap: true, labelSeparation: BANDS_LABEL_SEPARATION, ...WHOLE_SECONDS } };
  const series = seriesEncodings(lines);
  const tooltip = [
    { field: 'series', type: 'nominal', title: 'series' },
    { field: 'time', type: 'nominal', title: 'time (UTC)' },
    { field: 'shown', type: 'nominal', title: 'value' },
  ];
  // each axis' scale, for the spec's layers and the drawing's axis alike; stacked areas reach higher
  // than any one line: no constant-domain guess for them
  const axisScale = (axisLines: readonly TimeLine[], axis: ResolvedAxis) =>
    yScale(
      axis,
      axisLines.some((l) => l.stacked) ? undefined : axisLines.flatMap((l) => shownOf.get(l)!.map((r) => r['value'] as number | null)).filter((v): v is number => v !== null),
    );
  const leftScale = axisScale(left, yAxis);
  const rightScale = right.length ? axisScale(right, y2Axis!) : undefined;
  let zoomed = false;
  const axisLayers = (axisLines: readonly TimeLine[], axis: ResolvedAxis, scale: Record<string, unknown>): Record<string, unknown>[] => {
    const stacked = axisLines.filter((l) => l.stacked);
    const plain = axisLines.filter((l) => !l.stacked);
    const y = { field: 'value', type: 'quantitative', title: axis.title, scale, axis: axis.labels };
    const out: Record<string, unknown>[] = [];
    const zoom = () => {
      if (zoomed) return {};
      zoomed = true;
      return { params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }] };
    };
    if (stacked.length) {
      const order = stacked.map((l) => l.label);
      out.push({
        data: { values: stacked.flatMap((l) => shownOf.get(l)!.map((r) => ({ ...r, order: order.indexOf(l.label) }))) },
        mark: { type: 'area', opacity: 0.85, line: { strokeWidth: 0.8 }, tooltip: true },
        ...zoom(),
        encoding: { x, y: { ...y, stack: 'zero' }, color: series['color'], order: { field: 'order', type: 'quantitative' }, tooltip },
      });
    }
    if (plain.length) {
      out.push({
        data: { values: plain.flatMap((l) => shownOf.get(l)!) },
        mark: { type: 'line', strokeWidth: 1.8, tooltip: true },
        ...zoom(),
        encoding: { x, y: stacked.length ? { ...y, stack: null } : y, ...series, tooltip },
      });
    }
    return out;
  };
  const bandRows = options.bands
    .filter((b) => b.end > b.start)
    .map((b) => ({ phase: b.label, t: b.start * 1000, t2: b.end * 1000, from: new Date(b.start * 1000).toISOString(), to: new Date(b.end * 1000).toISOString() }));
  const bandColors = new Map<string, string>();
  for (const b of options.bands) if (b.end > b.start && !bandColors.has(b.label)) bandColors.set(b.label, b.color ?? BAND_GREY);
  const bandNames = [...bandColors.keys()];
  const bands = bandRows.length
    ? [
        {
          data: { values: bandRows },
          mark: { type: 'rect', opacity: 0.55, tooltip: true },
          encoding: {
            x: { field: 't', type: 'temporal', scale: { type: 'utc' } },
            x2: { field: 't2' },
            fill: {
              field: 'phase',
              type: 'nominal',
              sort: bandNames,
              scale: { domain: bandNames, range: bandNames.map((n) => bandColors.get(n)!) },
              // above the plot, one line: the series' legend is below it
              legend: { orient: 'top', direction: 'horizontal', title: 'phase', titleOrient: 'left', symbolType: 'square', labelLimit: 160, padding: 0, offset: 4 },
            },
            tooltip: [
              { field: 'phase', type: 'nominal', title: 'phase' },
              { field: 'from', type: 'nominal', title: 'from (UTC)' },
              { field: 'to', type: 'nominal', title: 'to (UTC)' },
            ],
          },
        },
      ]
    : [];
  const drawnOf = (axisLines: readonly TimeLine[], axis: ResolvedAxis, scale: Record<string, unknown>, side: 'left' | 'right'): { lines: DrawnLine[]; scale: DrawnValueAxis } => {
    const stacked = axisLines.filter((l) => l.stacked);
    const plain = axisLines.filter((l) => !l.stacked);
    const lineOf = (l: TimeLine): DrawnLine => ({
      label: l.label,
      color: l.color,
      points: shownOf.get(l)!.map((r) => [r['t'] as number, r['value'] as number | null]),
      ...(side === 'right' ? { axis: 'right' as const } : {}),
      ...(l.dashed ? { dashed: true } : {}),
      ...(l.stacked ? { stacked: true } : { strokeWidth: 1.8 }),
    });
    return { lines: [...stacked.map(lineOf), ...plain.map(lineOf)], scale: drawnAxis(axis, scale) };
  };
  const drawnLeft = drawnOf(left, yAxis, leftScale, 'left');
  const drawnRight = rightScale ? drawnOf(right, y2Axis!, rightScale, 'right') : undefined;
  const drawing: ChartDrawing = {
    kind: 'lines',
    title: options.title,
    ...(options.subtitle ? { subtitle: options.subtitle } : {}),
    width: right.length ? STORY_WIDTH_TWO_AXES : STORY_WIDTH,
    height: STORY_HEIGHT,
    x: { title: 'time (UTC)', format: '%H:%M:%S', labelSeparation: BANDS_LABEL_SEPARATION },
    y: drawnLeft.scale,
    ...(drawnRight ? { y2: drawnRight.scale } : {}),
    lines: [...drawnLeft.lines, ...(drawnRight?.lines ?? [])],
    symbols: false,
    rules: [],
    bands: bandRows.map((b) => ({ start: b.t, end: b.t2, color: bandColors.get(b.phase)!, tip: `${b.phase}: ${b.from} to ${b.to}` })),
    legends: [
      ...(bandNames.length ? [{ title: 'phase', symbol: 'square' as const, placement: 'top' as const, labelLimit: 160, entries: bandNames.map((name) => ({ label: name, color: bandColors.get(name)! })) }] : []),
      seriesLegend(lines),
    ],
  };
  const leftLayers = [...bands, ...(left.length ? axisLayers(left, yAxis, leftScale) : [])];
  const layer = rightScale ? [{ layer: leftLayers }, ...axisLayers(right, y2Axis!, rightScale)] : leftLayers;
  const downsampled = kept < total ? `${kept.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} points shown; the full series are in the downloads.` : undefined;
  const note = [options.note, downsampled].filter(Boolean).join(' ') || undefined;
  return {
    id: options.id,
    title: options.title,
    ...(note ? { note } : {}),
    ...(options.placement ? { placement: options.placement } : {}),
    drawing,
    spec: {
      ...BASE,
      width: right.length ? STORY_WIDTH_TWO_AXES : STORY_WIDTH,
      height: STORY_HEIGHT,
      title: { text: options.title, ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
      layer,
      ...(right.length ? { resolve: { scale: { y: 'independent' } } } : {}),
    },
    rows,
    columns: ['series', 't', 'value'],
  };
}
