// The layered chart builders (orchestrator/site/charts.ts): lines on one or two axes with marker
// and level rules, lines and stacked areas over time with shaded bands. Each spec is also compiled
// by vega-lite and rendered by vega, as the site does, to check the marks are really drawn.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { itemBarsChart, legendLayout, timeBandsChart, timeSeriesChart, trendChart, xyChart, type VlSpec } from '../../orchestrator/site/charts.js';
import { downsampleMean, downsampleMinMax } from '../../orchestrator/site/downsample.js';
import { renderSvg, vegaLiteWarnings } from '../../orchestrator/site/svg.js';
import { labelsText } from '../../orchestrator/site/format.js';
import { seriesCharts } from '../../orchestrator/site/series-charts.js';
import { drawChart } from '../../orchestrator/site/svg-chart/draw.js';
import type { DrawnLegend } from '../../orchestrator/site/svg-chart/drawing.js';

type Layer = Record<string, unknown> & { layer?: Layer[]; mark?: { type: string } | string; encoding?: Record<string, Record<string, unknown>> };

/** Every leaf layer of a (possibly nested) layered spec. */
function leaves(spec: VlSpec): Layer[] {
  const out: Layer[] = [];
  const walk = (l: Layer) => (l.layer ? l.layer.forEach(walk) : out.push(l));
  walk(spec as Layer);
  return out;
}
const markOf = (l: Layer) => (typeof l.mark === 'string' ? l.mark : l.mark?.type);

/** How many drawn paths each mark type has in the rendered SVG (paths with real geometry only). */
function drawn(svg: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const g of svg.match(/<g class="mark-[a-z]+ role-mark[^"]*"[^>]*>[\s\S]*?<\/g>/g) ?? []) {
    const type = /mark-([a-z]+)/.exec(g)![1]!;
    const shapes = (g.match(/<path [^>]*d="M[^"]{3,}"/g) ?? []).length + (g.match(/<line /g) ?? []).length + (g.match(/<text /g) ?? []).length;
    counts[type] = (counts[type] ?? 0) + shapes;
  }
  return counts;
}

const steps = [1000, 2000, 3000, 4000].map((x, i) => ({ x, y: [1000, 2000, 2900, 3000][i]!, detail: `step ${i + 1}` }));

test('xyChart: one line per series, a rule and a label per marker, a level on the left axis; it renders', async () => {
  const chart = xyChart({
    id: 'rates',
    title: 'Rates',
    x: { title: 'offered rate (pps)' },
    y: { title: 'rate (pps)' },
    lines: [
      { label: 'offered', color: '#777', dashed: true, points: steps.map((p) => ({ ...p, y: p.x })) },
      { label: 'delivered', color: '#2e7d32', points: steps },
      { label: 'nothing measured', color: '#000', points: steps.map((p) => ({ ...p, y: null })) },
    ],
    markers: [{ at: 2000, label: 'NDR 2,000 pps', color: '#b71c1c' }],
    levels: [{ at: 2500, label: 'a level', color: '#b71c1c' }],
    placement: 'story',
  })!;
  assert.is(chart.placement, 'story');
  assert.equal([...new Set(chart.rows.map((r) => r['series']))], ['offered', 'delivered'], 'a series without values is left out');
  const layers = leaves(chart.spec);
  assert.equal(layers.map(markOf), ['line', 'rule', 'text', 'rule', 'text']);
  const color = layers[0]!.encoding!['color']!;
  assert.equal((color['scale'] as { domain: string[] }).domain, ['offered', 'delivered']);
  assert.equal((layers[0]!.encoding!['strokeDash']!['scale'] as { range: number[][] }).range, [[6, 3], [1, 0]]);
  assert.equal((layers[1]!.data as { values: unknown[] }).values, [{ x: 2000, label: 'NDR 2,000 pps' }]);
  assert.not.ok('resolve' in chart.spec, 'one axis: nothing to resolve');
  const svg = await renderSvg(chart.spec, 't');
  const marks = drawn(svg);
  assert.ok(marks['line']! >= 2, JSON.stringify(marks));
  assert.ok(marks['rule']! >= 2 && marks['text']! >= 2, JSON.stringify(marks));
  assert.match(svg, />NDR 2,000 pps</);
});

