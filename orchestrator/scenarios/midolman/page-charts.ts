// The charts of a midolman job page. The story, drawn side by side at the top (after the
// original perftests' six rrdtool graphs, rebuilt around the traffic's own measurements):
// offered vs sent vs delivered rate per step, loss vs offered rate with the NDR and the lossless
// maximum marked, one-way latency percentiles (and the agent's simulation latency) vs offered
// rate, the agent's CPU and RSS over time with the phases shaded, the JVM heap pools stacked
// (mem.png), long-running stability per burst, flow tables (wildflows/dpflows.png) and the
// agent's packet pipeline (throughput.png). Every other series follows, further down.
import type { JobManifest } from '../../results/manifest.js';
import type { MetricSeries } from '../../results/metrics.js';
import { timeBandsChart, xyChart, type ChartMarker, type ChartSpec, type TimeBand, type TimeLine, type XyLine } from '../../site/charts.js';
import { formatRate } from '../../site/format.js';
import { seriesCharts } from '../../site/series-charts.js';
import type { JobPageInput } from '../types.js';
import { midolmanResults, type MidolmanResults, type StepRow } from './page-results.js';

export const COLORS = {
  offered: '#757575',
  sent: '#1565c0',
  delivered: '#2e7d32',
  processed: '#8e24aa',
  loss: '#c62828',
  p50: '#1565c0',
  p90: '#ef6c00',
  p99: '#c62828',
  simP50: '#6a1b9a',
  simP99: '#ad1457',
  ndr: '#b71c1c',
  lossless: '#1b5e20',
  cpu: '#1565c0',
  hostCpu: '#9e9e9e',
  rss: '#6a1b9a',
  flowSetup: '#ef6c00',
  dpFlows: '#00838f',
} as const;

/** The measuring phases shaded behind the charts over time, and their colours. */
const BAND_COLORS: ReadonlyMap<string, string> = new Map([
  ['warm-up', '#ffe0b2'],
  ['throughput', '#bbdefb'],
  ['long-running', '#c8e6c9'],
]);

/** The job's measuring phases as bands (unix seconds), from the manifest's phase records. */
export function phaseBands(manifest: JobManifest | null): TimeBand[] {
  return (manifest?.phases ?? []).flatMap((p) => {
    if (!BAND_COLORS.has(p.name) || !p.startedAt || !p.endedAt) return [];
    const start = Date.parse(p.startedAt) / 1000;
    const end = Date.parse(p.endedAt) / 1000;
    return Number.isFinite(start) && end > start ? [{ label: p.name, start, end }] : [];
  });
}

/** The bands in their phases' colours (the site shades a band grey unless told its colour). */
function coloured(bands: readonly TimeBand[]): TimeBand[] {
  return bands.map((b) => ({ ...b, color: BAND_COLORS.get(b.label)! }));
}

const stepDetail = (s: StepRow) => `${s.phase === 'throughput' ? '' : `${s.phase} `}step ${s.step}${s.loss === undefined ? '' : ` · loss ${(s.loss * 100).toFixed(1)} %`}`;

/** NDR and lossless maximum as rules on a rate axis; one rule when they are the same rate. */
export function rateMarkers(r: MidolmanResults): ChartMarker[] {
  const ndr = r.ndr?.found ? r.ndr.pps : undefined;
  const lossless = r.losslessMax && r.losslessMax.pps > 0 ? r.losslessMax.pps : undefined;
  if (ndr !== undefined && ndr === lossless) return [{ at: ndr, label: `NDR = lossless max ${formatRate(ndr)}`, color: COLORS.ndr }];
  return [
    ...(ndr !== undefined ? [{ at: ndr, label: `NDR ${formatRate(ndr)}`, color: COLORS.ndr }] : []),
    ...(lossless !== undefined ? [{ at: lossless, label: `lossless max ${formatRate(lossless)}`, color: COLORS.lossless }] : []),
  ];
}

function stepLine(label: string, steps: readonly StepRow[], value: (s: StepRow) => number | undefined, color: string, extra: Partial<XyLine> = {}): XyLine {
  return { label, color, points: steps.map((s) => ({ x: s.offered, y: value(s) ?? null, detail: stepDetail(s) })), ...extra };
}

const RATE_AXIS = { title: 'offered rate', unit: 'pps', zero: false };

