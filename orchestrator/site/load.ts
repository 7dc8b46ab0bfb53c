// Build-time data loading: scans the results store once, through the store's door
// (results/store.ts: its layout and versioned readers). What the index and the change
// detection need comes from the sweep manifests; each job is fingerprinted by the sizes and
// mtimes of its files, so an unchanged job is never read again (its pages are skipped). With a
// site's scan cache (site/scan-cache.ts), an ended sweep whose sweep.json, job directories and
// job logs are unchanged is not read or fingerprinted again: two stats per job.
import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import pMap from 'p-map';
import { isJobDirName, jobDirIn, jobFiles, listSweeps, phasePaths, readJobManifest, readJobMetrics, readSweepManifest, StoreReadError, sweepPaths } from '../results/store.js';
import type { JobManifest, SweepManifest } from '../results/manifest.js';
import type { MetricsFile } from '../results/metrics.js';
import type { JobIdentity } from '../results/store-stamp.js';
import { sha, slug } from './names.js';
import { cachedJob, cachedJobEntry, cachedManifest, fileIdentity, readScanCache, writeScanCache, type CachedSweep, type ScanCache } from './scan-cache.js';

export interface Problem {
  path: string;
  message: string;
}

export interface JobRef {
  /** sweepId/jobId: unique across the store. */
  key: string;
  sweepId: string;
  jobId: string;
  host: string;
  scenario: string;
  status: string;
  /** When its sweep started (jobs are ordered by sweep). */
  at: string;
  dir: string;
  /** Site paths, relative to the site root. */
  page: string;
  assetsDir: string;
  dataFile: string;
  comparePage: string;
  /** Sizes and mtimes of the job's files. */
  fp: string;
  /** The logs the job has (site-relative names of their copies). */
  logs: { source: string; name: string }[];
}

export interface SweepRef {
  sweepId: string;
  manifest: SweepManifest;
  fp: string;
  jobs: JobRef[];
}

export interface StoreScan {
  sweeps: SweepRef[];
  problems: Problem[];
}

/** `fn` over `items`, at most `limit` at a time, results in the items' order (p-map; kept for the site build's callers). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  return pMap(items, fn, { concurrency: Math.max(1, limit) });
}

function statPart(path: string, name: string): string {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? `${name}:${s.size}:${Math.round(s.mtimeMs)}` : `${name}:-`;
}

export function jobPaths(sweepId: string, jobId: string): Pick<JobRef, 'page' | 'assetsDir' | 'dataFile' | 'comparePage'> {
  const s = slug(sweepId);
  const j = slug(jobId);
  return { page: `jobs/${s}/${j}.html`, assetsDir: `jobs/${s}/${j}`, dataFile: `data/jobs/${s}/${j}.js`, comparePage: `compare/${s}/${j}.html` };
}

export function trendsPage(host: string, scenario: string): string {
  return `trends/${slug(host)}--${slug(scenario)}.html`;
}

/** Synchronous stats: thousands of them cost far less than as promises. */
function fingerprintJob(dir: string): { fp: string; logs: { source: string; name: string }[] } {
  const files = jobFiles(dir);
  const parts = [statPart(files.manifest, 'manifest'), statPart(files.metrics, 'metrics'), statPart(files.log, 'log')];
  const logs: { source: string; name: string }[] = [];
  if (!parts[2]!.endsWith(':-')) logs.push({ source: files.log, name: 'orchestrator.log.txt' });
  let phases: string[] = [];
  try {
    phases = readdirSync(files.rawPhases).sort();
  } catch {
    // no raw phases collected
  }
  for (const phase of phases) {
    const path = phasePaths(files.rawPhases, phase).output;
    const part = statPart(path, `phase/${phase}`);
    parts.push(part);
    if (!part.endsWith(':-')) logs.push({ source: path, name: `${slug(phase)}.output.log.txt` });
  }
  return { fp: sha(parts.join('|')), logs };
}

export interface ScanOptions {
  /** The site's output directory: its scan cache is read, and written when the scan learned anything new. */
  cacheDir?: string;
  /**
   * The identities of the job directories and logs as the store's stamp took them just before
   * (results/store-stamp.ts: stampStore), by `<sweepId>/<jobId>`: used instead of taking them again.
   */
  jobIdentities?: ReadonlyMap<string, JobIdentity>;
}