test('xyChart: a second axis gets its own scale; markers stay with the left axis; a marker on the right half is labelled leftwards', () => {
  const chart = xyChart({
    id: 'lr',
    title: 'Long-running',
    x: { title: 'burst' },
    y: { title: 'rate (pps)' },
    y2: { title: 'latency (µs)' },
    lines: [
      { label: 'delivered', color: '#2e7d32', points: steps },
      { label: 'p99', color: '#c62828', axis: 'right', points: steps.map((p) => ({ ...p, y: p.x / 100 })) },
    ],
    markers: [{ at: 3900, label: 'late', color: '#000' }],
  })!;
  assert.equal(chart.spec['resolve'], { scale: { y: 'independent' } });
  const top = (chart.spec as Layer).layer!;
  assert.is(top.length, 2);
  assert.equal(top[0]!.layer!.map(markOf), ['line', 'rule', 'text']);
  assert.equal((top[1]!.encoding!['y']! as { title: string }).title, 'latency (µs)');
  assert.is((top[0]!.layer![2]!.mark as unknown as { align: string }).align, 'right');
  // both axes share one colour scale, so one legend names every series
  assert.equal((top[1]!.encoding!['color']!['scale'] as { domain: string[] }).domain, ['delivered', 'p99']);
});

test('xyChart: an axis can always show some values (a loss axis with nothing lost still reads 0 to 1 %)', async () => {
  const chart = xyChart({ id: 'loss', title: 'Loss', x: { title: 'offered rate (pps)' }, y: { title: 'loss (%)', includes: [0, 1] }, lines: [{ label: 'loss', color: '#c62828', points: [{ x: 25000, y: 0 }] }] })!;
  assert.equal(leaves(chart.spec)[0]!.encoding!['y']!['scale'], { zero: true, domain: [0, 1], nice: true });
  assert.match(await renderSvg(chart.spec, 't'), />0\.8</, 'the axis runs up to 1');
  const wide = xyChart({ id: 'loss', title: 'Loss', x: { title: 'r' }, y: { title: 'loss (%)', includes: [0, 1] }, lines: [{ label: 'loss', color: '#c62828', points: [{ x: 1, y: 0 }, { x: 2, y: 7.5 }] }] })!;
  assert.equal(leaves(wide.spec)[0]!.encoding!['y']!['scale'], { zero: true, domain: [0, 7.5], nice: true }, 'the data widens it past 1');
  assert.equal(vegaLiteWarnings(wide.spec), [], 'a line with points is two layers to Vega-Lite: one domain for both, no warning');
});

test('xyChart: nothing to draw is no chart', () => {
  assert.is(xyChart({ id: 'x', title: 'x', x: { title: 'x' }, y: { title: 'y' }, lines: [{ label: 'a', color: '#000', points: [{ x: 1, y: null }] }] }), undefined);
  assert.is(xyChart({ id: 'x', title: 'x', x: { title: 'x' }, y: { title: 'y' }, lines: [] }), undefined);
});

test('timeBandsChart: bands behind the lines with their own legend, stacked areas, a right axis; it renders', async () => {
  const t0 = 1_800_000_000;
  const pts = (f: (i: number) => number, n = 60) => Array.from({ length: n }, (_, i) => [t0 + i, f(i)] as [number, number]);
  const chart = timeBandsChart({
    id: 'agent',
    title: 'Agent',
    y: { title: 'heap (MiB)' },
    y2: { title: 'RSS (MiB)' },
    lines: [
      { label: 'old', color: '#ffb74d', stacked: true, points: pts(() => 100) },
      { label: 'eden', color: '#81c784', stacked: true, points: pts((i) => i % 20) },
      { label: 'committed', color: '#424242', dashed: true, points: pts(() => 512) },
      { label: 'RSS', color: '#6a1b9a', axis: 'right', points: pts((i) => 400 + i) },
    ],
    bands: [
      { label: 'warm-up', start: t0, end: t0 + 20 },
      { label: 'throughput', start: t0 + 20, end: t0 + 50 },
      { label: 'empty', start: t0 + 50, end: t0 + 50 },
    ],
  })!;
  const top = (chart.spec as Layer).layer!;
  assert.equal(top[0]!.layer!.map(markOf), ['rect', 'area', 'line']);
  const band = top[0]!.layer![0]!;
  assert.equal((band.data as { values: { phase: string }[] }).values.map((b) => b.phase), ['warm-up', 'throughput'], 'an empty band is dropped');
  assert.equal((band.encoding!['fill']!['legend'] as { orient: string }).orient, 'top');
  assert.equal(top[0]!.layer![1]!.encoding!['y']!['stack'], 'zero');
  assert.is(top[0]!.layer![2]!.encoding!['y']!['stack'], null, 'the committed line is not stacked on the pools');
  assert.is(markOf(top[1]!), 'line');
  assert.equal(chart.spec['resolve'], { scale: { y: 'independent' } });
  assert.is(chart.rows.length, 240, 'the downloads hold every point');
  const marks = drawn(await renderSvg(chart.spec, 't'));
  assert.ok(marks['rect']! >= 2 && marks['area']! >= 2 && marks['line']! >= 2, JSON.stringify(marks));
});

