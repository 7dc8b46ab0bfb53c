// What the site's own SVG writer draws (svg-chart/draw.ts): a chart as plain data, made by the
// chart builders in charts.ts beside the Vega-Lite spec of the same chart, and drawn in a render
// worker without Vega (so it survives a structured clone: no functions, no classes). The
// Vega-Lite spec stays what the browser draws interactively; this is the pre-rendered view a page
// shows first and without JavaScript: the same axes, titles, legend, lines, points and rules.

/** A linear (or log) value axis. */
export interface DrawnValueAxis {
  title: string;
  /** A fixed domain (a constant series is drawn against zero; a loss axis 0 to 1 %); niced. */
  domain?: [number, number];
  /** Whether the domain reaches zero (without a fixed domain). */
  zero: boolean;
  /** Pixels kept free at either end of the plot, so points at the ends are drawn whole. */
  padding: number;
  /** Only whole-number ticks (counts). */
  integer: boolean;
  log?: boolean;
  /** d3 format of the tick labels (default grouped plain numbers, ",~r"). */
  format?: string;
  /** Ticks wanted (default one per 40 px). */
  tickCount?: number;
}

/**
 * Lines (and stacked areas) on one or two y axes over time (UTC, ms since the epoch) or over a
 * value (a rate): trend charts, job series, the story charts. Bands are shaded spans of x behind
 * the lines, markers labelled vertical rules, levels labelled horizontal rules on the left axis.
 */
export interface LinesDrawing {
  kind: 'lines';
  title: string;
  subtitle?: string;
  /** Plot size in px (axes, titles and legends are outside it). */
  width: number;
  height: number;
  x:
    | {
        scale?: 'time';
        title: string;
        /** d3 UTC time format of the tick labels; Vega's multi-scale format ("Nov 02", "Mon 03", "02 AM") when absent. */
        format?: string;
        /** Least room between tick labels (px), as the spec's axis labelSeparation; Vega's 0 when absent. */
        labelSeparation?: number;
        /** How labels that overlap are hidden, as the spec's axis labelOverlap; Vega-Lite's "parity" (true) when absent. */
        labelOverlap?: 'parity' | 'greedy';
        /**
         * 'dated': ticks as datedTickCount chooses them for the axis' span and width (the spec's
         * tickCount is datedTickCountExpr); Vega's default (a tick per 40 px) when absent.
         */
        ticks?: 'dated';
      }
    | ({ scale: 'value' } & DrawnValueAxis);
  y: DrawnValueAxis;
  /** The right axis, for lines with axis 'right'. */
  y2?: DrawnValueAxis;
  lines: DrawnLine[];
  /** A symbol per point (short series), each a link when the point has an href. */
  symbols: boolean;
  /** Vertical rules across the plot (detected changes, markers such as the NDR). */
  rules: DrawnRule[];
  /** Horizontal rules at values of the left axis (a loss threshold). */
  levels?: { y: number; color: string; label: string }[];
  /** Spans of x shaded behind the lines (a job's phases). */
  bands?: { start: number; end: number; color: string; tip: string }[];
  /** Legends, in order: right of the plot unless placed above or below it. */
  legends: DrawnLegend[];
}

export interface DrawnLine {
  label: string;
  color: string;
  /** [x (ms since the epoch, or a value), y in its axis' display unit]; a null y breaks the line. */
  points: [number, number | null][];
  /** Per point (same order as points), optional: the page a point's symbol links to. */
  hrefs?: string[];
  /** Per point, optional: the symbol's hover text. */
  tips?: string[];
  axis?: 'left' | 'right';
  dashed?: boolean;
  strokeWidth?: number;
  /** This line's points get symbols whatever the drawing's `symbols` says. */
  symbols?: boolean;
  /** An area stacked on the stacked lines before it (same x values), drawn under the plain lines. */
  stacked?: boolean;
}

export interface DrawnRule {
  x: number;
  color: string;
  tip: string;
  /** Written at the top of the plot beside the rule (markers). */
  label?: string;
  dash?: string;
  strokeWidth?: number;
}

export interface DrawnLegend {
  title: string | null;
  /** 'stroke' (a short line: series), 'square' (a filled box: bars, statuses, phases) or 'rule' (a dashed line). */
  symbol: 'stroke' | 'square' | 'rule';
  entries: { label: string; color: string; dashed?: boolean }[];
  /** Default 'right'; 'bottom' lays entries out in `columns`, 'top' in one row. */
  placement?: 'right' | 'bottom' | 'top';
  columns?: number;
  /** Longest a label may be drawn (px). */
  labelLimit?: number;
}

/** Bars along time, one row each (a job's phases), coloured by status. */
export interface TimelineDrawing {
  kind: 'timeline';
  title: string;
  width: number;
  /** Height of one row in px. */
  step: number;
  x: { title: string; format: string; labelSeparation?: number };
  rows: { label: string; start: number; end: number; color: string; tip: string }[];
  legends: DrawnLegend[];
  /** Longest a row label may be drawn (px) before it is cut with an ellipsis. */
  labelLimit: number;
}

export type ChartDrawing = LinesDrawing | TimelineDrawing;

