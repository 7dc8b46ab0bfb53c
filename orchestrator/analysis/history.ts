// Every metric's history across sweeps: one series per (host, scenario, metric, labels), read
// from the results store's summary samples (metrics.json "samples"; time series are per-job
// detail and are not part of a history). Only jobs whose manifest says ok are read.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { JobManifestSchema, isRerunJobId } from '../results/manifest.js';
import { MetricsFileSchema } from '../results/metrics.js';
import type { Better } from '../results/metrics.js';
import { listSweeps } from '../results/store.js';

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

/** Jobs of one sweep read at once. */
const CONCURRENCY = 32;

async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

async function readValidated<T>(
  path: string,
  schema: z.ZodType<T>,
): Promise<Parsed<T>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (error as Error).message };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not valid JSON (${(error as Error).message})` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    const more = parsed.error.issues.length > 5 ? `; and ${parsed.error.issues.length - 5} more` : '';
    return { ok: false, message: `invalid: ${issues.join('; ')}${more}` };
  }
  return { ok: true, value: parsed.data };
}

interface JobSamples {
  jobId: string;
  host: string;
  scenario: string;
  at: string;
  build: string | undefined;
  samples: { metric: string; value: number; unit: string; better: Better; labels: Record<string, string> }[];
}

async function readJob(sweepDir: string, jobId: string, problems: HistoryProblem[]): Promise<JobSamples | undefined> {
  const dir = join(sweepDir, 'jobs', jobId);
  const manifestPath = join(dir, 'manifest.json');
  const manifest = await readValidated(manifestPath, JobManifestSchema);
  if (!manifest.ok) {
    problems.push({ path: manifestPath, message: manifest.message });
    return undefined;
  }
  if (manifest.value.status !== 'ok') return undefined;
  // Confirmation re-runs are evidence about a night, not more nights of the history.
  if (manifest.value.rerunOf !== undefined || isRerunJobId(jobId)) return undefined;
  const metricsPath = join(dir, 'metrics.json');
  const metrics = await readValidated(metricsPath, MetricsFileSchema);
  if (!metrics.ok) {
    problems.push({ path: metricsPath, message: metrics.message });
    return undefined;
  }
  const { host, scenario, startedAt, endedAt, build } = manifest.value;
  return {
    jobId,
    host: host.name,
    scenario: scenario.name,
    at: startedAt ?? endedAt ?? '',
    build: build?.label,
    samples: metrics.value.samples,
  };
}

/**
 * Reads every sweep's ok jobs' metrics.json samples into one history per (host, scenario,
 * metric, labels). Unreadable or invalid manifests and metrics files are skipped and returned
 * in `problems`. Sweeps are read one after another (jobs within a sweep concurrently), so
 * memory holds the histories and one sweep's files at a time.
 */
export async function loadHistory(resultsDir: string): Promise<{ histories: MetricHistory[]; problems: HistoryProblem[] }> {
  const problems: HistoryProblem[] = [];
  const byKey = new Map<string, MetricHistory>();
  for (const sweepId of await listSweeps(resultsDir)) {
    const sweepDir = join(resultsDir, 'sweeps', sweepId);
    let jobIds: string[];
    try {
      const entries = await readdir(join(sweepDir, 'jobs'), { withFileTypes: true });
      jobIds = entries
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: join(sweepDir, 'jobs'), message: (error as Error).message });
      continue;
    }
    const jobs = await mapLimited(jobIds, CONCURRENCY, (jobId) => readJob(sweepDir, jobId, problems));
    for (const job of jobs) {
      if (!job) continue;
      for (const sample of job.samples) {
        const key: SeriesKey = { host: job.host, scenario: job.scenario, metric: sample.metric, labels: sample.labels };
        const canonical = canonicalKey(key);
        let history = byKey.get(canonical);
        if (!history) {
          const labels = Object.fromEntries(Object.keys(sample.labels).sort().map((name) => [name, sample.labels[name]!]));
          const sortedKey = { ...key, labels };
          history = { key: sortedKey, keyId: seriesKeyId(sortedKey), unit: sample.unit, better: sample.better, points: [] };
          byKey.set(canonical, history);
        }
        // The newest unit and direction win, should a scenario ever change them.
        history.unit = sample.unit;
        history.better = sample.better;
        history.points.push({ sweepId, jobId: job.jobId, at: job.at, value: sample.value, ...(job.build !== undefined ? { build: job.build } : {}) });
      }
    }
  }
  // Problems are reported in a stable order whatever order the reads finished in.
  problems.sort((p, q) => (p.path < q.path ? -1 : p.path > q.path ? 1 : 0));
  // Histories by host, scenario, metric and labels (the canonical key sorts that way).
  const histories = [...byKey.entries()].sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)).map(([, history]) => history);
  return { histories, problems };
}
