// The site's own SVG writer for the charts a build draws most (trend lines, job series, phase
// timelines): the same axes (ticks, tick labels, titles, grid), legends, lines, points and rules
// as Vega draws from the chart's Vega-Lite spec, written straight from the numbers. Drawing one
// takes about a millisecond where Vega's dataflow took tens (report-site/README.md); the browser
// still draws the interactive chart from the spec. Ticks, nice domains and tick labels come from the same d3
// scales Vega uses (vega-scale's `scale` and vega-format's default time locale: the very functions
// vega re-exports, without loading the rest of Vega, which a render worker needs only for the
// charts this writer does not draw), so the axes read as Vega's do. All host text is
// escaped; nothing here has an id, so any number of charts can share a page. Marks are grouped
// as Vega groups them (g.mark-line, g.mark-symbol, g.mark-area, g.mark-rect, g.mark-rule).
import { timeFormatDefaultLocale } from 'vega-format';
import { scale as vegaScale, tickCount } from 'vega-scale';
import { datedTickCount, timeDomain, type ChartDrawing, type DrawnLegend, type DrawnLine, type DrawnValueAxis, type LinesDrawing, type TimelineDrawing } from './drawing.js';

declare module 'vega-scale' {
  /** What a scale's ticks are asked for, as Vega's axes resolve a tickCount: a number as it is, an interval name or { interval, step } as d3's interval (vega-scale's typings lack it). */
  export function tickCount(scale: unknown, count: unknown, minStep?: number): unknown;
}

const FONT = 'system-ui, -apple-system, &quot;Segoe UI&quot;, Roboto, sans-serif';
const PAD = 5;
const AXIS = '#888';
const GRID = '#e6e8eb';
const LABEL_SIZE = 11;
const TITLE_SIZE = 12;
/** Width of a character as drawn (px per px of font size), for layout: wide enough for digits and most text. */
const CHAR = 0.62;
const LEGEND_GAP = 18;
const LEGEND_ROW = 16;
const LEGEND_LABEL_LIMIT = 260;
const SYMBOL_RADIUS = 2.739;
/** A point's symbol (Vega's circle of size 23.6), centred on 0,0. */
const CIRCLE = `M${SYMBOL_RADIUS},0A${SYMBOL_RADIUS},${SYMBOL_RADIUS},0,1,1,-${SYMBOL_RADIUS},0A${SYMBOL_RADIUS},${SYMBOL_RADIUS},0,1,1,${SYMBOL_RADIUS},0`;
const DAY = 86_400_000;

interface LinearScale {
  domain(): number[];
  domain(d: number[]): LinearScale;
  range(r: number[]): LinearScale;
  nice(count?: number): LinearScale;
  ticks(count: number): number[];
  tickFormat(count: number, specifier?: string): (n: number) => string;
  (v: number): number;
}
interface TimeScale {
  domain(d: number[]): TimeScale;
  range(r: number[]): TimeScale;
  /** A count, or a d3 time interval (tickCount's). */
  ticks(count: unknown): Date[];
  tickFormat(): (d: Date) => string;
  (v: number): number;
}

// vega's default (en-US) time locale (vega exports it as timeFormatLocale): called without a definition, as Vega's own axes use it
const utc = (timeFormatDefaultLocale as unknown as () => { utcFormat: (specifier: string) => (d: Date) => string })().utcFormat;
const formats = new Map<string, (d: Date) => string>();
function timeLabel(format: string): (d: Date) => string {
  let f = formats.get(format);
  if (!f) formats.set(format, (f = utc(format)));
  return f;
}