export async function scanStore(resultsDir: string, options: ScanOptions = {}): Promise<StoreScan> {
  const problems: Problem[] = [];
  const absoluteResults = resolve(resultsDir);
  const cache = options.cacheDir !== undefined ? readScanCache(options.cacheDir, absoluteResults) : undefined;
  const learned: ScanCache = { resultsDir: absoluteResults, sweeps: {} };
  let reusedAll = cache !== undefined;
  const ids = await listSweeps(resultsDir);
  const sweeps = await mapLimit(ids, 16, async (sweepId): Promise<SweepRef | undefined> => {
    const sweepPlace = sweepPaths(resultsDir, sweepId);
    const sweepFile = sweepPlace.manifest;
    const cached = cache?.sweeps[sweepId];
    // the identities are taken before anything is read: a file replaced in between is stale next time, never fresh with old content
    const sweepStat = statSync(sweepFile, { throwIfNoEntry: false });
    const manifestId = sweepStat ? `${sweepStat.ino}:${sweepStat.size}:${sweepStat.mtimeMs}` : '-';
    let manifest = cachedManifest(cached, manifestId);
    if (manifest === undefined) {
      reusedAll = false;
      try {
        manifest = await readSweepManifest(resultsDir, sweepId);
      } catch (error) {
        problems.push({ path: sweepFile, message: (error as Error).message });
        return undefined;
      }
    }
    const ended = manifest.status !== 'running';
    const keep: CachedSweep = { manifestId, manifest, jobs: {} };
    const jobs: JobRef[] = [];
    for (const entry of manifest.jobs) {
      // sweep.json is read back from disk: a job id that is not one directory name names no job of the store
      if (!isJobDirName(entry.jobId)) {
        problems.push({ path: sweepFile, message: `${sweepFile}: names a job ${JSON.stringify(entry.jobId)}, which is not a job id` });
        continue;
      }
      const dir = jobDirIn(sweepPlace.dir, entry.jobId);
      const seen = options.jobIdentities?.get(`${sweepId}/${entry.jobId}`);
      const dirId = seen?.dir ?? fileIdentity(dir);
      const logId = seen?.log ?? fileIdentity(jobFiles(dir).log);
      const known = ended ? cachedJob(cached, entry.jobId, dir, dirId, logId) : undefined;
      if (known === undefined) reusedAll = false;
      const { fp, logs } = known ?? fingerprintJob(dir);
      const kept = ended && dirId !== '-' ? cachedJobEntry(dir, dirId, logId, fp, logs) : undefined;
      if (kept !== undefined) keep.jobs[entry.jobId] = kept;
      jobs.push({
        key: `${sweepId}/${entry.jobId}`,
        sweepId,
        jobId: entry.jobId,
        host: entry.host,
        scenario: entry.scenario,
        status: entry.status,
        at: manifest.startedAt,
        dir,
        ...jobPaths(sweepId, entry.jobId),
        fp,
        logs,
      });
    }
    if (ended) learned.sweeps[sweepId] = keep;
    const sweepPart = sweepStat ? `sweep:${sweepStat.size}:${Math.round(sweepStat.mtimeMs)}` : 'sweep:-';
    return { sweepId, manifest, fp: sha(`${sweepPart}|${jobs.map((j) => j.fp).join(',')}`), jobs };
  });
  if (options.cacheDir !== undefined && !(reusedAll && Object.keys(cache!.sweeps).length === Object.keys(learned.sweeps).length)) {
    await writeScanCache(options.cacheDir, learned);
  }
  return { sweeps: sweeps.filter((s): s is SweepRef => s !== undefined), problems };
}

export interface LoadedJob {
  ref: JobRef;
  manifest: JobManifest | null;
  metrics: MetricsFile | null;
  problems: Problem[];
}

export async function loadJob(resultsDir: string, ref: JobRef): Promise<LoadedJob> {
  const problems: Problem[] = [];
  const files = jobFiles(ref.dir);
  let manifest: JobManifest | null = null;
  try {
    manifest = await readJobManifest(resultsDir, ref.sweepId, ref.jobId);
  } catch (error) {
    problems.push({ path: files.manifest, message: (error as Error).message });
  }
  let metrics: MetricsFile | null = null;
  try {
    metrics = (await readJobMetrics(resultsDir, ref.sweepId, ref.jobId)) ?? null;
  } catch (error) {
    problems.push({ path: files.metrics, message: error instanceof StoreReadError ? error.detail : (error as Error).message });
  }
  return { ref, manifest, metrics, problems };
}