test('timeBandsChart: long series are thinned for display, stacked ones by the same buckets, and the note says so', () => {
  const t0 = 1_800_000_000;
  const long = Array.from({ length: 5000 }, (_, i) => [t0 + i, i % 7] as [number, number]);
  const chart = timeBandsChart({
    id: 'heap',
    title: 'Heap',
    y: { title: 'MiB' },
    lines: [
      { label: 'a', color: '#000', stacked: true, points: long },
      { label: 'b', color: '#111', stacked: true, points: long },
    ],
    bands: [],
  })!;
  const area = leaves(chart.spec).find((l) => markOf(l) === 'area')!;
  const shown = (area.data as { values: { series: string; t: number }[] }).values;
  const times = (s: string) => shown.filter((r) => r.series === s).map((r) => r.t);
  assert.ok(times('a').length <= 400, `${times('a').length}`);
  assert.equal(times('a'), times('b'), 'stacked series stay aligned point for point');
  assert.match(chart.note!, /of 10,000 points shown/);
  assert.is(chart.rows.length, 10_000);
});

test('legend layout: as many columns as fit, long labels cut only when one column is all there is', () => {
  assert.equal(legendLayout(['offered', 'delivered']).columns, 2);
  const five = legendLayout(['p50', 'p90', 'p99', 'agent p50 (JMX)', 'agent p99 (JMX)']);
  assert.ok(five.columns >= 3, JSON.stringify(five));
  assert.ok(five.labelLimit >= 8.8 * 'agent p99 (JMX)'.length, 'no label of a fitting layout is cut, even as Vega estimates text at build time');
  const long = legendLayout(['G1 Eden Space'.repeat(10), 'old']);
  assert.equal(long, { columns: 1, labelLimit: 470 - 28 });
});

test('downsampleMean: runs of k points averaged, stamped with the run start; short series untouched', () => {
  const points = Array.from({ length: 10 }, (_, i) => [i, i] as [number, number | null]);
  points[5] = [5, null];
  assert.equal(downsampleMean(points, 5), [[0, 0.5], [2, 2.5], [4, 4], [6, 6.5], [8, 8.5]]);
  assert.equal(downsampleMean(points, 20), points);
});

// ---- axes people can read: a unit family's best unit, no SI prefix on a unit, no NaN, sensible precision ----

/** The text of a rendered chart: axis labels and titles, legends. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
/** A tick label with an SI prefix stuck to its number ("190m", "274.877907G", "0.5k"). */
const SI_TICK = /^-?[\d.,]+[yzafpnµumkMGTPEZY]$/;
const day = (i: number) => new Date(Date.UTC(2026, 9, 1 + i, 2)).toISOString();
const trendOf = (metric: string, unit: string, values: number[]) =>
  trendChart({ id: 'm', metric, unit, better: 'none', changes: [], lines: [{ label: metric, points: values.map((value, i) => ({ at: day(i), value, sweepId: `s${i}`, jobId: 'j', href: `j${i}.html` })) }] });

test('trend axes: bytes in GiB, seconds under one in ms, a load as plain decimals; the data drawn is scaled, the downloads are not', async () => {
  const memory = trendOf('memory.total', 'bytes', [274_877_906_944, 274_877_906_944]);
  const memText = texts(await renderSvg(memory.spec, 't'));
  assert.ok(memText.includes('memory.total (GiB)'), memText.join(' | '));
  assert.ok(memText.includes('250'), 'ticks in GiB');
  assert.equal((memory.spec['data'] as { values: { value: number; shown: string }[] }).values.map((v) => [v.value, v.shown]), [[256, '256 GiB'], [256, '256 GiB']]);
  assert.is(memory.rows[0]!['value'], 274_877_906_944, 'the downloads keep bytes');
  const define = texts(await renderSvg(trendOf('kvm.point.define', 's', [0.395, 0.41, 0.402]).spec, 't'));
  assert.ok(define.includes('kvm.point.define (ms)') && define.some((t) => /^4\d\d$/.test(t)), define.join(' | '));
  const load = texts(await renderSvg(trendOf('load.1m', 'load', [0.52, 0.6, 0.55]).spec, 't'));
  assert.ok(load.includes('load.1m') && load.includes('0.6') && load.includes('0.52'), load.join(' | '));
  for (const t of [...memText, ...define, ...load]) assert.not.match(t, SI_TICK, `"${t}" stacks an SI prefix on a unit`);
});

