// The site's own SVG writer (orchestrator/site/svg-chart/draw.ts): the pre-rendered view of the
// charts the builders in charts.ts give a drawing (trend lines, job series, phase timelines, the
// story charts). What a reader needs must be in it - titles, axis titles in the display unit,
// readable ticks (no SI prefix on a unit, no NaN, whole ticks for counts), a legend for several
// series, rules for detected changes and markers, links from trend points to their jobs - and
// host text must stay text. How it looks is checked in headless Chromium (browser.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { phaseTimelineChart, timeBandsChart, timeSeriesChart, trendChart, xyChart, type ChartSpec } from '../../orchestrator/site/charts.js';
import { coordinateText, drawChart } from '../../orchestrator/site/svg-chart/draw.js';

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
    changes: [{ at: day(1), kind: 'regression', label: 'a-point', relativeChange: -0.2 }],
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