/**
 * Categorical colours for a chart's lines, given to its sorted labels in this order (the spec says
 * them too, as its scale's range): Vega-Lite's tableau10 for the first ten, then ten more from
 * tableau20, each a lighter or darker partner of one of the first ten, so a midolman chart's 20
 * per-step lines never share a colour (tableau10 alone gave lines 1 and 11 the same blue).
 */
export const CATEGORY_COLORS = [
  '#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac',
  '#9ecae9', '#ffbf79', '#ff9d98', '#439894', '#88d27a', '#b79a20', '#d6a5c9', '#d67195', '#d8b5a5', '#79706e',
] as const;

const DAY = 86_400_000;

/**
 * The span of time a time axis draws over the data's extent `lo` to `hi` (ms since the epoch), as
 * the chart's spec gives Vega: the extent itself; one instant, its whole UTC day when the axis'
 * labels say the date (Vega's multi-scale format; a trend of one sweep), else an hour either side
 * (a job's HH:MM:SS). Vega would draw one instant as a lone label in the middle (":13").
 */
export function timeDomain(lo: number, hi: number, dated: boolean): [number, number] {
  if (hi > lo) return [lo, hi];
  if (!dated) return [lo - DAY / 24, hi + DAY / 24];
  const day = Math.floor(lo / DAY) * DAY;
  return [day, day + DAY];
}

/** Whether no UTC midnight lies within lo to hi: a dated time axis over that span labels no day, and its title says the date. */
export function withinOneDay(lo: number, hi: number): boolean {
  return Math.ceil(lo / DAY) * DAY > hi;
}

/**
 * A time interval Vega (and d3) tick a UTC scale at: { interval: 'hours', step: 6 } ticks 00, 06, 12
 * and 18 o'clock. The names are vega-time's units, which Vega's tickCount looks up: the singular
 * 'hour', 'minute' and 'second' that Vega-Lite's schema documents name no interval there, and the
 * chart fails to draw.
 */
export interface TimeTickInterval {
  interval: 'seconds' | 'minutes' | 'hours' | 'day';
  step: number;
}

/** d3's tick intervals (d3-time's ticker) shorter than a day, and the day, finest first, with their length in ms. */
const TICK_INTERVALS: readonly (TimeTickInterval & { ms: number })[] = [
  ...[1, 5, 15, 30].map((step) => ({ interval: 'seconds' as const, step, ms: step * 1000 })),
  ...[1, 5, 15, 30].map((step) => ({ interval: 'minutes' as const, step, ms: step * 60_000 })),
  ...[1, 3, 6, 12].map((step) => ({ interval: 'hours' as const, step, ms: step * 3_600_000 })),
  { interval: 'day', step: 1, ms: DAY },
];

/**
 * Least room (px) between the ticks of a dated time axis while they are a day apart or less: room
 * enough that no two neighbouring labels overlap, so none is hidden. Hiding is what lost the
 * dates: Vega's default (parity) hides every other label, keeping the first one's half, and over
 * hours that hides every midnight whenever they fall on odd ticks (six-hour ticks from 06 AM over
 * 6 days read "06 AM 06 PM 06 AM ...", no day at all). The widest neighbours are a month's first
 * day and the next, "September" (61 px at 11 px in DejaVu Sans, the writer's labelWidth) and
 * "Wed 02" (42 px): 52 px centre to centre, plus DATED_LABEL_SEPARATION. Only a label flush at an
 * end of the axis (a point exactly on a tick there) can still overlap its neighbour; the axis'
 * labelOverlap "greedy" then hides that neighbour alone.
 */
export const DATED_TICK_SPACING = 57;
/** The least room between a dated time axis' labels (px, the spec's labelSeparation): they never touch ("06 PMMon 05"). */
export const DATED_LABEL_SEPARATION = 5;

/**
 * The ticks of a dated time axis (Vega's multi-scale labels: "06 AM", "Fri 02", "November") over
 * `span` ms drawn across `width` px: the finest of d3's intervals up to a day whose ticks are
 * DATED_TICK_SPACING apart or more; past a day (where every label carries the date), and under a
 * second, Vega's default count (a tick per 40 px). Never finer than Vega's default choice, which
 * picks the interval nearest a tick per 40 px. Vega evaluates the same rule as the axis'
 * tickCount (datedTickCountExpr) on the domain it shows, zoomed or not.
 */
export function datedTickCount(span: number, width: number): TimeTickInterval | number {
  const count = Math.ceil(width / 40);
  if (span < (1000 * width) / DATED_TICK_SPACING) return count;
  for (const t of TICK_INTERVALS) if (span <= (t.ms * width) / DATED_TICK_SPACING) return { interval: t.interval, step: t.step };
  return count;
}

/** datedTickCount as a Vega expression of the x scale's current domain (the same bounds, as numbers), for the axis' tickCount ({ expr }). */
export function datedTickCountExpr(width: number): string {
  const span = "span(domain('x'))";
  const count = String(Math.ceil(width / 40));
  let expr = count;
  for (let i = TICK_INTERVALS.length - 1; i >= 0; i--) {
    const t = TICK_INTERVALS[i]!;
    expr = `${span} <= ${(t.ms * width) / DATED_TICK_SPACING} ? {interval: '${t.interval}', step: ${t.step}} : ${expr}`;
  }
  return `${span} < ${(1000 * width) / DATED_TICK_SPACING} ? ${count} : ${expr}`;
}