test('a series that is all zero (or constant) has a readable axis, never "NaN"', async () => {
  for (const chart of [trendOf('ctcs2.fail', 'count', [0, 0, 0]), trendOf('numa.nodes', 'count', [2, 2, 2])]) {
    const t = texts(await renderSvg(chart.spec, 't'));
    assert.not.ok(t.some((x) => x.includes('NaN')), t.join(' | '));
    assert.ok(t.includes('0') && t.includes('1'), `whole ticks from 0: ${t.join(' | ')}`);
    assert.not.ok(t.some((x) => /^\d+\.\d+$/.test(x)), `a count has no fractional ticks: ${t.join(' | ')}`);
    assert.equal(vegaLiteWarnings(chart.spec), []);
  }
  const zeros = timeSeriesChart({ id: 'z', metric: 'qaset.outputs.unparsed', unit: 'count', better: 'lower', series: [{ label: 'a', points: [[1, 0], [2, 0]] }] });
  assert.not.ok(texts(await renderSvg(zeros.spec, 't')).some((x) => x.includes('NaN')));
  const bars = itemBarsChart({ id: 'b', metric: 'ctcs2.fail', unit: 'count', better: 'lower', bars: [{ item: 'p1', value: 0 }, { item: 'p2', value: 0 }] })!;
  assert.not.ok(texts(await renderSvg(bars.spec, 't')).some((x) => x.includes('NaN')));
});

test('job series and point bars: bytes in GiB, a KiB/s bandwidth in MiB/s or GiB/s, tooltips in the same unit', async () => {
  const mem = timeSeriesChart({ id: 'm', metric: 'host.mem_used_bytes', unit: 'bytes', better: 'none', series: [{ label: 'p1', points: [[1, 6.2e9], [2, 7.3e9]] }] });
  const memText = texts(await renderSvg(mem.spec, 't'));
  assert.ok(memText.includes('host.mem_used_bytes (GiB)'), memText.join(' | '));
  assert.not.ok(memText.some((x) => SI_TICK.test(x)), memText.join(' | '));
  assert.equal(((mem.spec['encoding'] as { tooltip: { field: string }[] }).tooltip).map((t) => t.field), ['time', 'shown']);
  const bw = itemBarsChart({ id: 'bw', metric: 'fio.bw', unit: 'KiB/s', better: 'higher', bars: [{ item: 'smp1x2x1 · raw', value: 1_240_000 }, { item: 'smp1x2x1 · qcow2', value: 890_000 }] })!;
  const bwText = texts(await renderSvg(bw.spec, 't'));
  assert.ok(bwText.includes('fio.bw (GiB/s)'), bwText.join(' | '));
  assert.equal((bw.spec['data'] as { values: { shown: string }[] }).values.map((v) => v.shown), ['1.183 GiB/s', '0.8488 GiB/s']);
  assert.equal(vegaLiteWarnings(bw.spec), []);
});

test('layered charts: an axis given a unit shows its values in that family\'s best unit; markers and levels follow', async () => {
  const chart = xyChart({
    id: 'lat',
    title: 'Latency',
    x: { title: 'offered rate', unit: 'pps' },
    y: { title: 'latency', unit: 'µs', scale: 'log' },
    lines: [{ label: 'p99', color: '#c62828', points: [{ x: 1000, y: 35 }, { x: 4000, y: 12_000 }] }],
    markers: [{ at: 3500, label: 'NDR 3,500 pps', color: '#b71c1c' }],
  })!;
  const t = texts(await renderSvg(chart.spec, 't'));
  assert.ok(t.includes('latency (ms)') && t.includes('offered rate (pps)'), t.join(' | '));
  assert.ok(t.includes('4,000') && !t.some((x) => SI_TICK.test(x)), `grouped rates, no "4k": ${t.join(' | ')}`);
  const line = leaves(chart.spec)[0]!;
  assert.equal((line.data as { values: { y: number; yShown: string; xShown: string }[] }).values.map((v) => [v.y, v.yShown, v.xShown]), [[0.035, '0.035 ms', '1,000 pps'], [12, '12 ms', '4,000 pps']]);
  assert.equal(chart.rows.map((r) => r['y']), [35, 12_000], 'the downloads keep the values as given');
  const heap = timeBandsChart({ id: 'h', title: 'Heap', y: { title: 'heap', unit: 'bytes' }, lines: [{ label: 'used', color: '#000', points: [[1, 300 * 1024 ** 2], [2, 340 * 1024 ** 2]] }], bands: [] })!;
  assert.ok(texts(await renderSvg(heap.spec, 't')).includes('heap (MiB)'));
  const loss = xyChart({ id: 'l', title: 'Loss', x: { title: 'rate' }, y: { title: 'loss', unit: '%', includes: [0, 1] }, lines: [{ label: 'loss', color: '#c62828', points: [{ x: 1, y: 0 }] }], levels: [{ at: 0.5, label: 'threshold', color: '#000' }] })!;
  assert.equal(leaves(loss.spec)[0]!.encoding!['y']!['scale'], { zero: true, domain: [0, 1], nice: true });
});

