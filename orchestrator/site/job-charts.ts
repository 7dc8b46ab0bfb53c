// Which charts a job page shows, by scenario name. A scenario registers a builder here;
// any other scenario gets the generic fallback, which
// charts every series (one chart per metric, a line per label set). Every job page also has
// its phase timeline and the table of every sample.
import type { JobManifest } from '../results/manifest.js';
import type { MetricsFile } from '../results/metrics.js';
import { itemBarsChart, stepBarsChart, type ChartSpec } from './charts.js';
import type { MetricSample } from '../results/metrics.js';
import { POINT_AXIS_LABELS, POINT_LABEL_NAMES, POINT_STEPS } from '../scenarios/kvm/points.js';
import { labelsText } from './format.js';
import { seriesCharts } from './series-charts.js';
import { midolmanJobCharts } from './midolman-charts.js';
import { midolmanSummary, type SummaryItem } from './midolman-summary.js';
import { slug } from './names.js';

export interface JobChartInput {
  manifest: JobManifest | null;
  metrics: MetricsFile | null;
}

export type JobChartBuilder = (job: JobChartInput) => ChartSpec[];

export const genericJobCharts: JobChartBuilder = (job) => seriesCharts(job.metrics?.series ?? []);

const KVM_STEPS: readonly string[] = POINT_STEPS;

/** Labels that say which point (or where the output came from), not what was measured. */
export const POINT_LABELS: ReadonlySet<string> = new Set<string>([...POINT_LABEL_NAMES, 'source', 'tcf', 'test']);

/** What a sample measured, without the labels that say which point or where it came from: "job=seq-read, rw=read". */
export function measuredText(labels: Record<string, string>): string {
  return labelsText(Object.fromEntries(Object.entries(labels).filter(([k]) => !POINT_LABELS.has(k))));
}
/** Bar charts of benchmark results across points shown at most (the samples table has them all). */
const MAX_POINT_COMPARISONS = 24;

/**
 * Short names for a job's points: only the axes that differ between them ("smp2x1x1-numa2 · r2"),
 * since point ids share most of their length and charts cut long labels. The full id when the
 * short names would not tell points apart.
 */
export function pointNames(samples: readonly Pick<MetricSample, 'labels'>[]): Map<string, string> {
  const axes = new Map<string, Record<string, string>>();
  for (const s of samples) {
    const point = s.labels['point'];
    if (!point) continue;
    const known = axes.get(point) ?? {};
    for (const a of POINT_AXIS_LABELS) if (known[a] === undefined && s.labels[a] !== undefined) known[a] = s.labels[a]!;
    axes.set(point, known);
  }
  const varying = POINT_AXIS_LABELS.filter((a) => new Set([...axes.values()].map((v) => v[a])).size > 1);
  const complete = [...axes.values()].every((v) => varying.every((a) => v[a] !== undefined));
  const show = (axis: string, value: string) => (axis === 'repetition' ? `r${value}` : axis === 'memory_mib' ? `${value} MiB` : value);
  const names = new Map([...axes].map(([point, v]) => [point, varying.map((a) => show(a, v[a]!)).join(' · ') || point]));
  return complete && new Set(names.values()).size === names.size ? names : new Map([...axes.keys()].map((p) => [p, p]));
}

/**
 * One bar chart per benchmark measurement (metric + the labels that say what was measured, such as
 * fio's job), a bar per matrix point: the comparison a matrix is run for. ctcs2 and QASET bookkeeping
 * (qaset.case.passed, qaset.cases.*) and the scenario's own kvm.* samples are left to the table.
 */