export function ratesChart(r: MidolmanResults): ChartSpec | undefined {
  const steps = r.throughput;
  if (!steps.some((s) => s.delivered !== undefined)) return undefined;
  return xyChart({
    id: 'mm-rates',
    title: 'Offered, sent and delivered rate per step',
    subtitle: 'delivered: counted at the destination',
    x: RATE_AXIS,
    y: { title: 'rate', unit: 'pps' },
    lines: [
      stepLine('offered', steps, (s) => s.offered, COLORS.offered, { dashed: true }),
      // drawn in this order: the delivered line over the agent's count, which usually matches it
      stepLine('processed by agent (JMX)', steps, (s) => s.processed, COLORS.processed, { dashed: true }),
      stepLine('sent (achieved)', steps, (s) => s.achieved, COLORS.sent),
      stepLine('delivered', steps, (s) => s.delivered, COLORS.delivered),
    ],
    markers: rateMarkers(r),
    placement: 'story',
  });
}

export function lossChart(r: MidolmanResults): ChartSpec | undefined {
  const steps = r.throughput;
  if (!steps.some((s) => s.loss !== undefined)) return undefined;
  const threshold = r.ndr?.lossThreshold ?? r.losslessMax?.lossThreshold ?? 0;
  return xyChart({
    id: 'mm-loss',
    title: 'Loss vs offered rate',
    subtitle: threshold > 0 ? `no-drop threshold ${Number((threshold * 100).toPrecision(3))} % of the packets sent` : 'lossless means no packet lost',
    x: RATE_AXIS,
    y: { title: 'loss', unit: '%', includes: [0, 1] },
    lines: [stepLine('loss', steps, (s) => (s.loss === undefined ? undefined : s.loss * 100), COLORS.loss)],
    markers: rateMarkers(r),
    levels: threshold > 0 ? [{ at: threshold * 100, label: `threshold ${Number((threshold * 100).toPrecision(3))} %`, color: COLORS.ndr }] : [],
    placement: 'story',
  });
}

export function latencyChart(r: MidolmanResults): ChartSpec | undefined {
  const steps = r.throughput;
  const us = (v: number | undefined) => (v === undefined || v <= 0 ? undefined : v / 1000);
  const lines = [
    stepLine('p50', steps, (s) => us(s.p50), COLORS.p50),
    stepLine('p90', steps, (s) => us(s.p90), COLORS.p90),
    stepLine('p99', steps, (s) => us(s.p99), COLORS.p99),
    stepLine('agent p50 (JMX)', steps, (s) => us(s.simP50), COLORS.simP50, { dashed: true }),
    stepLine('agent p99 (JMX)', steps, (s) => us(s.simP99), COLORS.simP99, { dashed: true }),
  ];
  const values = lines.flatMap((l) => l.points.map((p) => p.y).filter((v): v is number => v !== null));
  if (values.length === 0) return undefined;
  const log = Math.max(...values) / Math.min(...values) > 30;
  return xyChart({
    id: 'mm-latency',
    title: 'Latency percentiles vs offered rate',
    subtitle: `one-way solid, agent simulation dashed${log ? '; log scale' : ''}`,
    x: RATE_AXIS,
    y: { title: 'latency', unit: 'µs', scale: log ? 'log' : 'linear' },
    lines,
    markers: rateMarkers(r),
    placement: 'story',
  });
}

function seriesOf(series: readonly MetricSeries[], metric: string): MetricSeries | undefined {
  return series.find((s) => s.metric === metric);
}

export function agentChart(series: readonly MetricSeries[], bands: readonly TimeBand[]): ChartSpec | undefined {
  const cpu = seriesOf(series, 'proc.agent.cpu_percent');
  const host = seriesOf(series, 'proc.host.cpu_busy_percent');
  const rss = seriesOf(series, 'proc.agent.rss_bytes');
  const lines: TimeLine[] = [
    ...(cpu ? [{ label: 'agent CPU (%)', points: cpu.points, color: COLORS.cpu }] : []),
    ...(host ? [{ label: 'host CPU (%)', points: host.points, color: COLORS.hostCpu, dashed: true }] : []),
    ...(rss ? [{ label: 'agent RSS', points: rss.points, color: COLORS.rss, axis: 'right' as const }] : []),
  ];
  if (!cpu && !rss) return undefined;
  return timeBandsChart({
    id: 'mm-agent',
    title: 'Agent CPU and RSS over time',
    subtitle: 'from /proc every second; CPU in % of one CPU',
    y: { title: 'CPU', unit: '%' },
    y2: { title: 'RSS', unit: 'bytes', zero: false },
    lines,
    bands,
    placement: 'story',
  });
}

const HEAP_POOL = /eden|survivor|old|tenured/i;
const POOL_COLORS: [RegExp, string][] = [
  [/old|tenured/i, '#ffb74d'],
  [/survivor/i, '#4fc3f7'],
  [/eden/i, '#81c784'],
];

