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
  x: { title: string; format: string };
  rows: { label: string; start: number; end: number; color: string; tip: string }[];
  legends: DrawnLegend[];
  /** Longest a row label may be drawn (px) before it is cut with an ellipsis. */
  labelLimit: number;
}

export type ChartDrawing = LinesDrawing | TimelineDrawing;

/** Vega-Lite's default categorical colours (tableau10), in the order it gives them to a sorted domain. */
export const CATEGORY_COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'] as const;