test('trendChart: download rows and shown rows keep their fields in the order the downloads and charts.js were written in', () => {
  const points = (build: boolean) => [0, 1, 2].map((i) => ({ at: day(i), value: i * 1024, sweepId: `s${i}`, jobId: 'j', href: `j${i}.html`, ...(build && i > 0 ? { build: `b${i}` } : {}) }));
  const chart = trendChart({ id: 'm', metric: 'memory.used', unit: 'bytes', better: 'lower', changes: [], lines: [{ label: 'a', points: points(true) }, { label: 'b', points: points(false) }] });
  assert.equal(chart.rows.map((r) => Object.keys(r).join()), [
    ...['series,at,value,sweepId,jobId,href', 'series,at,value,sweepId,jobId,href,build', 'series,at,value,sweepId,jobId,href,build'],
    ...['series,at,value,sweepId,jobId,href', 'series,at,value,sweepId,jobId,href', 'series,at,value,sweepId,jobId,href'],
  ]);
  assert.equal(chart.columns, ['series', 'at', 'value', 'sweepId', 'jobId', 'build']);
  const shown = (chart.spec['data'] as { values: Record<string, unknown>[] }).values;
  assert.equal(Object.keys(shown[1]!), ['series', 'at', 'value', 'sweepId', 'jobId', 'href', 'build', 't', 'shown']);
  assert.equal(Object.keys(shown[3]!), ['series', 'at', 'value', 'sweepId', 'jobId', 'href', 't', 'shown']);
  assert.equal(shown[2], { series: 'a', at: day(2), value: 2, sweepId: 's2', jobId: 'j', href: 'j2.html', build: 'b2', t: Date.parse(day(2)), shown: '2 KiB' });
  assert.is(chart.rows[2]!['value'], 2048, 'the downloads keep the unit of the store');
});

test('trendChart: a history longer than the display keeps every row for the downloads and thins each line by its own peaks', () => {
  const values = Array.from({ length: 1000 }, (_, i) => (i === 500 ? 1000 : i % 7));
  const line = (label: string) => ({ label, points: values.map((value, i) => ({ at: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString(), value, sweepId: `s${i}`, jobId: 'j', href: `j${i}.html` })) });
  const chart = trendChart({ id: 'm', metric: 'x', unit: 'count', better: 'none', changes: [], lines: [line('a'), line('b')] });
  assert.is(chart.rows.length, 2000);
  const shown = (chart.spec['data'] as { values: { series: string; value: number }[] }).values;
  assert.ok(shown.length < 1600 && shown.length > 100, `${shown.length}`);
  for (const label of ['a', 'b']) assert.ok(shown.some((r) => r.series === label && r.value === 1000), `line ${label} keeps its peak`);
  assert.match(chart.note ?? '', `${shown.length} of 2000 points shown`);
});

test('downsampleMinMax: each bucket keeps its first, min, max and last point once, in time order; a gap stays a gap', () => {
  const values = [5, 9, 1, 4, 4, 4, 4, 3, 1, null, 7, 7, 7, 7, 7, 9];
  const points = values.map((v, i) => [i, v] as const);
  assert.equal(downsampleMinMax(points, 8), [[0, 5], [1, 9], [2, 1], [7, 3], [8, 1], [15, 9], [15, null]]);
  // min and max at the bucket's ends, and a constant bucket: each point once
  assert.equal(downsampleMinMax(Array.from({ length: 16 }, (_, i) => [i, i < 4 ? i : 2] as const), 8), [[0, 0], [3, 3], [7, 2], [8, 2], [15, 2]]);
  // a bucket of nothing known: its ends, then the gap
  assert.equal(downsampleMinMax(Array.from({ length: 16 }, (_, i) => [i, i < 8 ? null : 1] as const), 8), [[0, null], [7, null], [8, 1], [15, 1]]);
  assert.equal(downsampleMinMax(points, 20), points, 'short series untouched');
});