/** `jmx.jvm.pool.<name>.used` series, with the pool's name as the JVM spells it (the collector's _ back to spaces). */
export function poolSeries(series: readonly MetricSeries[]): { name: string; heap: boolean; series: MetricSeries }[] {
  return series.flatMap((s) => {
    const m = /^jmx\.jvm\.pool\.(.+)\.used$/.exec(s.metric);
    if (!m) return [];
    const name = m[1]!.replace(/_+/g, ' ').trim();
    return [{ name, heap: HEAP_POOL.test(name), series: s }];
  });
}

export function heapChart(series: readonly MetricSeries[], bands: readonly TimeBand[]): ChartSpec | undefined {
  const pools = poolSeries(series)
    .filter((p) => p.heap)
    // old generation at the bottom, survivor, then eden on top (as mem.png stacked them)
    .sort((a, b) => POOL_COLORS.findIndex(([re]) => re.test(a.name)) - POOL_COLORS.findIndex(([re]) => re.test(b.name)) || a.name.localeCompare(b.name));
  const committed = seriesOf(series, 'jmx.jvm.heap.committed');
  const used = seriesOf(series, 'jmx.jvm.heap.used');
  const lines: TimeLine[] = pools.map((p) => ({ label: p.name, points: p.series.points, color: POOL_COLORS.find(([re]) => re.test(p.name))?.[1] ?? '#bdbdbd', stacked: true }));
  // without pools, the heap's total use stands in for them
  if (lines.length === 0 && used) lines.push({ label: 'heap used', points: used.points, color: '#81c784', stacked: true });
  if (lines.length === 0) return undefined;
  if (committed) lines.push({ label: 'heap committed', points: committed.points, color: '#424242', dashed: true });
  return timeBandsChart({
    id: 'mm-heap',
    title: 'JVM heap pools over time',
    subtitle: 'used per pool, stacked; over JMX every second',
    y: { title: 'heap', unit: 'bytes' },
    lines,
    bands,
    placement: 'story',
  });
}

export function longRunningChart(r: MidolmanResults): ChartSpec | undefined {
  const bursts = r.longRunning;
  if (!bursts.some((s) => s.delivered !== undefined)) return undefined;
  const line = (label: string, value: (s: StepRow) => number | undefined, color: string, extra: Partial<XyLine> = {}): XyLine => ({
    label,
    color,
    points: bursts.map((s) => ({ x: s.step, y: value(s) ?? null, detail: stepDetail(s) })),
    ...extra,
  });
  const us = (v: number | undefined) => (v === undefined || v <= 0 ? undefined : v / 1000);
  return xyChart({
    id: 'mm-long-running',
    title: 'Long-running stability',
    subtitle: `${bursts.length} burst(s) at ${formatRate(bursts[0]!.offered)}`,
    x: { title: 'long-running burst', format: 'd', zero: false },
    y: { title: 'rate', unit: 'pps', zero: true },
    y2: { title: 'one-way latency', unit: 'µs' },
    lines: [
      line('offered', (s) => s.offered, COLORS.offered, { dashed: true }),
      line('delivered', (s) => s.delivered, COLORS.delivered),
      line('p50 latency', (s) => us(s.p50), COLORS.p50, { axis: 'right' }),
      line('p99 latency', (s) => us(s.p99), COLORS.p99, { axis: 'right' }),
    ],
    placement: 'story',
  });
}

/**
 * The datapath per step (ovs_* topologies, where every probe is a new flow): flow-setup rate next
 * to the delivered rate (both per second, left), loss and the agent's CPU (%, right) vs offered rate.
 */
export function flowSetupChart(r: MidolmanResults): ChartSpec | undefined {
  const steps = r.throughput;
  if (!steps.some((s) => s.flowSetup !== undefined)) return undefined;
  return xyChart({
    id: 'mm-flow-setup',
    title: 'Flow setup vs delivered rate per step',
    subtitle: 'new datapath flows per second of each burst (a probe and its answer: two flows); loss and agent CPU on the right',
    x: RATE_AXIS,
    y: { title: 'per second', unit: '/s' },
    y2: { title: 'loss, agent CPU', unit: '%' },
    lines: [
      stepLine('delivered (pps)', steps, (s) => s.delivered, COLORS.delivered),
      stepLine('flow setup (flows/s)', steps, (s) => s.flowSetup, COLORS.flowSetup),
      stepLine('loss (%)', steps, (s) => (s.loss === undefined ? undefined : s.loss * 100), COLORS.loss, { axis: 'right', dashed: true }),
      stepLine('agent CPU (%)', steps, (s) => s.agentCpu, COLORS.cpu, { axis: 'right', dashed: true }),
    ],
    markers: rateMarkers(r),
    placement: 'story',
  });
}

