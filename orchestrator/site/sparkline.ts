// A sparkline: a metric's history as a small inline SVG, drawn here from numbers only (no text,
// no host data), so a page can show dozens of them without a chart library. What it shows is
// said beside it, in the page's own text.

export interface SparklineOptions {
  width?: number;
  height?: number;
  /** Index of the first value of a new regime (a detected change): drawn from there in `tone`'s colour. */
  from?: number;
  /** What the new regime is: a regression (red), an improvement (green) or neither (grey-blue). */
  tone?: 'regression' | 'improvement' | 'change' | 'none';
}

const TONE_COLORS = { regression: '#c62828', improvement: '#2e7d32', change: '#6d4c41', none: '#1565c0' } as const;
const BASE_COLOR = '#90a4ae';

function coordinate(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/**
 * The values (oldest first) as a polyline scaled to the box, the last value as a dot; with
 * `from`, the new regime in its tone's colour. Empty string when there is nothing to draw.
 */
export function sparkline(values: readonly number[], options: SparklineOptions = {}): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const width = options.width ?? 120;
  const height = options.height ?? 26;
  const pad = 3;
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const span = max - min;
  const n = finite.length;
  const x = (i: number) => (n === 1 ? width / 2 : pad + ((width - 2 * pad) * i) / (n - 1));
  // a flat history is drawn through the middle
  const y = (v: number) => (span === 0 ? height / 2 : height - pad - ((height - 2 * pad) * (v - min)) / span);
  const points = finite.map((v, i) => `${coordinate(x(i))},${coordinate(y(v))}`);
  const tone = TONE_COLORS[options.tone ?? 'none'];
  const from = options.from !== undefined && options.from > 0 && options.from < n ? options.from : undefined;
  const lines =
    from === undefined
      ? `<polyline points="${points.join(' ')}" fill="none" stroke="${tone}" stroke-width="1.5" stroke-linejoin="round"/>`
      : `<polyline points="${points.slice(0, from).join(' ')}" fill="none" stroke="${BASE_COLOR}" stroke-width="1.5" stroke-linejoin="round"/>` +
        `<line x1="${coordinate(x(from))}" y1="0" x2="${coordinate(x(from))}" y2="${height}" stroke="${tone}" stroke-width="1" stroke-dasharray="2 2"/>` +
        `<polyline points="${points.slice(from - 1).join(' ')}" fill="none" stroke="${tone}" stroke-width="1.8" stroke-linejoin="round"/>`;
  const last = finite.at(-1)!;
  const dot = `<circle cx="${coordinate(x(n - 1))}" cy="${coordinate(y(last))}" r="2.2" fill="${tone}"/>`;
  return `<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" aria-hidden="true" focusable="false">${lines}${dot}</svg>`;
}