export function pointComparisonCharts(samples: readonly MetricSample[], names: ReadonlyMap<string, string> = pointNames(samples)): ChartSpec[] {
  const groups = new Map<string, { metric: string; unit: string; better: string; what: string; bars: { item: string; value: number; detail: string }[] }>();
  for (const s of samples) {
    const point = s.labels['point'];
    if (!point || s.metric.startsWith('kvm.') || s.metric.startsWith('ctcs2.') || s.metric.startsWith('qaset.')) continue;
    const what = measuredText(s.labels);
    const key = `${s.metric}\u0000${what}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { metric: s.metric, unit: s.unit, better: s.better, what, bars: [] }));
    g.bars.push({ item: names.get(point) ?? point, value: s.value, detail: point });
  }
  return [...groups.values()]
    .sort((a, b) => a.metric.localeCompare(b.metric) || a.what.localeCompare(b.what))
    .slice(0, MAX_POINT_COMPARISONS)
    .flatMap((g) => {
      const chart = itemBarsChart({
        id: `points-${slug(`${g.metric}-${g.what}`)}`,
        metric: g.metric,
        unit: g.unit,
        better: g.better,
        title: g.what ? `${g.metric} (${g.what})` : g.metric,
        bars: g.bars,
      });
      return chart ? [chart] : [];
    });
}

/** kvm: each matrix point's time by step, the benchmarks point against point, the host's series per point. */
export const kvmJobCharts: JobChartBuilder = (job) => {
  const samples = job.metrics?.samples ?? [];
  const names = pointNames(samples);
  const bars = samples
    .filter((s) => s.metric.startsWith('kvm.point.') && KVM_STEPS.includes(s.metric.slice('kvm.point.'.length)) && s.labels['point'])
    .sort((a, b) => KVM_STEPS.indexOf(a.metric.slice('kvm.point.'.length)) - KVM_STEPS.indexOf(b.metric.slice('kvm.point.'.length)))
    .map((s) => ({ item: names.get(s.labels['point']!) ?? s.labels['point']!, step: s.metric.slice('kvm.point.'.length), seconds: s.value }));
  const steps = stepBarsChart({
    id: 'kvm-point-steps',
    title: 'Time per matrix point',
    note: 'Points are named by the axes that differ between them. boot: start until the guest first reports (its QASET watcher); run: until QASET ends, reboots between cases included; the rest is the orchestrator\'s work around the guest.',
    bars,
  });
  const series = job.metrics?.series ?? [];
  const host = seriesCharts(series, (s) => (s.labels['point'] ? (names.get(s.labels['point']) ?? s.labels['point']) : labelsText(s.labels) || s.metric), series.some((s) => s.labels['point']) ? 'point' : undefined);
  return [...(steps ? [steps] : []), ...pointComparisonCharts(samples, names), ...host];
};

export const jobCharts: Record<string, JobChartBuilder> = {
  sysinfo: (job) => seriesCharts((job.metrics?.series ?? []).filter((s) => s.metric === 'host.cpu.busy')),
  kvm: kvmJobCharts,
  midolman: midolmanJobCharts,
};

export function chartsForJob(scenario: string, job: JobChartInput): ChartSpec[] {
  return (jobCharts[scenario] ?? genericJobCharts)(job);
}

/** The summary line at the top of a job page, by scenario (none for the others). */
export const jobSummaries: Record<string, (job: JobChartInput) => SummaryItem[]> = {
  midolman: midolmanSummary,
};

export function summaryForJob(scenario: string, job: JobChartInput): SummaryItem[] {
  return jobSummaries[scenario]?.(job) ?? [];
}

/** The numbers the sweeps index shows beside each job, by scenario: metric name and its label. */
export const jobHeadlines: Record<string, { metric: string; label: string }[]> = {
  sysinfo: [{ metric: 'host.cpu.busy.mean', label: 'CPU busy' }],
  midolman: [
    { metric: 'throughput.lossless_max', label: 'lossless' },
    { metric: 'throughput.ndr', label: 'NDR' },
  ],
  kvm: [
    { metric: 'kvm.points.done', label: 'points done' },
    { metric: 'qaset.outputs.unparsed', label: 'unparsed outputs' },
  ],
};
