// Every metric's history across sweeps: one series per (host, scenario, metric, labels), read
// from the results store's summary samples (metrics.json "samples"; time series are per-job
// detail and are not part of a history). Only jobs whose manifest says ok count; what each job
// gives is read through the store's history index (results/history-index.ts).
import { createHash } from 'node:crypto';
import type { Better } from '../results/metrics.js';
import { JOB_MANIFEST_FILE, jobPaths, listSweeps, readIndexedSweep } from '../results/store.js';

export interface SeriesKey {
  host: string;
  scenario: string;
  metric: string;
  labels: Record<string, string>;
}

export interface HistoryPoint {
  sweepId: string;
  jobId: string;
  /** ISO start of the job. */
  at: string;
  value: number;
  /** The build of the software under test the job measured (manifest.build.label), when it names one. */
  build?: string;
}

export interface MetricHistory {
  key: SeriesKey;
  /** Stable, URL-safe id: the first 12 hex digits of sha1(canonical JSON of the key). */
  keyId: string;
  unit: string;
  better: Better;
  /** Chronological by sweepId (then jobId, then order in the file). */
  points: HistoryPoint[];
}

export interface HistoryProblem {
  path: string;
  message: string;
}

/** Canonical JSON of a key: fixed field order, labels sorted by name. */
export function canonicalKey(key: SeriesKey): string {
  const labels = Object.keys(key.labels)
    .sort()
    .map((name) => [name, key.labels[name]!]);
  return JSON.stringify([key.host, key.scenario, key.metric, labels]);
}

export function seriesKeyId(key: SeriesKey): string {
  return createHash('sha1').update(canonicalKey(key)).digest('hex').slice(0, 12);
}

/**
 * Every sweep's ok jobs' metrics.json samples as one history per (host, scenario, metric,
 * labels), through the store's history index (each job's entry checked against its files and
 * read from them when missing or stale). Unreadable or invalid manifests and metrics files are
 * skipped and returned in `problems`. Memory holds the histories and one sweep's entries.
 */
export async function loadHistory(resultsDir: string): Promise<{ histories: MetricHistory[]; problems: HistoryProblem[] }> {
  const problems: HistoryProblem[] = [];
  const byKey = new Map<string, MetricHistory>();
  const canonicals = new Map<MetricHistory, string>();
  for (const sweepId of await listSweeps(resultsDir)) {
    const sweep = await readIndexedSweep(resultsDir, sweepId);
    if (sweep.listProblem) problems.push(sweep.listProblem);
    for (const job of sweep.jobs) {
      if (job.kind === 'problem') {
        const files = jobPaths(resultsDir, sweepId, job.jobId);
        problems.push({ path: job.problem!.file === JOB_MANIFEST_FILE ? files.manifest : files.metrics, message: job.problem!.message });
        continue;
      }
      if (job.kind !== 'history') continue;
      for (const sample of job.samples ?? []) {
        // the series' lookup key: cheap to make (most samples have no labels); the canonical key only for a new series
        const names = Object.keys(sample.labels);
        const lookup = `${job.host}\0${job.scenario}\0${sample.metric}\0${names.length === 0 ? '' : JSON.stringify(names.sort().map((name) => [name, sample.labels[name]]))}`;
        let history = byKey.get(lookup);
        if (!history) {
          const key: SeriesKey = { host: job.host!, scenario: job.scenario!, metric: sample.metric, labels: sample.labels };
          const labels = Object.fromEntries(Object.keys(sample.labels).sort().map((name) => [name, sample.labels[name]!]));
          const sortedKey = { ...key, labels };
          history = { key: sortedKey, keyId: seriesKeyId(sortedKey), unit: sample.unit, better: sample.better, points: [] };
          byKey.set(lookup, history);
          canonicals.set(history, canonicalKey(sortedKey));
        }
        // The newest unit and direction win, should a scenario ever change them.
        history.unit = sample.unit;
        history.better = sample.better;
        history.points.push({ sweepId, jobId: job.jobId, at: job.at ?? '', value: sample.value, ...(job.build !== undefined ? { build: job.build } : {}) });
      }
    }
  }
  // Problems are reported in a stable order.
  problems.sort((p, q) => (p.path < q.path ? -1 : p.path > q.path ? 1 : 0));
  // Histories by host, scenario, metric and labels (the canonical key sorts that way).
  const histories = [...byKey.values()]
    .map((history) => [canonicals.get(history)!, history] as const)
    .sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))
    .map(([, history]) => history);
  return { histories, problems };
}