/** Datapath flows at the end of each step next to the probes' delivered rate: the flow table grows with the probes. */
export function datapathFlowsStepChart(r: MidolmanResults): ChartSpec | undefined {
  const steps = r.throughput;
  if (!steps.some((s) => s.dpFlows !== undefined)) return undefined;
  return xyChart({
    id: 'mm-datapath-flows',
    title: 'Datapath flows per step',
    subtitle: 'flows in the datapath at the end of each burst (it starts empty); delivered rate on the right',
    x: RATE_AXIS,
    y: { title: 'flows' },
    y2: { title: 'delivered', unit: 'pps' },
    lines: [
      stepLine('datapath flows', steps, (s) => s.dpFlows, COLORS.dpFlows),
      stepLine('delivered (pps)', steps, (s) => s.delivered, COLORS.delivered, { axis: 'right', dashed: true }),
    ],
    markers: rateMarkers(r),
    placement: 'story',
  });
}

/** The datapath over time (ovs_*): flows, upcalls per second and lost upcalls per second. */
export function datapathChart(series: readonly MetricSeries[], bands: readonly TimeBand[]): ChartSpec | undefined {
  const flows = seriesOf(series, 'datapath.dp.flows');
  const upcalls = seriesOf(series, 'datapath.dp.missed');
  const lost = seriesOf(series, 'datapath.dp.lost');
  const socketDrops = seriesOf(series, 'datapath.dp.socket_drops');
  if (!flows && !upcalls) return undefined;
  return timeBandsChart({
    id: 'mm-datapath',
    title: 'The datapath over time',
    subtitle: "every second: flows (dpctl/show); upcalls, lost upcalls and packets dropped at the switch's sockets (ss) per second",
    y: { title: 'flows' },
    y2: { title: 'per second', unit: '/s' },
    lines: [
      ...(flows ? [{ label: 'datapath flows', points: flows.points, color: COLORS.dpFlows }] : []),
      ...(upcalls ? [{ label: 'upcalls (/s)', points: upcalls.points, color: COLORS.flowSetup, axis: 'right' as const }] : []),
      ...(lost ? [{ label: 'upcalls lost (/s)', points: lost.points, color: COLORS.loss, dashed: true, axis: 'right' as const }] : []),
      ...(socketDrops ? [{ label: "dropped at the switch's sockets (/s)", points: socketDrops.points, color: COLORS.ndr, axis: 'right' as const }] : []),
    ],
    bands,
    placement: 'story',
  });
}

export function flowsChart(series: readonly MetricSeries[], bands: readonly TimeBand[]): ChartSpec | undefined {
  const datapath = seriesOf(series, 'jmx.flows.datapath');
  const wildcard = seriesOf(series, 'jmx.flows.wildcard');
  const created = seriesOf(series, 'jmx.flows.wildcard_created');
  if (!datapath && !wildcard) return undefined;
  return timeBandsChart({
    id: 'mm-flows',
    title: 'Flow tables over time',
    subtitle: 'as the agent exposes them over JMX',
    y: { title: 'flows' },
    y2: { title: 'created (flows/s)' },
    lines: [
      ...(datapath ? [{ label: 'datapath flows', points: datapath.points, color: '#1565c0' }] : []),
      ...(wildcard ? [{ label: 'wildcard flows', points: wildcard.points, color: '#2e7d32' }] : []),
      ...(created ? [{ label: 'wildcard flows created (/s)', points: created.points, color: '#ef6c00', dashed: true, axis: 'right' as const }] : []),
    ],
    bands,
    placement: 'story',
  });
}

export function pipelineChart(series: readonly MetricSeries[], bands: readonly TimeBand[]): ChartSpec | undefined {
  const parts: [string, string, string][] = [
    ['jmx.packets_processed', 'processed', '#1565c0'],
    ['jmx.packets_simulated', 'simulated', '#2e7d32'],
    ['jmx.packets_dropped', 'dropped', '#c62828'],
  ];
  const lines = parts.flatMap(([metric, label, color]) => {
    const s = seriesOf(series, metric);
    return s && s.unit === 'pps' ? [{ label, points: s.points, color }] : [];
  });
  if (lines.length === 0) return undefined;
  return timeBandsChart({
    id: 'mm-pipeline',
    title: "The agent's packet pipeline over time",
    subtitle: 'packets per second, over JMX',
    y: { title: 'rate', unit: 'pps' },
    lines,
    bands,
    placement: 'story',
  });
}