const MARKUP = /[&<>"']/;

/** Text as XML text or an attribute value; text without markup characters (nearly all: every point's link and tip) as it is, without a replace. */
function escapeXml(text: string): string {
  if (!MARKUP.test(text)) return text;
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/**
 * A coordinate with at most two decimals (enough for a screen, and short): the text of
 * `Math.round(v * 100) / 100`, written from the whole hundredths as integers (a float's shortest
 * text is the slow part of number text; a trends page writes hundreds of thousands). Up to 15
 * digits every such number's shortest text is exactly these digits; past that, and for NaN and
 * the infinities, it is the float's own text.
 */
export function coordinateText(v: number): string {
  const r = Math.round(v * 100);
  if (r % 100 === 0 || !(Math.abs(r) < 1e15)) return String(r / 100);
  const a = r < 0 ? -r : r;
  const whole = Math.floor(a / 100);
  const cents = a - whole * 100;
  const fraction = cents % 10 === 0 ? String(cents / 10) : cents < 10 ? `0${cents}` : String(cents);
  return `${r < 0 ? '-' : ''}${whole}.${fraction}`;
}
const n = coordinateText;

function textWidth(text: string, size: number): number {
  return text.length * size * CHAR;
}

/** The text cut to `limit` px with an ellipsis, as Vega's labelLimit does. */
function fit(text: string, size: number, limit: number): string {
  if (textWidth(text, size) <= limit) return text;
  const chars = Math.max(1, Math.floor(limit / (size * CHAR)) - 1);
  return `${text.slice(0, chars)}…`;
}

function text(x: number, y: number, content: string, attrs: { size?: number; anchor?: 'start' | 'middle' | 'end'; bold?: boolean; fill?: string; rotate?: boolean } = {}): string {
  const transform = attrs.rotate ? `translate(${n(x)},${n(y)}) rotate(-90)` : `translate(${n(x)},${n(y)})`;
  return `<text text-anchor="${attrs.anchor ?? 'start'}" transform="${transform}" font-family="${FONT}" font-size="${attrs.size ?? LABEL_SIZE}px"${attrs.bold ? ' font-weight="bold"' : ''} fill="${attrs.fill ?? '#000'}">${escapeXml(content)}</text>`;
}

/**
 * Advance widths (em) of the printable ASCII characters in DejaVu Sans, as Chromium measures them
 * for the charts' font stack where system-ui is DejaVu Sans (a Linux desktop, the headless
 * browser): the widest face the stack usually meets (Segoe UI, Roboto and San Francisco are
 * narrower), so tick labels measured with it never touch where the reader's font is another.
 */
const ADVANCES: readonly [number, string][] = [
  [0.27, "'"],
  [0.28, 'ijl'],
  [0.29, 'IJ'],
  [0.32, ' ,.'],
  [0.34, '/:;\\|'],
  [0.35, 'f'],
  [0.36, '-'],
  [0.39, '()[]t'],
  [0.4, '!'],
  [0.41, 'r'],
  [0.46, '"'],
  [0.5, '*_`'],
  [0.52, 'sz'],
  [0.53, '?'],
  [0.55, 'c'],
  [0.56, 'L'],
  [0.58, 'Fk'],
  [0.59, 'vxy'],
  [0.6, 'P'],
  [0.61, 'TYao'],
  [0.62, 'e'],
  [0.63, 'ESbdghnpqu'],
  [0.64, '0123456789${}'],
  [0.66, 'K'],
  [0.68, 'AV'],
  [0.69, 'BRXZ'],
  [0.7, 'C'],
  [0.73, 'U'],
  [0.75, 'HN'],
  [0.77, 'DG'],
  [0.78, '&'],
  [0.79, 'OQ'],
  [0.82, 'w'],
  [0.84, '#+<=>^~'],
  [0.86, 'M'],
  [0.95, '%'],
  [0.97, 'm'],
  [0.99, 'W'],
  [1, '@'],
];
const ADVANCE = new Map(ADVANCES.flatMap(([em, chars]) => [...chars].map((c) => [c, em] as const)));

/** How wide a tick label is drawn (px at LABEL_SIZE): its characters' advances; CHAR for a character not in the table. */
export function labelWidth(label: string): number {
  let em = 0;
  for (const c of label) em += ADVANCE.get(c) ?? CHAR;
  return em * LABEL_SIZE;
}

/** A tick label as placed: its tick's position and its text's extent along the axis (x1 to x2). */
interface PlacedLabel {
  at: number;
  label: string;
  anchor: 'start' | 'middle' | 'end';
  x1: number;
  x2: number;
}

/**
 * A label placed at `at`, anchored as Vega's labelFlush anchors it: inwards when its tick is within
 * a pixel of the axis' start or end (so it stays over the plot), else centred on its tick.
 */
function placeLabel(at: number, label: string, width: number, range: [number, number]): PlacedLabel {
  const fromLo = Math.abs(at - range[0]);
  const fromHi = Math.abs(range[1] - at);
  if (fromLo < fromHi && fromLo <= 1) return { at, label, anchor: 'start', x1: at, x2: at + width };
  if (fromHi <= 1) return { at, label, anchor: 'end', x1: at - width, x2: at };
  return { at, label, anchor: 'middle', x1: at - width / 2, x2: at + width / 2 };
}

/** Whether consecutive labels come closer than `separation` px (Vega's overlap test). */
function overlapping(labels: readonly PlacedLabel[], separation: number): boolean {
  for (let i = 1; i < labels.length; i++) if (labels[i]!.x1 - labels[i - 1]!.x2 < separation) return true;
  return false;
}

/**
 * The tick labels drawn, as Vega's labelOverlap resolves overlaps: while three or more are left
 * and two neighbours come closer than `separation`, "parity" hides every other one (the first
 * one's half stays), "greedy" hides each label too close to the last one kept (in one pass); if
 * fewer than three are left and the last label went, it is shown in place of the last one kept.
 */
function withoutOverlap(labels: readonly PlacedLabel[], separation: number, method: 'parity' | 'greedy'): readonly PlacedLabel[] {
  let kept = labels;
  while (kept.length >= 3 && overlapping(kept, separation)) {
    if (method === 'parity') kept = kept.filter((_, i) => i % 2 === 0);
    else {
      const greedy: PlacedLabel[] = [];
      for (const l of kept) if (greedy.length === 0 || l.x1 - greedy[greedy.length - 1]!.x2 >= separation) greedy.push(l);
      kept = greedy;
    }
  }
  const last = labels[labels.length - 1];
  if (kept.length < 3 && last !== undefined && kept[kept.length - 1] !== last) kept = kept.length > 1 ? [...kept.slice(0, -1), last] : [...kept, last];
  return kept;
}

function labelText(l: PlacedLabel, y: number): string {
  return text(l.at, y, l.label, { anchor: l.anchor });
}

/** How a time axis is drawn: its labels' d3 format (Vega's multi-scale one when absent), least room between them (px), how its ticks are chosen. */
interface TimeAxisOptions {
  format: string | undefined;
  separation: number;
  overlap: 'parity' | 'greedy';
  ticks: 'dated' | undefined;
  grid: boolean;
}

/**
 * A time x axis below a plot of `height`: grid, ticks, labels, title; the ticks and labels
 * Vega-Lite's axis has (a tick per 40 px, or those datedTickCount chooses as the spec's tickCount
 * does; labels flush at the ends, hidden where they overlap as the spec's labelOverlap says, see withoutOverlap).
 * The data's extent `lo` to `hi` is drawn over timeDomain's span, as the spec gives Vega (one
 * instant: its whole day, or an hour either side). Returns the SVG and what it is drawn with.
 */
function timeAxis(extent: [number, number], width: number, height: number, title: string, o: TimeAxisOptions): { svg: string; x: (v: number) => number; overflow: number } {
  const [lo, hi] = timeDomain(extent[0], extent[1], o.format === undefined);
  const x = (vegaScale('utc') as () => TimeScale)().domain([lo, hi]).range([0, width]);
  let ticks: Date[];
  if (o.ticks === 'dated') {
    // as Vega's axis resolves its tickCount: a count, or { interval, step } as d3's UTC interval
    ticks = x.ticks(tickCount(x, datedTickCount(hi - lo, width)));
  } else {
    // labels in whole seconds (a format without %L) never get sub-second ticks, which would read twice
    const wholeSeconds = o.format !== undefined && !o.format.includes('%L');
    let count = Math.ceil(width / 40);
    ticks = x.ticks(count);
    while (wholeSeconds && count > 1 && ticks.some((t, i) => i > 0 && t.getTime() - ticks[i - 1]!.getTime() < 1000)) ticks = x.ticks(--count);
  }
  const label = o.format ? timeLabel(o.format) : x.tickFormat();
  const placed = ticks.map((t) => {
    const content = label(t);
    return placeLabel(x(t.getTime()), content, labelWidth(content), [0, width]);
  });
  let svg = '';
  if (o.grid) svg += `<g class="grid">${placed.map((t) => `<line x1="${n(t.at + 0.5)}" y1="0" x2="${n(t.at + 0.5)}" y2="${height}" stroke="${GRID}"/>`).join('')}</g>`;
  svg += `<g class="axis x">`;
  svg += placed.map((t) => `<line x1="${n(t.at + 0.5)}" y1="${height + 0.5}" x2="${n(t.at + 0.5)}" y2="${height + 5.5}" stroke="${AXIS}"/>`).join('');
  const shown = withoutOverlap(placed, o.separation, o.overlap);
  svg += shown.map((t) => labelText(t, height + 16)).join('');
  svg += `<line x1="0" y1="${height + 0.5}" x2="${width}" y2="${height + 0.5}" stroke="${AXIS}"/>`;
  svg += text(width / 2, height + 31, title, { anchor: 'middle', size: TITLE_SIZE, bold: true });
  svg += `</g>`;
  return { svg, x: (v) => x(v), overflow: overflowOf(shown, width) };
}

interface ValueScale {
  scale: LinearScale;
  count: number;
  /** Where the axis' range starts and ends (px). */
  range: [number, number];
}

/** A value scale as Vega makes it: zero, pixel padding, then a nice domain; fixed domains are niced only. */
function valueScale(axis: DrawnValueAxis, values: readonly number[], range: [number, number]): ValueScale {
  const length = Math.abs(range[1] - range[0]);
  let domain: [number, number];
  if (axis.domain) domain = [...axis.domain];
  else if (values.length === 0) domain = [0, 1];
  else {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      if (axis.log && !(v > 0)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo)) [lo, hi] = axis.log ? [1, 10] : [0, 1];
    domain = [lo, hi];
    if (axis.zero && !axis.log) domain = [Math.min(0, lo), Math.max(0, hi)];
  }
  if (axis.padding > 0 && domain[0] !== domain[1] && length > 2 * axis.padding) {
    const frac = length / (length - 2 * axis.padding);
    if (axis.log) {
      const [a, b] = [Math.log10(domain[0]), Math.log10(domain[1])];
      const mid = (a + b) / 2;
      domain = [10 ** (mid - ((b - a) / 2) * frac), 10 ** (mid + ((b - a) / 2) * frac)];
    } else {
      const mid = (domain[0] + domain[1]) / 2;
      const half = ((domain[1] - domain[0]) / 2) * frac;
      domain = [mid - half, mid + half];
    }
  }
  if (domain[0] === domain[1]) domain = axis.log ? [domain[0] / 10, domain[0] * 10] : domain[0] === 0 ? [0, 1] : domain[0] > 0 ? [0, domain[0]] : [domain[0], 0];
  const scale = (vegaScale(axis.log ? 'log' : 'linear') as () => LinearScale)().domain(domain).range(range).nice();
  let count = axis.tickCount ?? Math.ceil(length / 40);
  if (axis.integer && !axis.log) {
    const [lo, hi] = scale.domain() as [number, number];
    count = Math.min(count, Math.floor(hi - lo || 1) + 1);
    // d3's steps grow as the count shrinks: fewer ticks until a step is whole
    while (count > 1 && tickStep(lo, hi, count) < 1) count--;
  }
  return { scale, count, range };
}

/** The finite values of some lines, stacked ones summed per x as they are drawn. */
function drawnValues(lines: readonly DrawnLine[]): number[] {
  const out: number[] = [];
  const stackTop = new Map<number, number>();
  for (const line of lines) {
    for (const [t, v] of line.points) {
      if (v === null || !Number.isFinite(v)) continue;
      if (line.stacked) {
        const top = (stackTop.get(t) ?? 0) + v;
        stackTop.set(t, top);
        out.push(top, 0);
      } else out.push(v);
    }
  }
  return out;
}

/** d3-array's tickStep (the step d3 picks for `count` ticks over [lo, hi]). */
function tickStep(lo: number, hi: number, count: number): number {
  const step0 = Math.abs(hi - lo) / Math.max(0, count);
  let step1 = 10 ** Math.floor(Math.log10(step0));
  const error = step0 / step1;
  if (error >= Math.sqrt(50)) step1 *= 10;
  else if (error >= Math.sqrt(10)) step1 *= 5;
  else if (error >= Math.sqrt(2)) step1 *= 2;
  return hi < lo ? -step1 : step1;
}

function valueTicks(v: ValueScale, axis: DrawnValueAxis): { at: number; label: string }[] {
  const ticks = v.scale.ticks(v.count);
  const format = v.scale.tickFormat(v.count, axis.format ?? ',~r');
  return ticks.map((t) => ({ at: v.scale(t), label: format(t) })).filter((t) => Number.isFinite(t.at));
}

/** A vertical value axis at the plot's left (or right) edge: grid (left only), ticks, labels, rotated title. */
function valueAxis(v: ValueScale, axis: DrawnValueAxis, width: number, side: 'left' | 'right'): { svg: string; extent: number } {
  const placed = valueTicks(v, axis);
  const labelled = placed.filter((t) => t.label !== '');
  const widest = Math.max(0, ...labelled.map((t) => textWidth(t.label, LABEL_SIZE)));
  const sign = side === 'left' ? -1 : 1;
  const edge = side === 'left' ? 0.5 : width + 0.5;
  const titleX = side === 'left' ? -(7 + widest + 6) : width + 7 + widest + 6 + TITLE_SIZE;
  let svg = side === 'left' ? `<g class="grid">${placed.map((t) => `<line x1="0" y1="${n(t.at + 0.5)}" x2="${width}" y2="${n(t.at + 0.5)}" stroke="${GRID}"/>`).join('')}</g>` : '';
  svg += `<g class="axis y">`;
  svg += placed.map((t) => `<line x1="${n(edge)}" y1="${n(t.at + 0.5)}" x2="${n(edge + sign * 5)}" y2="${n(t.at + 0.5)}" stroke="${AXIS}"/>`).join('');
  svg += withoutOverlapVertical(labelled).map((t) => text(edge + sign * 7, t.at + 3.5, t.label, { anchor: side === 'left' ? 'end' : 'start' })).join('');
  svg += `<line x1="${n(edge)}" y1="${n(Math.min(...v.range))}" x2="${n(edge)}" y2="${n(Math.max(...v.range))}" stroke="${AXIS}"/>`;
  svg += text(titleX, (v.range[0] + v.range[1]) / 2, axis.title, { anchor: 'middle', size: TITLE_SIZE, bold: true, rotate: true });
  svg += `</g>`;
  return { svg, extent: Math.abs(titleX - (side === 'left' ? 0 : width)) + (side === 'left' ? TITLE_SIZE : 4) };
}

/** Vertical tick labels that do not overlap (a log axis has many). */
function withoutOverlapVertical<T extends { at: number }>(ticks: T[]): T[] {
  let kept = [...ticks].sort((a, b) => a.at - b.at);
  while (kept.length > 2 && kept.some((t, i) => i > 0 && t.at - kept[i - 1]!.at < LABEL_SIZE + 1)) kept = kept.filter((_, i) => i % 2 === 0);
  return kept;
}

/** How far the last tick labels reach past the plot's right edge (px). */
function overflowOf(labels: readonly PlacedLabel[], width: number): number {
  return Math.max(0, ...labels.map((t) => t.x2 - width));
}

/** A value x axis below the plot. */
function valueXAxis(v: ValueScale, axis: DrawnValueAxis, height: number): { svg: string; overflow: number } {
  const placed = valueTicks(v, axis);
  let svg = `<g class="grid">${placed.map((t) => `<line x1="${n(t.at + 0.5)}" y1="0" x2="${n(t.at + 0.5)}" y2="${height}" stroke="${GRID}"/>`).join('')}</g>`;
  svg += `<g class="axis x">`;
  svg += placed.map((t) => `<line x1="${n(t.at + 0.5)}" y1="${height + 0.5}" x2="${n(t.at + 0.5)}" y2="${height + 5.5}" stroke="${AXIS}"/>`).join('');
  // centred labels measured as before (numbers; 4 px apart)
  const shown = withoutOverlap(
    placed.filter((t) => t.label !== '').map((t) => placeLabel(t.at, t.label, textWidth(t.label, LABEL_SIZE), [-Infinity, Infinity])),
    4,
    'parity',
  );
  svg += shown.map((t) => labelText(t, height + 16)).join('');
  svg += `<line x1="${n(Math.min(...v.range))}" y1="${height + 0.5}" x2="${n(Math.max(...v.range))}" y2="${height + 0.5}" stroke="${AXIS}"/>`;
  svg += text((v.range[0] + v.range[1]) / 2, height + 31, axis.title, { anchor: 'middle', size: TITLE_SIZE, bold: true });
  svg += `</g>`;
  return { svg, overflow: overflowOf(shown, Math.max(...v.range)) };
}

function legendSymbol(legend: DrawnLegend, entry: DrawnLegend['entries'][number], cy: number): string {
  if (legend.symbol === 'square') return `<rect x="2" y="${cy - 5}" width="10" height="10" fill="${entry.color}"/>`;
  const dash = legend.symbol === 'rule' ? ' stroke-dasharray="5,3"' : entry.dashed ? ' stroke-dasharray="6,3"' : '';
  return `<line x1="0" y1="${cy}" x2="14" y2="${cy}" stroke="${entry.color}" stroke-width="2.5"${dash}/>`;
}

/** Legends stacked vertically (right of the plot), at x 0 of what is returned. */
function legendsRight(list: readonly DrawnLegend[]): { svg: string; width: number; height: number } {
  let svg = '';
  let y = 0;
  let width = 0;
  for (const legend of list) {
    if (legend.entries.length === 0) continue;
    svg += `<g class="legend" transform="translate(0,${y})">`;
    let row = 0;
    if (legend.title) {
      svg += text(0, 10, legend.title, { size: TITLE_SIZE, bold: true });
      width = Math.max(width, textWidth(legend.title, TITLE_SIZE));
      row = 17;
    }
    for (const entry of legend.entries) {
      const cy = row + 6;
      const label = fit(entry.label, LABEL_SIZE, legend.labelLimit ?? LEGEND_LABEL_LIMIT);
      svg += legendSymbol(legend, entry, cy) + text(20, cy + 4, label);
      width = Math.max(width, 20 + textWidth(label, LABEL_SIZE));
      row += LEGEND_ROW;
    }
    svg += `</g>`;
    y += row + 10;
  }
  return { svg, width, height: y };
}

/** A legend in columns (below the plot), at 0,0 of what is returned. */
function legendColumns(legend: DrawnLegend): { svg: string; width: number; height: number } {
  const columns = Math.max(1, legend.columns ?? 1);
  const labels = legend.entries.map((e) => fit(e.label, LABEL_SIZE, legend.labelLimit ?? LEGEND_LABEL_LIMIT));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(0, ...labels.filter((_, i) => i % columns === c).map((l) => 20 + textWidth(l, LABEL_SIZE))));
  let svg = '<g class="legend">';
  let top = 0;
  if (legend.title) {
    svg += text(0, 10, legend.title, { size: TITLE_SIZE, bold: true });
    top = 17;
  }
  legend.entries.forEach((entry, i) => {
    const c = i % columns;
    const x = widths.slice(0, c).reduce((a, b) => a + b + 10, 0);
    const cy = top + Math.floor(i / columns) * LEGEND_ROW + 6;
    svg += `<g transform="translate(${n(x)},0)">${legendSymbol(legend, entry, cy)}${text(20, cy + 4, labels[i]!)}</g>`;
  });
  svg += '</g>';
  return { svg, width: widths.reduce((a, b) => a + b + 10, -10), height: top + Math.ceil(legend.entries.length / columns) * LEGEND_ROW };
}