// ---- Legends of label-set lines: named by what differs, what is shared said once ----

/** A midolman step's labels, as the scenario's normalize writes them. */
const stepLabels = (phase: string, step: number, offered: number, mode = 'linear') => ({ mode, phase, step: String(step), offered_pps: String(offered) });
/** A trend line per label set (its full label as the trends page gives it), three sweeps each. */
const trendLines = (sets: readonly Record<string, string>[]) =>
  sets.map((labels, k) => ({ label: labelsText(labels), labels, points: [0, 1, 2].map((i) => ({ at: day(i), value: 100 + k * 10 + i, sweepId: `s${i}`, jobId: 'j', href: `j${i}.html` })) }));
const legendOf = (chart: { drawing?: unknown }) => (chart.drawing as { legends: DrawnLegend[] }).legends[0]!;
/** The spec's line layer's colour encoding (a trend's first layer; a job series' own encoding). */
const colorOf = (spec: VlSpec) => ((spec['layer'] as Layer[] | undefined)?.[0] ?? (spec as Layer)).encoding!['color']! as { field: string; scale: { domain: string[] }; legend: Record<string, unknown> };
/** Legend entry texts as Vega itself renders the spec (labelExpr applied): the texts with an "=". */
const vegaLegendTexts = async (spec: VlSpec) => texts(await renderSvg(spec, 't')).filter((t) => t.includes('=') && !t.includes(' is better'));

test('trend legend: 8 lines sharing mode and phase are named by offered_pps and step, whole and distinct; the shared labels are said once', async () => {
  const sets = [1, 2, 3, 4, 5, 6, 7, 8].map((step) => stepLabels('long-running', step, 1000 * step));
  const lines = trendLines(sets);
  const chart = trendChart({ id: 'm', metric: 'agent.cpu', unit: '%', better: 'lower', lines, changes: [{ at: day(1), kind: 'regression', label: lines[2]!.label, change: '+20.0 %' }] });
  const full = lines.map((l) => l.label).sort();
  const want = full.map((label) => { const l = sets.find((s) => labelsText(s) === label)!; return `offered_pps=${l.offered_pps}, step=${l.step}`; });
  const legend = legendOf(chart);
  assert.equal(legend.entries.map((e) => e.label), want, 'named by what differs, in the colour order (sorted full labels)');
  assert.is(legend.placement ?? 'right', 'right', 'short names stay right of the plot');
  const svg = drawChart(chart.drawing!);
  const drawnTexts = texts(svg);
  for (const name of want) assert.ok(drawnTexts.includes(name), `"${name}" drawn whole: ${drawnTexts.join(' | ')}`);
  assert.not.ok(drawnTexts.some((t) => t.includes('…')), 'nothing cut');
  assert.is(chart.drawing?.kind === 'lines' && chart.drawing.subtitle, 'lower is better · every line: mode=linear, phase=long-running');
  assert.is(drawnTexts.filter((t) => t.includes('phase=long-running')).length, 1, 'the shared labels once');
  // the data keeps the full label: downloads, shown rows, point tips, change marks
  assert.equal([...new Set(chart.rows.map((r) => r['series']))].sort(), full);
  assert.equal([...new Set((chart.spec['data'] as { values: { series: string }[] }).values.map((r) => r.series))].sort(), full);
  const drawnLines = chart.drawing?.kind === 'lines' ? chart.drawing.lines : [];
  assert.ok(drawnLines.every((l) => full.includes(l.label) && l.tips!.every((tip) => tip.startsWith(`${l.label}: `))), 'tips say the full label');
  assert.match(svg, `<title>regression +20.0 % (${lines[2]!.label})</title>`);
  // the interactive chart: colour and the legend-bound selection by the full label, the legend shows the names
  const color = colorOf(chart.spec);
  assert.is(color.field, 'series');
  assert.equal(color.scale.domain, full);
  assert.is(color.legend['labelExpr'], 'legendNames[datum.index]');
  assert.equal(chart.spec['params'], [{ name: 'legendNames', value: want }], 'the names are data, in the domain\'s order');
  const layer = (chart.spec['layer'] as Layer[])[0]! as { params: { name: string; select?: { fields?: string[] }; bind?: string }[] };
  assert.equal(layer.params.find((p) => p.name === 'pick'), { name: 'pick', select: { type: 'point', fields: ['series'] }, bind: 'legend' });
  assert.equal(vegaLiteWarnings(chart.spec), []);
  assert.equal(await vegaLegendTexts(chart.spec), want, 'Vega draws the same names, uncut');
});

