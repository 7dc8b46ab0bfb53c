// The site's own SVG writer (orchestrator/site/svg-chart/draw.ts): the pre-rendered view of the
// charts the builders in charts.ts give a drawing (trend lines, job series, phase timelines, the
// story charts). What a reader needs must be in it - titles, axis titles in the display unit,
// readable ticks (no SI prefix on a unit, no NaN, whole ticks for counts), a legend for several
// series, rules for detected changes and markers, links from trend points to their jobs - and
// host text must stay text. A time axis labels the ticks Vega's own rendering of the chart's spec
// labels, and never loses the labels that carry the date. How it looks is checked in headless
// Chromium (browser.test.ts, browser-trends.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vega from 'vega';
import { phaseTimelineChart, timeBandsChart, timeSeriesChart, trendChart, xyChart, type ChartSpec } from '../../orchestrator/site/charts.js';
import { renderSvg } from '../../orchestrator/site/svg.js';
import { coordinateText, drawChart, labelWidth } from '../../orchestrator/site/svg-chart/draw.js';
import { DATED_LABEL_SEPARATION, DATED_TICK_SPACING, datedTickCount, datedTickCountExpr } from '../../orchestrator/site/svg-chart/drawing.js';

const day = (i: number) => new Date(Date.UTC(2026, 9, 1 + i, 2)).toISOString();
const trendOf = (metric: string, unit: string, values: number[], extra: Partial<Parameters<typeof trendChart>[0]> = {}) =>
  trendChart({ id: 'm', metric, unit, better: 'lower', changes: [], lines: [{ label: metric, points: values.map((value, i) => ({ at: day(i), value, sweepId: `s${i}`, jobId: 'j', href: `../jobs/s${i}/j.html` })) }], ...extra });

