// Which charts a job page shows, by scenario name. A scenario registers a builder here
// (midolman and kvm will add theirs); any other scenario gets the generic fallback, which
// charts every series (one chart per metric, a line per label set). Every job page also has
// its phase timeline and the table of every sample.
import type { JobManifest } from '../results/manifest.js';
import type { MetricSeries, MetricsFile } from '../results/metrics.js';
import { timeSeriesChart, type ChartSpec } from './charts.js';
import { labelsText } from './format.js';
import { slug } from './names.js';

export interface JobChartInput {
  manifest: JobManifest | null;
  metrics: MetricsFile | null;
}

export type JobChartBuilder = (job: JobChartInput) => ChartSpec[];

/** Line charts of the given series, grouped by metric name. */
export function seriesCharts(series: readonly MetricSeries[]): ChartSpec[] {
  const byMetric = new Map<string, MetricSeries[]>();
  for (const s of series) byMetric.set(s.metric, [...(byMetric.get(s.metric) ?? []), s]);
  return [...byMetric.entries()].map(([metric, group]) =>
    timeSeriesChart({
      id: `series-${slug(metric)}`,
      metric,
      unit: group[0]!.unit,
      better: group[0]!.better,
      series: group.map((s) => ({ label: labelsText(s.labels) || metric, points: s.points })),
    }),
  );
}

export const genericJobCharts: JobChartBuilder = (job) => seriesCharts(job.metrics?.series ?? []);

export const jobCharts: Record<string, JobChartBuilder> = {
  sysinfo: (job) => seriesCharts((job.metrics?.series ?? []).filter((s) => s.metric === 'host.cpu.busy')),
};

export function chartsForJob(scenario: string, job: JobChartInput): ChartSpec[] {
  return (jobCharts[scenario] ?? genericJobCharts)(job);
}

/** The numbers the sweeps index shows beside each job, by scenario: metric name and its label. */
export const jobHeadlines: Record<string, { metric: string; label: string }[]> = {
  sysinfo: [{ metric: 'host.cpu.busy.mean', label: 'CPU busy' }],
  midolman: [
    { metric: 'throughput.lossless_max', label: 'lossless' },
    { metric: 'throughput.ndr', label: 'NDR' },
  ],
};