/** A legend on one row (above the plot): its title left of its entries. */
function legendRow(legend: DrawnLegend): { svg: string; width: number } {
  let svg = '<g class="legend">';
  let x = 0;
  if (legend.title) {
    svg += text(0, 10, legend.title, { size: TITLE_SIZE, bold: true });
    x = textWidth(legend.title, TITLE_SIZE) + 8;
  }
  for (const entry of legend.entries) {
    const label = fit(entry.label, LABEL_SIZE, legend.labelLimit ?? LEGEND_LABEL_LIMIT);
    svg += `<g transform="translate(${n(x)},0)">${legendSymbol(legend, entry, 6)}${text(18, 10, label)}</g>`;
    x += 18 + textWidth(label, LABEL_SIZE) + 10;
  }
  return { svg: `${svg}</g>`, width: x };
}

/** Title (and subtitle) centred over the plot; returns the SVG and the room it takes above the plot. */
function titles(title: string, subtitle: string | undefined, plotX: number, width: number): { svg: string; height: number } {
  let svg = text(plotX + width / 2, PAD + 10, title, { anchor: 'middle', size: 13, bold: true });
  if (subtitle) svg += text(plotX + width / 2, PAD + 25, subtitle, { anchor: 'middle', size: TITLE_SIZE });
  return { svg, height: subtitle ? 36 : 22 };
}

