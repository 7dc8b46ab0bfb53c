// A job's comparison with the host x scenario's previous job (compare/<sweep>/<job>.html, .json,
// .csv), rendered from plain data so it runs in a render worker: both jobs' files are read and
// parsed there, and the per-metric thresholds arrive as a table (a worker cannot call the
// build's thresholdsFor). A metric the table lacks is reported back as missing (the build adds
// it and asks again) instead of being compared against thresholds nobody chose.
import type { SeriesKey } from '../analysis/history.js';
import { compareMetrics, type MetricComparison } from '../analysis/compare.js';
import type { Thresholds } from '../analysis/regressions.js';
import type { MetricsFile } from '../results/metrics.js';
import { toCsv } from './encode.js';
import { loadJob, type JobRef, type LoadedJob } from './load.js';
import { rel } from './names.js';
import type { OutFile } from './output.js';
import { page, type PageContext } from './page-context.js';
import { compareRows, environmentDiff } from './pages.js';
import { seriesLabeller } from './point-matrix.js';

/** The thresholds a comparison page uses: the page's own (host x scenario), and each metric's. */
export interface CompareThresholds {
  page: Thresholds;
  metrics: Record<string, Thresholds>;
}

export interface CompareInput {
  job: JobRef;
  previous: JobRef;
  thresholds: CompareThresholds;
}

/** The page's files, or the metrics whose thresholds the table did not carry. */
export type CompareResult = { files: OutFile[] } | { missingThresholds: string[] };

/** Per-metric thresholds: each metric's samples are compared with the thresholds configured for it. */
export function compareJobs(a: MetricsFile, b: MetricsFile, host: string, scenario: string, thresholdsFor: (key: SeriesKey) => Thresholds): MetricComparison[] {
  // each side's samples grouped by metric once, in their order (a filter per metric was metrics x samples)
  const byMetric = (file: MetricsFile) => {
    const groups = new Map<string, MetricsFile['samples']>();
    for (const sample of file.samples) {
      const group = groups.get(sample.metric);
      if (group) group.push(sample);
      else groups.set(sample.metric, [sample]);
    }
    return groups;
  };
  const ga = byMetric(a);
  const gb = byMetric(b);
  const metrics = [...new Set([...ga.keys(), ...gb.keys()])].sort();
  return metrics.flatMap((metric) =>
    compareMetrics(
      { ...a, samples: ga.get(metric) ?? [], series: [] },
      { ...b, samples: gb.get(metric) ?? [], series: [] },
      thresholdsFor({ host, scenario, metric, labels: {} }),
    ),
  );
}

const EMPTY_METRICS: MetricsFile = { schema: 'orchestrate/metrics@1', samples: [], series: [] };

function metricsOf(...files: (MetricsFile | null)[]): string[] {
  return [...new Set(files.flatMap((f) => (f?.samples ?? []).map((s) => s.metric)))];
}

/** `loadedJob`: the job's files when the caller has read them already (its job page reads them too). */
export async function renderCompare(ctx: PageContext, { job, previous, thresholds }: CompareInput, loadedJob?: LoadedJob): Promise<CompareResult> {
  const [a, b] = await Promise.all([loadJob(ctx.resultsDir, previous), loadedJob ?? loadJob(ctx.resultsDir, job)]);
  const missing = metricsOf(a.metrics, b.metrics).filter((metric) => !Object.hasOwn(thresholds.metrics, metric));
  if (missing.length > 0) return { missingThresholds: missing.sort() };
  const comparisons = compareJobs(a.metrics ?? EMPTY_METRICS, b.metrics ?? EMPTY_METRICS, job.host, job.scenario, (key) => thresholds.metrics[key.metric]!);
  const labelsOf = seriesLabeller([...(a.metrics?.samples ?? []), ...(b.metrics?.samples ?? [])].map((x) => ({ key: { host: job.host, scenario: job.scenario, labels: x.labels } })));
  const rows = compareRows(comparisons, (labels) => labelsOf({ host: job.host, scenario: job.scenario, labels }));
  const base = job.comparePage.replace(/\.html$/, '');
  const t = thresholds.page;
  const side = (ref: JobRef, loaded: LoadedJob) => ({ host: ref.host, scenario: ref.scenario, sweepId: ref.sweepId, at: loaded.manifest?.startedAt ?? ref.at, status: loaded.manifest?.status ?? ref.status, href: rel(job.comparePage, ref.page) });
  const html = page(ctx, './compare', job.comparePage, {
    title: `Compare ${job.host} · ${job.scenario}`,
    section: 'compare',
    a: side(previous, a),
    b: side(job, b),
    rows,
    env: environmentDiff(a.manifest, b.manifest),
    minRelativeChange: t.minRelativeChange,
    pValue: t.pValue,
    json: rel(job.comparePage, `${base}.json`),
    csv: rel(job.comparePage, `${base}.csv`),
  });
  const flat = rows.map((r) => ({ metric: r.metric, labels: r.labelsText, unit: r.unit, better: r.better, aN: r.a.n, aMean: r.a.mean, bN: r.b.n, bMean: r.b.mean, deltaPercent: r.deltaPercent, pValue: r.pValue, significant: r.significant, verdict: r.verdict }));
  return {
    files: [
      { path: job.comparePage, data: html },
      { path: `${base}.json`, data: `${JSON.stringify({ a: previous.key, b: job.key, comparisons })}\n` },
      { path: `${base}.csv`, data: toCsv(flat) },
    ],
  };
}
