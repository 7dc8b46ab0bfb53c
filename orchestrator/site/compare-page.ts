// A job's comparison with the host x scenario's previous job (compare/<sweep>/<job>.html, .json,
// .csv), rendered from plain data so it runs in a render worker: both jobs' files are read and
// parsed there, and the per-metric thresholds arrive as a table (a worker cannot call the
// build's thresholdsFor). A metric the table lacks is reported back as missing (the build adds
// it and asks again) instead of being compared against thresholds nobody chose.
import type { SeriesKey } from '../analysis/history.js';
import { compareMetrics, sampleCountText, testable, type MetricComparison, type Reading } from '../analysis/compare.js';
import type { Thresholds } from '../analysis/regressions.js';
import type { MetricsFile } from '../results/metrics.js';
import { toCsv } from './encode.js';
import { formatP as formatPValue, formatValue } from './format.js';
import { loadJob, type JobRef, type LoadedJob } from './load.js';
import { rel } from './names.js';
import type { OutFile } from './output.js';
import { page, type PageContext } from './page-context.js';
import { compareRows, environmentDiff, type CompareRow, type EnvDiff } from './pages.js';
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

/** Rows in the order a reader needs them: worse, better, changed, missing, same; tested before untested. */
const CALL_ORDER: Record<Reading['call'], number> = { worse: 0, better: 1, changed: 2, missing: 3, same: 4 };
function byReading(rows: CompareRow[]): CompareRow[] {
  return [...rows].sort(
    (x, y) =>
      CALL_ORDER[x.reading.call] - CALL_ORDER[y.reading.call] ||
      Number(y.reading.tested) - Number(x.reading.tested) ||
      x.metric.localeCompare(y.metric) ||
      x.labelsText.localeCompare(y.labelsText),
  );
}

/**
 * What the p cell says: the p-value where these sample counts could reach the threshold;
 * else "—" and why (p would be 1 for one sample each whatever the values, which reads as
 * "no change"). `note` is the reason, for the cell's small print.
 */
export function pText(c: Pick<MetricComparison, 'pValue' | 'minPValue' | 'a' | 'b'>, thresholds: Pick<Thresholds, 'pValue'>, formatP: (p: number | null) => string): { text: string; note: string } {
  if (c.pValue === null) return { text: '—', note: '' };
  if (testable(c, thresholds) === false) return { text: '—', note: `n/a: ${sampleCountText(c.a.n, c.b.n)}` };
  return { text: formatP(c.pValue), note: '' };
}

/** Δ's colour: the reading's call where the metric has a better direction and the change is not "same". */
export function deltaTone(reading: Reading): 'worse' | 'better' | '' {
  return reading.call === 'worse' || reading.call === 'better' ? reading.call : '';
}

/** The recorded environment as read: memory in its unit (as the job page says it), not raw kB. */
function readableEnv(env: EnvDiff): EnvDiff {
  const kib = (text: string) => (/^\d+$/.test(text) ? formatValue(Number(text), 'KiB') : text);
  return { ...env, rows: env.rows.map((r) => (r.field === 'memory (kB)' ? { ...r, field: 'memory', a: kib(r.a), b: kib(r.b) } : r)) };
}

/** "build 5.6.2 → 5.6.3 · kernel … · 3 packages (openvswitch 2.17 → 3.1, …)": the differences, one line. */
export function differsLine(env: EnvDiff, shownPackages = 3): string[] {
  const parts = env.rows.filter((r) => !r.same).map((r) => `${r.field} ${r.a} → ${r.b}`);
  if (env.packages.length > 0) {
    const named = env.packages.slice(0, shownPackages).map((p) => `${p.name} ${p.a ?? '(none)'} → ${p.b ?? '(none)'}`);
    const more = env.packages.length - named.length;
    parts.push(`${env.packages.length} package${env.packages.length === 1 ? '' : 's'}: ${named.join(', ')}${more > 0 ? `, ${more} more` : ''}`);
  }
  return parts;
}

/** `loadedJob`: the job's files when the caller has read them already (its job page reads them too). */
export async function renderCompare(ctx: PageContext, { job, previous, thresholds }: CompareInput, loadedJob?: LoadedJob): Promise<CompareResult> {
  const [a, b] = await Promise.all([loadJob(ctx.resultsDir, previous), loadedJob ?? loadJob(ctx.resultsDir, job)]);
  const missing = metricsOf(a.metrics, b.metrics).filter((metric) => !Object.hasOwn(thresholds.metrics, metric));
  if (missing.length > 0) return { missingThresholds: missing.sort() };
  const comparisons = compareJobs(a.metrics ?? EMPTY_METRICS, b.metrics ?? EMPTY_METRICS, job.host, job.scenario, (key) => thresholds.metrics[key.metric]!);
  const labelsOf = seriesLabeller([...(a.metrics?.samples ?? []), ...(b.metrics?.samples ?? [])].map((x) => ({ key: { host: job.host, scenario: job.scenario, labels: x.labels } })));
  const rows = byReading(compareRows(comparisons, (labels) => labelsOf({ host: job.host, scenario: job.scenario, labels })));
  const base = job.comparePage.replace(/\.html$/, '');
  const t = thresholds.page;
  const thresholdsOf = (metric: string) => thresholds.metrics[metric] ?? t;
  const env = readableEnv(environmentDiff(a.manifest, b.manifest));
  const side = (ref: JobRef, loaded: LoadedJob) => ({ host: ref.host, scenario: ref.scenario, sweepId: ref.sweepId, at: loaded.manifest?.startedAt ?? ref.at, status: loaded.manifest?.status ?? ref.status, href: rel(job.comparePage, ref.page) });
  const html = page(ctx, './compare', job.comparePage, {
    title: `Compare ${job.host} · ${job.scenario}`,
    section: 'compare',
    a: side(previous, a),
    b: side(job, b),
    rows,
    env,
    differs: differsLine(env),
    counts: { worse: rows.filter((r) => r.reading.call === 'worse').length, better: rows.filter((r) => r.reading.call === 'better').length, changed: rows.filter((r) => r.reading.call === 'changed').length, untested: rows.some((r) => r.reading.call !== 'missing' && r.reading.call !== 'same' && !r.reading.tested) },
    pText: (r: CompareRow) => pText(r, thresholdsOf(r.metric), (p) => formatPValue(p)),
    deltaTone,
    minRelativeChange: t.minRelativeChange,
    pValue: t.pValue,
    json: rel(job.comparePage, `${base}.json`),
    csv: rel(job.comparePage, `${base}.csv`),
  });
  const flat = rows.map((r) => ({ metric: r.metric, labels: r.labelsText, unit: r.unit, better: r.better, aN: r.a.n, aMean: r.a.mean, bN: r.b.n, bMean: r.b.mean, deltaPercent: r.deltaPercent, pValue: r.pValue, significant: r.significant, verdict: r.verdict, reading: r.reading.text }));
  return {
    files: [
      { path: job.comparePage, data: html },
      { path: `${base}.json`, data: `${JSON.stringify({ a: previous.key, b: job.key, comparisons })}\n` },
      { path: `${base}.csv`, data: toCsv(flat) },
    ],
  };
}