function frame(width: number, height: number, label: string, body: string): string {
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return `<svg role="img" focusable="false" aria-label="${escapeXml(label)}" xmlns="http://www.w3.org/2000/svg" class="marks" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><rect width="${w}" height="${h}" fill="white"/>${body}</svg>`;
}

/**
 * An x position's text, made once per x value: a chart's lines share their x values (a trends
 * page: every line has the same 90 sweeps); null where the scale gives no finite position.
 */
function xTexts(x: (v: number) => number): (v: number) => string | null {
  const known = new Map<number, string | null>();
  return (v) => {
    let text = known.get(v);
    if (text === undefined) {
      const px = x(v);
      known.set(v, (text = Number.isFinite(px) ? n(px) : null));
    }
    return text;
  };
}

function linePath(points: readonly [number, number | null][], xText: (v: number) => string | null, y: (v: number) => number): string {
  let path = '';
  let pen = false;
  for (const [t, v] of points) {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      continue;
    }
    const px = xText(t);
    const py = y(v);
    if (px === null || !Number.isFinite(py)) continue;
    path += `${pen ? 'L' : 'M'}${px},${n(py)}`;
    pen = true;
  }
  return path;
}

/** Stacked areas: each line's values on top of the ones before it, at the same x. */
function stackedAreas(lines: readonly DrawnLine[], x: (v: number) => number, y: (v: number) => number): string {
  const base = new Map<number, number>();
  let svg = '';
  for (const line of lines) {
    const top: [number, number][] = [];
    const bottom: [number, number][] = [];
    for (const [t, v] of line.points) {
      if (v === null || !Number.isFinite(v)) continue;
      const b = base.get(t) ?? 0;
      bottom.push([t, b]);
      top.push([t, b + v]);
      base.set(t, b + v);
    }
    if (top.length === 0) continue;
    const up = top.map(([t, v]) => `${n(x(t))},${n(y(v))}`);
    const down = bottom.reverse().map(([t, v]) => `${n(x(t))},${n(y(v))}`);
    svg += `<g class="mark-area role-mark"><path d="M${up.join('L')}L${down.join('L')}Z" fill="${line.color}" fill-opacity="0.85" stroke="${line.color}" stroke-width="0.8"/></g>`;
  }
  return svg;
}

