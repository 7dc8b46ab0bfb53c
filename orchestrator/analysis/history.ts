// Every metric's history across sweeps: one series per (host, scenario, metric, labels), read
// from the results store's summary samples (metrics.json "samples"; time series are per-job
// detail and are not part of a history). Only jobs whose manifest says ok count; what each job
// gives is read through the store's history index (results/history-index.ts).
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Better } from '../results/metrics.js';
import { sweepSourcesKey, type IndexedSweep } from '../results/history-index.js';
import { JOB_MANIFEST_FILE, jobPaths, listSweeps, readIndexedSweep } from '../results/store.js';
import { readHistoryCache, writeHistoryCache, type CachedSweepHistory, type HistoryCache } from './history-cache.js';

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

export interface LoadHistoryOptions {
  /**
   * A directory (the site's) for the history cache (analysis/history-cache.ts): sweeps whose job
   * files are unchanged since it was written are taken from it, not read from the index again.
   */
  cacheDir?: string;
}

/** The histories being assembled, sweep by sweep, and what each sweep gave them (for the cache). */
class HistoryAssembly {
  readonly byKey = new Map<string, MetricHistory>();
  readonly canonicals = new Map<MetricHistory, string>();
  readonly problems: HistoryProblem[] = [];
  /** The cache being written: its tables and each sweep's contribution. */
  readonly series: HistoryCache['series'] = [];
  readonly seriesIndex = new Map<MetricHistory, number>();
  readonly units: HistoryCache['units'] = [];
  readonly unitIndex = new Map<string, number>();
  readonly sweeps: HistoryCache['sweeps'] = {};

  /**
   * Starts the tables of the cache to write from those of the cache read (only ever appended to),
   * so that the sweeps taken from it keep their indices. A series no sweep has any longer stays
   * in the table until a load without a cache: a few bytes per series.
   */
  constructor(previous: HistoryCache | undefined) {
    if (!previous) return;
    for (const entry of previous.series) this.series.push(entry);
    for (const entry of previous.units) this.units.push(entry);
    previous.units.forEach(([unit, better], i) => this.unitIndex.set(`${better}\0${unit}`, i));
  }

  /** The history of a series, made on its first sample (labels in any order). */
  historyOf(host: string, scenario: string, metric: string, labels: Record<string, string>, unit: string, better: Better): MetricHistory {
    // the series' lookup key: cheap to make (most samples have no labels); the canonical key only for a new series
    const names = Object.keys(labels);
    const lookup = `${host}\0${scenario}\0${metric}\0${names.length === 0 ? '' : JSON.stringify(names.sort().map((name) => [name, labels[name]]))}`;
    let history = this.byKey.get(lookup);
    if (!history) {
      const sorted = Object.fromEntries(Object.keys(labels).sort().map((name) => [name, labels[name]!]));
      const key: SeriesKey = { host, scenario, metric, labels: sorted };
      history = { key, keyId: seriesKeyId(key), unit, better, points: [] };
      this.byKey.set(lookup, history);
      this.canonicals.set(history, canonicalKey(key));
    }
    return history;
  }

  /** Adds a point; `record` (the sweep's flat points) gets it for the cache. */
  add(history: MetricHistory, unit: string, better: Better, point: HistoryPoint, jobIndex: number, record: number[] | undefined): void {
    // The newest unit and direction win, should a scenario ever change them.
    history.unit = unit;
    history.better = better;
    history.points.push(point);
    if (!record) return;
    let si = this.seriesIndex.get(history);
    if (si === undefined) {
      si = this.series.push([history.key.host, history.key.scenario, history.key.metric, history.key.labels]) - 1;
      this.seriesIndex.set(history, si);
    }
    const unitKey = `${better}\0${unit}`;
    let ui = this.unitIndex.get(unitKey);
    if (ui === undefined) {
      ui = this.units.push([unit, better]) - 1;
      this.unitIndex.set(unitKey, ui);
    }
    record.push(si, jobIndex, point.value, ui);
  }