function draw(chart: ChartSpec | undefined): string {
  assert.ok(chart?.drawing, 'the builder gave a drawing');
  return drawChart(chart!.drawing!);
}
/** The text of a drawn chart: titles, tick labels, legends. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
const SI_TICK = /^-?[\d.,]+[yzafpnµumkMGTPEZY]$/;

test('a trend: title, "lower is better", axis titles with the display unit, ticks in GiB, a point per sweep linking to its job', () => {
  const svg = draw(trendOf('memory.total', 'bytes', [274_877_906_944, 274_877_906_944, 280_000_000_000]));
  const t = texts(svg);
  for (const want of ['memory.total', 'lower is better', 'memory.total (GiB)', 'sweep start (UTC)']) assert.ok(t.includes(want), `${want}: ${t.join(' | ')}`);
  assert.ok(t.some((x) => /^2\d\d$/.test(x)), `ticks in GiB: ${t.join(' | ')}`);
  assert.not.ok(t.some((x) => SI_TICK.test(x) || x.includes('NaN')), t.join(' | '));
  assert.is((svg.match(/<a href="\.\.\/jobs\/s\d\/j\.html"><path /g) ?? []).length, 3, 'each point links to its job');
  assert.match(svg, /^<svg role="img" focusable="false" aria-label="memory\.total \(lower is better\)"/);
  assert.not.match(svg, /\sid="/, 'no ids: any number of charts share a page');
});

test('a constant or all-zero count: whole ticks from 0, never NaN', () => {
  for (const chart of [trendOf('ctcs2.fail', 'count', [0, 0, 0]), trendOf('numa.nodes', 'count', [2, 2, 2])]) {
    const t = texts(draw(chart));
    assert.not.ok(t.some((x) => x.includes('NaN')), t.join(' | '));
    assert.ok(t.includes('0') && t.includes('1'), `whole ticks from 0: ${t.join(' | ')}`);
    assert.not.ok(t.some((x) => /^\d+\.\d+$/.test(x)), `no fractional ticks: ${t.join(' | ')}`);
  }
  const zeros = timeSeriesChart({ id: 'z', metric: 'qaset.outputs.unparsed', unit: 'count', better: 'lower', series: [{ label: 'a', points: [[1, 0], [2, 0]] }] });
  assert.not.ok(texts(draw(zeros)).some((x) => x.includes('NaN')));
});

test('several series: a legend naming each (sorted, Vega-Lite colours), change rules in their kind\'s colour', () => {
  const chart = trendChart({
    id: 'm',
    metric: 'fio.bw',
    unit: 'KiB/s',
    better: 'higher',
    seriesTitle: 'point',
    lines: ['b-point', 'a-point'].map((label, k) => ({ label, points: [0, 1, 2].map((i) => ({ at: day(i), value: 1000 + i * 10 + k, sweepId: `s${i}`, jobId: 'j', href: `j${i}.html` })) })),
    changes: [{ at: day(1), kind: 'regression', label: 'a-point', change: '-20.0 %' }],
  });
  const svg = draw(chart);
  const t = texts(svg);
  assert.ok(t.includes('point') && t.indexOf('a-point') < t.indexOf('b-point'), t.join(' | '));
  assert.match(svg, /stroke="#4c78a8"/);
  assert.match(svg, /stroke="#c62828" stroke-width="2" stroke-dasharray="5,3"><title>regression -20\.0 %/);
});

test('a job series: times as HH:MM:SS without a second twice, a line without symbols for a long series', () => {
  const points: [number, number][] = Array.from({ length: 300 }, (_, i) => [1_760_000_000 + i, 20 + (i % 7)]);
  const svg = draw(timeSeriesChart({ id: 's', metric: 'host.cpu.busy', unit: '%', better: 'lower', series: [{ label: 'host.cpu.busy', points }] }));
  const labels = texts(svg).filter((x) => /^\d\d:\d\d:\d\d$/.test(x));
  assert.ok(labels.length >= 3 && new Set(labels).size === labels.length, labels.join(' | '));
  assert.ok(texts(svg).includes('host.cpu.busy (%)'));
  assert.not.match(svg, /mark-symbol/);
  const phases = draw(
    phaseTimelineChart('phases', [
      { name: 'provenance', status: 'ok', startedAt: '2026-10-01T02:00:01.000Z', endedAt: '2026-10-01T02:00:03.500Z', durationMs: 2500 },
      { name: 'sysinfo', status: 'failed', startedAt: '2026-10-01T02:00:03.600Z', endedAt: '2026-10-01T02:00:05.000Z', durationMs: 1400 },
    ]),
  );
  const pt = texts(phases);
  assert.ok(['1. provenance (ok)', '2. sysinfo (failed)', 'status', 'ok', 'failed', 'time (UTC)'].every((x) => pt.includes(x)), pt.join(' | '));
  const times = pt.filter((x) => /^\d\d:\d\d:\d\d$/.test(x));
  assert.is(new Set(times).size, times.length, `no second twice: ${times.join(' | ')}`);
});

test('story charts: two y axes, marker labels, level labels, stacked areas, phase bands with their legend', () => {
  const xy = draw(
    xyChart({
      id: 'lat',
      title: 'Latency',
      x: { title: 'offered rate', unit: 'pps' },
      y: { title: 'latency', unit: 'µs', scale: 'log' },
      y2: { title: 'loss', unit: '%' },
      lines: [
        { label: 'p99', color: '#c62828', points: [{ x: 1000, y: 35 }, { x: 4000, y: 12_000 }] },
        { label: 'loss', color: '#000', axis: 'right', dashed: true, points: [{ x: 1000, y: 0 }, { x: 4000, y: 3 }] },
      ],
      markers: [{ at: 3500, label: 'NDR 3,500 pps', color: '#b71c1c' }],
    }),
  );
  const t = texts(xy);
  for (const want of ['latency (ms)', 'loss (%)', 'offered rate (pps)', 'NDR 3,500 pps', 'p99', 'loss', '4,000']) assert.ok(t.includes(want), `${want}: ${t.join(' | ')}`);
  assert.not.ok(t.some((x) => SI_TICK.test(x)), t.join(' | '));
  for (const mark of ['line', 'symbol', 'rule']) assert.match(xy, new RegExp(`<g class="mark-${mark} role-mark`), `marks grouped as Vega groups them: ${mark}`);
  const heap = draw(
    timeBandsChart({
      id: 'h',
      title: 'Heap',
      y: { title: 'heap', unit: 'bytes' },
      lines: [
        { label: 'old', color: '#ffb74d', stacked: true, points: [[1, 300 * 1024 ** 2], [2, 340 * 1024 ** 2]] },
        { label: 'eden', color: '#81c784', stacked: true, points: [[1, 100 * 1024 ** 2], [2, 120 * 1024 ** 2]] },
      ],
      bands: [{ label: 'warm-up', start: 1, end: 2, color: '#ffe0b2' }],
    }),
  );
  const h = texts(heap);
  assert.ok(['heap (MiB)', 'phase', 'warm-up', 'old', 'eden'].every((x) => h.includes(x)), h.join(' | '));
  assert.ok(h.includes('400') || h.includes('450'), `the stack reaches the sum of the pools: ${h.join(' | ')}`);
  assert.is((heap.match(/<g class="mark-area role-mark"><path /g) ?? []).length, 2, 'two stacked areas');
  assert.match(heap, /<g class="mark-rect role-mark bands"><path d="M[^"]+" fill="#ffe0b2"/, 'the warm-up band');
  const loss = draw(xyChart({ id: 'l', title: 'Loss', x: { title: 'rate' }, y: { title: 'loss', unit: '%', includes: [0, 1] }, lines: [{ label: 'loss', color: '#c62828', points: [{ x: 1, y: 0 }, { x: 2, y: 0 }] }], levels: [{ at: 0.5, label: 'threshold', color: '#000' }] }));
  assert.ok(texts(loss).includes('threshold') && texts(loss).includes('1'), texts(loss).join(' | '));
});

test('host text in titles, legends, tips and links is text, never markup', () => {
  const evil = '"><img src=x onerror=alert(1)><script>alert(1)</script>';
  const chart = trendChart({
    id: 'x',
    metric: evil,
    unit: 'count',
    better: 'none',
    lines: [evil, 'b'].map((label) => ({ label, points: [{ at: day(0), value: 1, sweepId: evil, jobId: 'j', href: `"><script>alert(1)</script>` }] })),
    changes: [],
  });
  const svg = draw(chart);
  assert.not.ok(svg.includes('<script') || svg.includes('<img'), svg);
  assert.ok(texts(svg).some((x) => x.includes('&lt;script&gt;alert(1)&lt;/script&gt;')));
});

/** A tick label as drawn: its text, where it is anchored along the axis (px) and how. */
interface AxisLabel {
  label: string;
  at: number;
  anchor: string;
}
function labelsIn(markup: string): (AxisLabel & { bold: boolean; opacity: number })[] {
  return [...markup.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)].map(([, attrs, label]) => ({
    label: label!,
    at: Math.round(Number(attrs!.match(/transform="translate\(([-\d.e]+),/)![1]) * 100) / 100,
    anchor: attrs!.match(/text-anchor="(\w+)"/)![1]!,
    bold: attrs!.includes('font-weight="bold"'),
    opacity: Number(attrs!.match(/ opacity="([\d.]+)"/)?.[1] ?? 1),
  }));
}

/** The writer's x axis labels (less its bold title). */
function drawnXLabels(svg: string): AxisLabel[] {
  const axis = svg.match(/<g class="axis x">(.*?)<\/g>/)?.[1] ?? '';
  return labelsIn(axis)
    .filter((l) => !l.bold)
    .map(({ label, at, anchor }) => ({ label, at, anchor }));
}

type Metrics = { width: (item: unknown, text?: unknown) => number };
const metrics = (vega as unknown as { textMetrics: Metrics }).textMetrics;

/**
 * Vega's own rendering of the chart's spec (svg.ts, as the site once pre-rendered every chart): its
 * x axis' tick labels, every one and the ones it shows. Text is measured as a browser measures it
 * where the page's font is DejaVu Sans (the writer's labelWidth; without a canvas Vega would guess
 * 0.8 em a character, wider than any browser draws), so Vega hides what the live chart would hide.
 */
async function vegaXLabels(chart: ChartSpec): Promise<{ all: AxisLabel[]; shown: AxisLabel[] }> {
  const width = metrics.width;
  metrics.width = (item, text) => labelWidth(String(text ?? (item as { text?: unknown }).text ?? '')) * (((item as { fontSize?: number }).fontSize ?? 11) / 11);
  try {
    const svg = await renderSvg(chart.spec, 'v');
    const axis = svg.slice(svg.indexOf('aria-label="X-axis'));
    const group = axis.match(/<g class="mark-text role-axis-label"[^>]*>(.*?)<\/g>/)?.[1] ?? '';
    const all = labelsIn(group);
    const plain = ({ label, at, anchor }: AxisLabel) => ({ label, at, anchor });
    return { all: all.map(plain), shown: all.filter((l) => l.opacity > 0).map(plain) };
  } finally {
    metrics.width = width;
  }
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 9, 1, 2, 0, 13); // Thursday October 1st 2026, 02:00:13
const trendAt = (times: number[]): ChartSpec =>
  trendChart({ id: 'm', metric: 'host.cpu.busy.mean', unit: '%', better: 'lower', changes: [], lines: [{ label: 'a', points: times.map((t, i) => ({ at: new Date(t).toISOString(), value: 5 + (i % 3), sweepId: `s${i}`, jobId: 'j', href: 'x' })) }] })!;
const every = (count: number, step: number, from = T0) => Array.from({ length: count }, (_, i) => from + i * step);

/** How close neighbouring labels come (px): the least gap between their boxes, as drawn (anchored at `at`, labelWidth wide). */
function leastGap(labels: readonly AxisLabel[]): number {
  const box = (l: AxisLabel) => {
    const w = labelWidth(l.label);
    const x1 = l.anchor === 'start' ? l.at : l.anchor === 'end' ? l.at - w : l.at - w / 2;
    return [x1, x1 + w] as const;
  };
  let least = Infinity;
  for (let i = 1; i < labels.length; i++) least = Math.min(least, box(labels[i]!)[0] - box(labels[i - 1]!)[1]);
  return least;
}

/** The axis' label separation the chart asks Vega for (its x encoding's axis, in whichever layer has it). */
function separationOf(chart: ChartSpec): number {
  const text = JSON.stringify(chart.spec);
  return Number(text.match(/"labelSeparation":(\d+)/)?.[1] ?? 0);
}

const storyChart = (seconds: number): ChartSpec =>
  timeBandsChart({
    id: 'b',
    title: 'Throughput',
    y: { title: 'rate', unit: 'pps' },
    lines: [{ label: 'rx', color: '#1565c0', points: every(seconds, 1, 1_790_000_000).map((t, i) => [t, 3000 + (i % 9) * 10] as [number, number]) }],
    bands: [{ label: 'warm-up', start: 1_790_000_000, end: 1_790_000_060, color: '#ffe0b2' }],
  })!;

test('a time axis labels the ticks Vega labels, where Vega shows them, none touching, over hours, days, weeks, months and years', async () => {
  const charts: [string, ChartSpec][] = [
    ['4 hours', trendAt([T0, T0 + 4 * HOUR])],
    ['2 days', trendAt(every(3, 24 * HOUR))],
    ['5 days', trendAt(every(6, 24 * HOUR))],
    ['8 days', trendAt(every(9, 24 * HOUR))],
    ['19 days', trendAt(every(20, 24 * HOUR))],
    ['35 days', trendAt(every(36, 24 * HOUR))],
    ['90 days', trendAt(every(91, 24 * HOUR))],
    ['1 year', trendAt(every(366, 24 * HOUR))],
    ['3 years', trendAt(every(100, 11 * 24 * HOUR))],
    ['a job series', timeSeriesChart({ id: 's', metric: 'host.cpu.busy', unit: '%', better: 'lower', series: [{ label: 'host.cpu.busy', points: every(300, 30, 1_790_000_000).map((t, i) => [t, 20 + (i % 7)]) }] })],
    ['a job series of 8 seconds', timeSeriesChart({ id: 's', metric: 'host.cpu.busy', unit: '%', better: 'lower', series: [{ label: 'host.cpu.busy', points: every(8, 1, 1_790_000_000).map((t, i) => [t, 20 + i]) }] })],
    ['a story chart (9 seconds)', storyChart(10)],
    ['a story chart (4 minutes)', storyChart(240)],
    ['a story chart (40 minutes)', storyChart(2400)],
    ['phases', phaseTimelineChart('phases', [
      { name: 'provenance', status: 'ok', startedAt: '2026-10-01T02:00:01.000Z', endedAt: '2026-10-01T02:00:03.500Z', durationMs: 2500 },
      { name: 'run', status: 'ok', startedAt: '2026-10-01T02:00:03.600Z', endedAt: '2026-10-01T02:41:05.000Z', durationMs: 2_461_400 },
    ])!],
  ];
  for (const [span, chart] of charts) {
    const vegaLabels = await vegaXLabels(chart);
    assert.ok(vegaLabels.shown.length >= 4, `${span}: Vega labels the axis: ${JSON.stringify(vegaLabels)}`);
    const drawn = drawnXLabels(draw(chart));
    assert.equal(drawn, vegaLabels.shown, span);
    const separation = separationOf(chart);
    assert.ok(separation >= 4, `${span}: the spec keeps labels apart (${separation} px)`);
    assert.ok(leastGap(drawn) >= separation, `${span}: labels ${leastGap(drawn)} px apart, less than ${separation}: ${drawn.map((l) => l.label).join(' | ')}`);
  }
});

test('a 5-day trend axis labels each day boundary and the noons between, none hidden, as Vega does', async () => {
  const chart = trendAt(every(6, 24 * HOUR, T0 - 1.5 * HOUR));
  const labels = drawnXLabels(draw(chart)).map((l) => l.label);
  assert.equal(labels, ['12 PM', 'Fri 02', '12 PM', 'Sat 03', '12 PM', 'Oct 04', '12 PM', 'Mon 05', '12 PM', 'Tue 06']);
  const vegaLabels = await vegaXLabels(chart);
  assert.equal(vegaLabels.shown, vegaLabels.all, 'Vega hides none');
  assert.equal(labels, vegaLabels.shown.map((l) => l.label));
});

/** UTC midnights within lo to hi, as Vega's multi-scale format labels them ("Fri 02", "Oct 04", "November", "2027"). */
function midnightsIn(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(lo / (24 * HOUR)) * 24 * HOUR; t <= hi; t += 24 * HOUR) out.push(t);
  return out;
}

test('a trend over 12 hours to 16 days, from any hour: Vega and the writer label every midnight in it, hide no label, and agree', async () => {
  // six-hour ticks from 06 AM over 6.5 days were 28 px apart: Vega's parity kept "06 AM, 06 PM, ..." and no day at all
  const week = (await vegaXLabels(trendAt(every(14, 12 * HOUR)))).shown.map((l) => l.label);
  for (const day of ['Fri 02', 'Sat 03', 'Oct 04', 'Mon 05', 'Tue 06', 'Wed 07']) assert.ok(week.includes(day), `6.5 days, Vega: ${day} in ${week.join(' | ')}`);
  for (const from of [T0, T0 + 5 * HOUR, T0 + 10 * HOUR, Date.UTC(2026, 7, 29, 14)]) {
    for (let hours = 12; hours <= 16 * 24; hours += 11) {
      const chart = trendAt(every(Math.floor(hours / 6) + 1, 6 * HOUR, from));
      const last = from + Math.floor(hours / 6) * 6 * HOUR;
      const vegaLabels = await vegaXLabels(chart);
      const what = `${hours} h from ${new Date(from).toISOString()}: ${vegaLabels.shown.map((l) => l.label).join(' | ')}`;
      // ticks a day apart or less (to 13 days and 8 hours); past that Vega's own (days, all dated), where one may be hidden
      const ruled = typeof datedTickCount(last - from, 760) !== 'number';
      if (ruled) assert.equal(vegaLabels.shown, vegaLabels.all, `Vega hides no label: ${what}`);
      const drawn = drawnXLabels(draw(chart));
      assert.equal(drawn, vegaLabels.shown, what);
      const days = midnightsIn(from, last).length;
      const dated = drawn.filter((l) => !/^\d\d (AM|PM)$|^\d\d:\d\d$/.test(l.label));
      assert.ok(dated.length >= (ruled ? days : days - 1) && days > 0 === dated.length > 0, `${days} midnights, ${dated.length} dated labels: ${what}`);
    }
  }
});

test('a dated axis\' ticks up to a day apart leave the separation between any two neighbouring labels (the widest: "September" beside "Wed 02")', () => {
  const multi = (vega as unknown as { scale: (type: string) => () => { domain: (d: number[]) => { tickFormat: () => (d: Date) => string } } }).scale('utc')().domain([0, 1]).tickFormat();
  const need = (a: number, b: number) => (labelWidth(multi(new Date(a))) + labelWidth(multi(new Date(b)))) / 2 + DATED_LABEL_SEPARATION;
  // every interval datedTickCount chooses up to a day, over seven years' hours and days (each month starts on each weekday), and each month's start to the second
  const intervals = [1, 5, 15, 30].map((s) => s * 1000).concat([1, 5, 15, 30].map((m) => m * 60_000), [1, 3, 6, 12, 24].map((h) => h * HOUR));
  let widest = 0;
  for (const step of intervals) {
    const starts = step >= HOUR ? [Date.UTC(2025, 0, 1) - step] : Array.from({ length: 7 * 12 }, (_, m) => Date.UTC(2025, m, 1) - 40 * step);
    const count = step >= HOUR ? (7 * 366 * 24 * HOUR) / step : 80;
    for (const start of starts) for (let i = 0; i < count; i++) widest = Math.max(widest, need(start + i * step, start + (i + 1) * step));
  }
  assert.ok(widest <= DATED_TICK_SPACING, `neighbours need ${widest} px, ticks are ${DATED_TICK_SPACING} px apart or more`);
  assert.ok(widest > DATED_TICK_SPACING - 1, `the spacing is no wider than it must be: ${widest}`);
  // Vega's expression (read as JavaScript, of a span) chooses as the rule does, at each bound, either side of it and between
  const expr = datedTickCountExpr(760);
  const bounds = [...expr.matchAll(/[<=]+ ([\d.]+) \?/g)].map((m) => Number(m[1]));
  assert.is(bounds.length, 14, expr);
  for (const bound of bounds) {
    for (const span of [bound - 1, bound, bound + 1, bound * 1.3]) {
      const chosen = new Function(`return (${expr.replaceAll("span(domain('x'))", String(span))});`)() as unknown;
      assert.equal(chosen, datedTickCount(span, 760), `${span} ms`);
    }
  }
});

test('a trend of one sweep is drawn across its UTC day, live and pre-rendered alike; a job series of one sample over two hours', async () => {
  const single = trendAt([T0]);
  const labels = drawnXLabels(draw(single));
  assert.equal([labels[0], labels[labels.length - 1]], [{ label: 'October', at: 0, anchor: 'start' }, { label: 'Fri 02', at: 760, anchor: 'end' }], 'the day from its start to the next');
  assert.match(draw(single), /<path transform="translate\(63\.\d+,/, 'the point at 02:00 of its day');
  assert.equal(labels, (await vegaXLabels(single)).shown, 'Vega draws the same day (it drew a lone ":13")');
  const sample = timeSeriesChart({ id: 's', metric: 'm', unit: '%', better: 'lower', series: [{ label: 'm', points: [[1_790_000_000, 1]] }] });
  const sampleLabels = drawnXLabels(draw(sample));
  assert.ok(sampleLabels.length >= 4, sampleLabels.map((l) => l.label).join(' | '));
  assert.equal(sampleLabels, (await vegaXLabels(sample)).shown);
});

test('a trend axis none of whose ticks is on a day says the date in its title, in the spec and the drawing alike', async () => {
  const chart = trendAt([T0, T0 + 4 * HOUR]);
  assert.ok(texts(draw(chart)).includes('sweep start (UTC) · Thu 01 Oct 2026'), texts(draw(chart)).join(' | '));
  assert.match(await renderSvg(chart.spec, 'v'), />sweep start \(UTC\) · Thu 01 Oct 2026</);
  // over a midnight, or one sweep (its day), the labels say it
  assert.ok(texts(draw(trendAt([T0, T0 + 24 * HOUR]))).includes('sweep start (UTC)'));
  assert.ok(texts(draw(trendAt([T0]))).includes('sweep start (UTC)'));
  // a job's times keep their format: the job page says the day
  assert.ok(texts(draw(timeSeriesChart({ id: 's', metric: 'm', unit: '%', better: 'lower', series: [{ label: 'm', points: [[1_790_000_000, 1], [1_790_000_100, 2]] }] }))).includes('time (UTC)'));
});

test('coordinates: written exactly as String(Math.round(v * 100) / 100), for fractions, whole numbers, negatives, huge and odd values', () => {
  const plain = (v: number) => String(Math.round(v * 100) / 100);
  const odd = [0, -0, NaN, Infinity, -Infinity, 0.005, -0.005, 0.015, 1.005, -1.005, 0.995, -0.994999, 123.456, -0.001, 1e13, 9999999999999.99, -99999999999999.9, 1e15, 1e16, 1e21, 5e-324, 760, 199.999];
  for (const v of odd) assert.is(coordinateText(v), plain(v), `${v}`);
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 200_000; i++) {
    const v = (random() - 0.3) * 10 ** Math.floor(random() * 30 - 6);
    if (coordinateText(v) !== plain(v)) assert.is(coordinateText(v), plain(v), `${v}`);
  }
  for (let i = -20_000; i < 20_000; i++) {
    if (coordinateText(i / 100) !== plain(i / 100)) assert.is(coordinateText(i / 100), plain(i / 100), `${i / 100}`);
  }
});

test.run();