test('trend colours: a chart of 20 lines (a midolman scan\'s steps) gives every line its own colour, the same in the drawing and in the spec', () => {
  const sets = [...[1, 2, 3, 4, 5, 6, 7, 8].map((step) => stepLabels('long-running', step, 3000)), ...Array.from({ length: 12 }, (_, i) => stepLabels('throughput', i + 1, 500 + 500 * (i + 1)))];
  const chart = trendChart({ id: 'm', metric: 'agent.cpu', unit: '%', better: 'lower', lines: trendLines(sets), changes: [] });
  const drawn = chart.drawing?.kind === 'lines' ? chart.drawing.lines.map((l) => l.color) : [];
  assert.is(drawn.length, 20);
  assert.is(new Set(drawn).size, 20, `distinct colours: ${drawn.join(' ')}`);
  const color = colorOf(chart.spec) as unknown as { scale: { domain: string[]; range: string[] } };
  const byLabel = new Map(chart.drawing?.kind === 'lines' ? chart.drawing.lines.map((l) => [l.label, l.color]) : []);
  assert.equal(color.scale.range, color.scale.domain.map((label) => byLabel.get(label)), 'the live chart colours each line as the drawing does');
});

test('trend legend: a chart of many lines says what its dashed rules are, above the plot in both views, and stays as wide as its card', async () => {
  const sets = [...[1, 2, 3, 4, 5, 6, 7, 8].map((step) => stepLabels('long-running', step, 3000)), ...[1, 2, 3, 4, 5, 6].map((step) => stepLabels('throughput', step, 500 + 500 * step))];
  const lines = trendLines(sets);
  const changes = [{ at: day(1), kind: 'regression' as const, label: lines[0]!.label, change: 'from 0' }, { at: day(2), kind: 'improvement' as const, label: lines[1]!.label, change: '-20.0 %' }];
  const chart = trendChart({ id: 'm', metric: 'agent.cpu', unit: '%', better: 'lower', lines, changes });
  const legends = (chart.drawing as { legends: DrawnLegend[] }).legends;
  const detected = legends.find((l) => l.title === 'detected');
  assert.ok(detected, 'the drawing has a "detected" legend');
  assert.is(detected!.placement, 'top');
  assert.equal(detected!.entries.map((e) => e.label), ['regression', 'improvement']);
  const svg = drawChart(chart.drawing!);
  assert.ok(texts(svg).includes('detected') && texts(svg).includes('regression'), texts(svg).join(' | '));
  assert.match(svg, '<title>regression from 0 (');
  const width = Number(/^<svg[^>]* width="(\d+)"/.exec(svg)![1]);
  assert.ok(width <= 1114, `drawn ${width} px wide: the card (site.css) holds 1,114`);
  const rule = (chart.spec['layer'] as Layer[])[1]!.encoding!['color'] as { legend: Record<string, unknown> | null };
  assert.equal(rule.legend, { orient: 'top', direction: 'horizontal', titleOrient: 'left' });
  assert.equal(vegaLiteWarnings(chart.spec), []);
  const vegaTexts = texts(await renderSvg(chart.spec, 't'));
  assert.ok(vegaTexts.includes('detected') && vegaTexts.includes('improvement'), `Vega draws the legend too: ${vegaTexts.join(' | ')}`);
});

test('trend legend: names too long for the right go below the plot in columns, none cut, the chart as wide as its card', async () => {
  // a midolman landing page: the throughput steps and the long-running bursts of a linear scan
  const sets = [...[1, 2, 3, 4, 5, 6, 7, 8].map((step) => stepLabels('long-running', step, 3000)), ...[1, 2, 3, 4, 5, 6].map((step) => stepLabels('throughput', step, 500 + 500 * step))];
  const chart = trendChart({ id: 'm', metric: 'agent.cpu', unit: '%', better: 'lower', lines: trendLines(sets), changes: [] });
  const legend = legendOf(chart);
  const names = legend.entries.map((e) => e.label);
  assert.ok(names.includes('offered_pps=3000, phase=long-running, step=8') && names.includes('offered_pps=1000, phase=throughput, step=1'), names.join(' | '));
  assert.is(new Set(names).size, sets.length);
  assert.is(legend.placement, 'bottom');
  assert.ok((legend.columns ?? 1) >= 2, 'several columns');
  const svg = drawChart(chart.drawing!);
  for (const name of names) assert.ok(texts(svg).includes(name), `"${name}" drawn whole`);
  const width = Number(/^<svg[^>]* width="(\d+)"/.exec(svg)![1]);
  assert.ok(width <= 1114, `drawn ${width} px wide: the card (site.css) holds 1,114`);
  const color = colorOf(chart.spec);
  assert.equal([color.legend['orient'], color.legend['columns']], ['bottom', legend.columns]);
  assert.equal(await vegaLegendTexts(chart.spec), names, 'Vega draws them whole too');
  // every key differs (an NDR host's long-running and search steps): the names are the full labels, still whole
  const apart = trendChart({ id: 'n', metric: 'agent.cpu', unit: '%', better: 'lower', changes: [], lines: trendLines([stepLabels('long-running', 1, 3000), stepLabels('throughput', 2, 2375, 'ndr')]) });
  assert.equal(legendOf(apart).entries.map((e) => e.label), ['mode=linear, offered_pps=3000, phase=long-running, step=1', 'mode=ndr, offered_pps=2375, phase=throughput, step=2']);
  assert.is(legendOf(apart).placement, 'bottom');
  assert.not.ok(texts(drawChart(apart.drawing!)).some((t) => t.includes('…')));
  assert.is(apart.drawing?.kind === 'lines' && apart.drawing.subtitle, 'lower is better', 'nothing shared');
  assert.not.ok('labelExpr' in colorOf(apart.spec).legend, 'the names are the labels: no expression');
});