  /** A sweep read through the history index. */
  read(sweepId: string, sweep: IndexedSweep, resultsDir: string, key: string | undefined): void {
    const problems: HistoryProblem[] = [];
    if (sweep.listProblem) problems.push(sweep.listProblem);
    const jobs: CachedSweepHistory['jobs'] = [];
    // a value JSON cannot carry (not finite) keeps the sweep out of the cache
    let record: number[] | undefined = key !== undefined ? [] : undefined;
    for (const job of sweep.jobs) {
      if (job.kind === 'problem') {
        const files = jobPaths(resultsDir, sweepId, job.jobId);
        problems.push({ path: job.problem!.file === JOB_MANIFEST_FILE ? files.manifest : files.metrics, message: job.problem!.message });
        continue;
      }
      if (job.kind !== 'history') continue;
      const at = job.at ?? '';
      const jobIndex = jobs.push([job.jobId, at, job.build ?? null]) - 1;
      for (const sample of job.samples ?? []) {
        if (record && !Number.isFinite(sample.value)) record = undefined;
        const history = this.historyOf(job.host!, job.scenario!, sample.metric, sample.labels, sample.unit, sample.better);
        this.add(history, sample.unit, sample.better, { sweepId, jobId: job.jobId, at, value: sample.value, ...(job.build !== undefined ? { build: job.build } : {}) }, jobIndex, record);
      }
    }
    this.problems.push(...problems);
    if (key !== undefined && record) this.sweeps[sweepId] = { key, jobs, problems, points: record };
  }

  /** A sweep from the cache, as it was read when it had the same job files. False if the cache is inconsistent (nothing added). */
  replay(sweepId: string, cached: CachedSweepHistory, cache: HistoryCache, histories: (MetricHistory | undefined)[]): boolean {
    const { points, jobs } = cached;
    if (points.length % 4 !== 0) return false;
    for (let i = 0; i < points.length; i += 4) {
      const si = points[i]!;
      const ui = points[i + 3]!;
      if (cache.series[si] === undefined || jobs[points[i + 1]!] === undefined || cache.units[ui] === undefined) return false;
    }
    for (let i = 0; i < points.length; i += 4) {
      const si = points[i]!;
      const [host, scenario, metric, labels] = cache.series[si]!;
      const [unit, better] = cache.units[points[i + 3]!]!;
      let history = histories[si];
      if (history === undefined) {
        history = histories[si] = this.historyOf(host, scenario, metric, labels, unit, better);
        if (!this.seriesIndex.has(history)) this.seriesIndex.set(history, si);
      }
      const jobIndex = points[i + 1]!;
      const [jobId, at, build] = jobs[jobIndex]!;
      this.add(history, unit, better, { sweepId, jobId, at, value: points[i + 2]!, ...(build !== null ? { build } : {}) }, jobIndex, undefined);
    }
    this.problems.push(...cached.problems);
    // its series and units keep their indices in the cache written next (the tables start as the cache's)
    this.sweeps[sweepId] = cached;
    return true;
  }
}

/**
 * Every sweep's ok jobs' metrics.json samples as one history per (host, scenario, metric,
 * labels), through the store's history index (each job's entry checked against its files and
 * read from them when missing or stale). Unreadable or invalid manifests and metrics files are
 * skipped and returned in `problems`. Memory holds the histories and one sweep's entries. With
 * `cacheDir`, a sweep whose job files are unchanged since the cache was written is taken from
 * it (the same points, in the same order).
 */
export async function loadHistory(resultsDir: string, options: LoadHistoryOptions = {}): Promise<{ histories: MetricHistory[]; problems: HistoryProblem[] }> {
  const absoluteResults = resolve(resultsDir);
  const cache = options.cacheDir !== undefined ? readHistoryCache(options.cacheDir, absoluteResults) : undefined;
  const assembly = new HistoryAssembly(cache);
  // the cache's series, once made, by their index in it
  const cachedHistories: (MetricHistory | undefined)[] = [];
  let changed = cache === undefined;
  const sweepIds = await listSweeps(resultsDir);
  for (const sweepId of sweepIds) {
    // the key is taken before the index is read: a file replaced in between is stale next time, never fresh with old content
    const key = options.cacheDir !== undefined ? sweepSourcesKey(resultsDir, sweepId) : undefined;
    const cached = cache?.sweeps[sweepId];
    if (cache && cached && key !== undefined && cached.key === key && assembly.replay(sweepId, cached, cache, cachedHistories)) continue;
    changed = true;
    assembly.read(sweepId, await readIndexedSweep(resultsDir, sweepId), resultsDir, key);
  }
  if (options.cacheDir !== undefined && (changed || Object.keys(cache!.sweeps).length !== sweepIds.length)) {
    await writeHistoryCache(options.cacheDir, { resultsDir: absoluteResults, series: assembly.series, units: assembly.units, sweeps: assembly.sweeps });
  }
  const problems = assembly.problems;
  // Problems are reported in a stable order.
  problems.sort((p, q) => (p.path < q.path ? -1 : p.path > q.path ? 1 : 0));
  // Histories by host, scenario, metric and labels (the canonical key sorts that way).
  const histories = [...assembly.byKey.values()]
    .map((history) => [assembly.canonicals.get(history)!, history] as const)
    .sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))
    .map(([, history]) => history);
  return { histories, problems };
}