/** Series the story and the grouped charts below it already show. */
const SHOWN = /^(proc\.agent\.(cpu_percent|rss_bytes)|proc\.host\.cpu_busy_percent|jmx\.jvm\.heap\.(used|committed)|jmx\.jvm\.pool\..+\.used|jmx\.flows\.(datapath|wildcard|wildcard_created)|jmx\.packets_(processed|simulated|dropped)|jmx\.sim_latency\..+|proc\.if\..+|datapath\.dp\.(flows|missed|lost|socket_drops))$/;

function simulationLatencyChart(series: readonly MetricSeries[], bands: readonly TimeBand[]): ChartSpec | undefined {
  const order = ['p50', 'p75', 'p95', 'p98', 'p99', 'p999', 'mean'];
  const palette = ['#1565c0', '#00838f', '#ef6c00', '#f9a825', '#c62828', '#6d4c41', '#616161'];
  const found = series
    .map((s) => ({ s, q: /^jmx\.sim_latency\.(.+)$/.exec(s.metric)?.[1] }))
    .filter((x): x is { s: MetricSeries; q: string } => x.q !== undefined && x.s.unit === 'ns')
    .sort((a, b) => (order.indexOf(a.q) + 99) % 99 - ((order.indexOf(b.q) + 99) % 99) || a.q.localeCompare(b.q));
  if (found.length === 0) return undefined;
  return timeBandsChart({
    id: 'mm-simulation-latency',
    title: "The agent's simulation latency over time",
    subtitle: 'PacketPipelineHistogram over JMX (latency.png of the original)',
    y: { title: 'simulation latency', unit: 'ns' },
    lines: found.map(({ s, q }, i) => ({ label: q, points: s.points, color: palette[order.indexOf(q)] ?? palette[i % palette.length]!, dashed: q === 'mean' })),
    bands,
  });
}

function nonHeapChart(series: readonly MetricSeries[], bands: readonly TimeBand[]): ChartSpec | undefined {
  const pools = poolSeries(series).filter((p) => !p.heap);
  if (pools.length === 0) return undefined;
  const palette = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#c62828', '#6d4c41', '#616161'];
  return timeBandsChart({
    id: 'mm-non-heap',
    title: 'JVM non-heap pools over time',
    y: { title: 'used', unit: 'bytes' },
    lines: pools.map((p, i) => ({ label: p.name, points: p.series.points, color: palette[i % palette.length]! })),
    bands,
  });
}

function interfacesChart(series: readonly MetricSeries[], bands: readonly TimeBand[]): ChartSpec | undefined {
  const found = series.filter((s) => /^proc\.if\./.test(s.metric));
  if (found.length === 0) return undefined;
  const palette = ['#1565c0', '#64b5f6', '#2e7d32', '#81c784', '#ef6c00', '#6a1b9a'];
  return timeBandsChart({
    id: 'mm-interfaces',
    title: "The topology's bound interfaces",
    subtitle: 'kernel packet counters of the source and destination bindings',
    y: { title: 'rate', unit: found[0]!.unit || 'pps' },
    lines: found.map((s, i) => ({ label: s.metric.replace(/^proc\.if\./, '').replace('.', ' '), points: s.points, color: palette[i % palette.length]! })),
    bands,
  });
}

/** Every other series, one chart per metric (a line per label set). */
function remainingCharts(series: readonly MetricSeries[]): ChartSpec[] {
  return seriesCharts(series.filter((s) => !SHOWN.test(s.metric) && s.labels['source'] !== 'steps'));
}

export function midolmanJobCharts(job: JobPageInput): ChartSpec[] {
  const series = job.metrics?.series ?? [];
  const results = midolmanResults(job.metrics);
  const bands = coloured(phaseBands(job.manifest));
  const charts = [
    ratesChart(results),
    lossChart(results),
    latencyChart(results),
    flowSetupChart(results),
    datapathFlowsStepChart(results),
    agentChart(series, bands),
    datapathChart(series, bands),
    heapChart(series, bands),
    longRunningChart(results),
    flowsChart(series, bands),
    pipelineChart(series, bands),
    simulationLatencyChart(series, bands),
    nonHeapChart(series, bands),
    interfacesChart(series, bands),
  ];
  return [...charts.filter((c): c is ChartSpec => c !== undefined), ...remainingCharts(series)];
}