test('trend legend: one line has no legend and says its labels in the subtitle; named lines (a matrix\'s points) keep their names', () => {
  const single = trendChart({ id: 's', metric: 'throughput.lossless_max', unit: 'pps', better: 'higher', changes: [], lines: trendLines([{ loss_threshold: '0' }]) });
  assert.equal(single.drawing?.kind === 'lines' && single.drawing.legends, []);
  assert.is((single.spec['title'] as { subtitle: string }).subtitle, 'higher is better · loss_threshold=0');
  assert.equal([...new Set(single.rows.map((r) => r['series']))], ['loss_threshold=0']);
  const none = trendChart({ id: 'n', metric: 'x', unit: 'count', better: 'none', changes: [], lines: trendLines([{}]).map((l) => ({ ...l, label: 'x' })) });
  assert.is((none.spec['title'] as { subtitle?: string }).subtitle, undefined);
  // kvm: lines named by point, no label sets: named as given, titled "point", right of the plot, no expression
  const points = ['smp1x2x1 · qcow2', 'smp1x2x1 · raw', 'smp2x2x1 · raw'];
  const kvm = trendChart({ id: 'k', metric: 'fio.bw', unit: 'KiB/s', better: 'higher', seriesTitle: 'point', changes: [], lines: trendLines(points.map(() => ({}))).map((l, i) => ({ label: points[i]!, points: l.points })) });
  const legend = legendOf(kvm);
  assert.equal([legend.title, legend.placement ?? 'right', legend.entries.map((e) => e.label)], ['point', 'right', points]);
  assert.not.ok('labelExpr' in colorOf(kvm.spec).legend);
  assert.not.ok('params' in kvm.spec);
  assert.is((kvm.spec['title'] as { subtitle: string }).subtitle, 'higher is better');
});

test('job series legend: the same names from the series\' labels; a scenario\'s own line names are kept', async () => {
  const series = [1, 2, 3, 4, 5, 6, 7, 8].map((step) => ({ metric: 'agent.cpu', unit: '%', better: 'lower' as const, labels: { collector: 'jmx', step: String(step) }, points: [[1, step], [2, step + 1]] as [number, number][] }));
  const [chart] = seriesCharts(series);
  const legend = legendOf(chart!);
  assert.equal(legend.entries.map((e) => e.label), series.map((s) => `step=${s.labels.step}`));
  assert.is((chart!.spec['title'] as { subtitle: string }).subtitle, 'lower is better · every line: collector=jmx');
  assert.equal([...new Set(chart!.rows.map((r) => r['series']))], series.map((s) => labelsText(s.labels)), 'the downloads keep the full labels');
  assert.equal(await vegaLegendTexts(chart!.spec), legend.entries.map((e) => e.label));
  assert.equal(vegaLiteWarnings(chart!.spec), []);
  const [named] = seriesCharts(series, (s) => `point ${s.labels.step}`, 'point');
  assert.equal(legendOf(named!).entries.map((e) => e.label), series.map((s) => `point ${s.labels.step}`));
  const direct = timeSeriesChart({ id: 't', metric: 'm', unit: '', better: 'none', series: series.map((s) => ({ label: labelsText(s.labels), points: s.points })) });
  assert.equal(legendOf(direct).entries.map((e) => e.label), series.map((s) => labelsText(s.labels)), 'without label sets the labels are the names');
});

test.run();