function drawLines(d: LinesDrawing): string {
  const left = d.lines.filter((l) => l.axis !== 'right');
  const right = d.y2 ? d.lines.filter((l) => l.axis === 'right') : [];
  const y = valueScale(d.y, [...drawnValues(left), ...(d.levels ?? []).map((l) => l.y)], [d.height, 0]);
  const y2 = d.y2 && right.length ? valueScale(d.y2, drawnValues(right), [d.height, 0]) : undefined;
  let lo = Infinity;
  let hi = -Infinity;
  const xValues: number[] = [];
  for (const line of d.lines) for (const [t] of line.points) xValues.push(t);
  for (const r of d.rules) xValues.push(r.x);
  // bands share the x scale in the spec: Vega's domain takes them in (a phase past the series' ends)
  for (const b of d.bands ?? []) xValues.push(b.start, b.end);
  let xAxisSvg: string;
  let x: (v: number) => number;
  let overflow: number;
  if (d.x.scale === 'value') {
    const xs = valueScale(d.x, xValues, [0, d.width]);
    ({ svg: xAxisSvg, overflow } = valueXAxis(xs, d.x, d.height));
    x = (v) => xs.scale(v);
  } else {
    for (const t of xValues) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    if (!Number.isFinite(lo)) [lo, hi] = [0, DAY];
    const axis = timeAxis([lo, hi], d.width, d.height, d.x.title, { format: d.x.format, separation: d.x.labelSeparation ?? 0, overlap: d.x.labelOverlap ?? 'parity', ticks: d.x.ticks, grid: true });
    xAxisSvg = axis.svg;
    x = axis.x;
    overflow = axis.overflow;
  }
  const yAxis = valueAxis(y, d.y, d.width, 'left');
  const y2Axis = y2 ? valueAxis(y2, d.y2!, d.width, 'right') : undefined;
  const rightLegends = legendsRight(d.legends.filter((l) => (l.placement ?? 'right') === 'right'));
  const bottom = d.legends.filter((l) => l.placement === 'bottom' && l.entries.length > 0).map(legendColumns);
  const above = d.legends.filter((l) => l.placement === 'top' && l.entries.length > 0).map(legendRow);
  const plotX = PAD + Math.ceil(yAxis.extent);
  const head = titles(d.title, d.subtitle, plotX, d.width);
  const top = head.height + above.length * 20;
  const rightEdge = d.width + Math.max(y2Axis ? y2Axis.extent : 0, overflow);

  let marks = '';
  if (d.bands?.length) {
    marks += '<g class="mark-rect role-mark bands">';
    for (const b of d.bands) {
      const x0 = Math.max(0, x(b.start));
      const x1 = Math.min(d.width, x(b.end));
      if (x1 > x0) marks += `<path d="M${n(x0)},0h${n(x1 - x0)}v${d.height}h${n(x0 - x1)}Z" fill="${b.color}" fill-opacity="0.55"><title>${escapeXml(b.tip)}</title></path>`;
    }
    marks += '</g>';
  }
  const xText = xTexts(x);
  const drawAxisLines = (lines: readonly DrawnLine[], scale: (v: number) => number) => {
    let out = stackedAreas(
      lines.filter((l) => l.stacked),
      x,
      scale,
    );
    for (const line of lines) {
      if (line.stacked) continue;
      const path = linePath(line.points, xText, scale);
      if (path) out += `<g class="mark-line role-mark"><path d="${path}" fill="none" stroke="${line.color}" stroke-width="${line.strokeWidth ?? 2}" stroke-linejoin="round"${line.dashed ? ' stroke-dasharray="6,3"' : ''}/></g>`;
    }
    let symbols = '';
    for (const line of lines) {
      if (line.stacked || !(line.symbols ?? d.symbols)) continue;
      line.points.forEach(([t, v], i) => {
        if (v === null || !Number.isFinite(v)) return;
        const cx = xText(t);
        const cy = scale(v);
        if (cx === null || !Number.isFinite(cy)) return;
        const tip = line.tips?.[i];
        const dot = `<path transform="translate(${cx},${n(cy)})" d="${CIRCLE}" fill="${line.color}">${tip ? `<title>${escapeXml(tip)}</title>` : ''}</path>`;
        const href = line.hrefs?.[i];
        symbols += href ? `<a href="${escapeXml(href)}">${dot}</a>` : dot;
      });
    }
    return symbols ? `${out}<g class="mark-symbol role-mark">${symbols}</g>` : out;
  };
  marks += `<g class="marks">${drawAxisLines(left, (v) => y.scale(v))}${y2 ? drawAxisLines(right, (v) => y2.scale(v)) : ''}</g>`;
  if (d.rules.length || d.levels?.length) {
    marks += '<g class="mark-rule role-mark">';
    d.rules.forEach((r, i) => {
      const rx = x(r.x);
      marks += `<line x1="${n(rx)}" y1="0" x2="${n(rx)}" y2="${d.height}" stroke="${r.color}" stroke-width="${r.strokeWidth ?? 2}" stroke-dasharray="${r.dash ?? '5,3'}"><title>${escapeXml(r.tip)}</title></line>`;
      if (r.label) {
        const toLeft = rx > d.width * 0.6;
        marks += `<text text-anchor="${toLeft ? 'end' : 'start'}" transform="translate(${n(rx + (toLeft ? -4 : 4))},${11 + i * 14})" font-family="${FONT}" font-size="11px" font-weight="600" fill="${r.color}">${escapeXml(r.label)}</text>`;
      }
    });
    for (const l of d.levels ?? []) {
      const ly = y.scale(l.y);
      marks += `<line x1="0" y1="${n(ly)}" x2="${d.width}" y2="${n(ly)}" stroke="${l.color}" stroke-dasharray="2,2"/>`;
      marks += `<text text-anchor="end" transform="translate(${d.width - 2},${n(ly - 2)})" font-family="${FONT}" font-size="10px" fill="${l.color}">${escapeXml(l.label)}</text>`;
    }
    marks += '</g>';
  }
  let legendSvg = '';
  let width = plotX + rightEdge;
  let below = d.height + 38;
  if (rightLegends.width > 0) {
    legendSvg += `<g transform="translate(${n(rightEdge + LEGEND_GAP)},0)">${rightLegends.svg}</g>`;
    width += LEGEND_GAP + rightLegends.width;
  }
  for (const b of bottom) {
    legendSvg += `<g transform="translate(0,${below + 4})">${b.svg}</g>`;
    below += 4 + b.height;
    width = Math.max(width, plotX + b.width);
  }
  above.forEach((a, i) => {
    legendSvg += `<g transform="translate(0,${-20 * (above.length - i)})">${a.svg}</g>`;
    width = Math.max(width, plotX + a.width);
  });
  const body = head.svg + `<g transform="translate(${plotX},${top})">${yAxis.svg}${y2Axis?.svg ?? ''}${xAxisSvg}${marks}${legendSvg}</g>`;
  const height = top + Math.max(below, rightLegends.height) + PAD;
  return frame(width + PAD, height, d.subtitle ? `${d.title} (${d.subtitle})` : d.title, body);
}

function drawTimeline(d: TimelineDrawing): string {
  const height = d.rows.length * d.step;
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of d.rows) {
    lo = Math.min(lo, r.start);
    hi = Math.max(hi, r.end);
  }
  const xAxis = timeAxis([lo, hi], d.width, height, d.x.title, { format: d.x.format, separation: d.x.labelSeparation ?? 0, overlap: 'parity', ticks: undefined, grid: true });
  const x = xAxis.x;
  const labels = d.rows.map((r) => fit(r.label, LABEL_SIZE, d.labelLimit));
  const rowLabelWidth = Math.max(0, ...labels.map((l) => textWidth(l, LABEL_SIZE)));
  const left = PAD + Math.ceil(7 + rowLabelWidth);
  const head = titles(d.title, undefined, left, d.width);
  const top = head.height;
  const legend = legendsRight(d.legends);
  let axis = '<g class="axis y">';
  let bars = '<g class="mark-rect role-mark">';
  d.rows.forEach((r, i) => {
    const mid = i * d.step + d.step / 2;
    axis += `<line x1="0.5" y1="${n(mid + 0.5)}" x2="-4.5" y2="${n(mid + 0.5)}" stroke="${AXIS}"/>` + text(-7, mid + 3.5, labels[i]!, { anchor: 'end' });
    const x0 = x(r.start);
    const w = Math.max(1, x(r.end) - x0);
    const inset = d.step * 0.05;
    bars += `<path d="M${n(x0)},${n(i * d.step + inset)}h${n(w)}v${n(d.step - 2 * inset)}h${n(-w)}Z" fill="${r.color}"><title>${escapeXml(r.tip)}</title></path>`;
  });
  axis += `<line x1="0.5" y1="0" x2="0.5" y2="${height}" stroke="${AXIS}"/></g>`;
  bars += '</g>';
  const body =
    head.svg +
    `<g transform="translate(${left},${top})">${xAxis.svg}${axis}${bars}` +
    (legend.width > 0 ? `<g transform="translate(${d.width + LEGEND_GAP},0)">${legend.svg}</g>` : '') +
    `</g>`;
  const width = left + d.width + Math.max(legend.width > 0 ? LEGEND_GAP + legend.width : 0, xAxis.overflow) + PAD;
  return frame(width, top + Math.max(height + 38, legend.height) + PAD, d.title, body);
}

/** The chart as one self-contained SVG element (no ids, every text escaped). */
export function drawChart(d: ChartDrawing): string {
  return d.kind === 'lines' ? drawLines(d) : drawTimeline(d);
}
