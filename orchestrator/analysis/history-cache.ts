// What each sweep gave the metric histories when they were last loaded, kept beside a site
// (<outDir>/.site-history.json) so that the next build does not read and validate every sweep's
// history index shard again: per sweep, the key of the job files it was read from (each job's
// id and the identities of its manifest.json and metrics.json, the same evidence the history
// index checks its entries with), its jobs, its problems, and its points as flat numbers
// (series, job, value, unit: indices into tables shared by the whole file). A sweep whose key
// is unchanged gives the same points; any other is read through the history index.
//
// Never the only copy of anything: missing, damaged, of another version or of another results
// directory, the histories are loaded from the index as without it.
import { derivedCacheFile } from '../results/derived-cache.js';
import { isNumbers, isPathProblem, isRecord, isTextRecord } from '../results/json-shape.js';
import type { Better } from '../results/metrics.js';

export const HISTORY_CACHE = '.site-history.json';
const HISTORY_CACHE_SCHEMA = 'orchestrate/site-history@1' as const;

export interface CachedSweepHistory {
  /** Digest of the job ids and the identities of their manifest.json and metrics.json. */
  key: string;
  /** [jobId, at, build or null] */
  jobs: [string, string, string | null][];
  problems: { path: string; message: string }[];
  /** Flat quadruples: series index, job index, value, unit index. */
  points: number[];
}

export interface HistoryCache {
  resultsDir: string;
  /** [host, scenario, metric, labels (sorted by name)] */
  series: [string, string, string, Record<string, string>][];
  /** [unit, better] */
  units: [string, Better][];
  sweeps: Record<string, CachedSweepHistory>;
}

// The file's shape, checked by hand (results/json-shape.ts says why): the indices in `points`
// are checked where a sweep is replayed (analysis/history.ts), against the tables they index.

const BETTER: ReadonlySet<unknown> = new Set<Better>(['higher', 'lower', 'none']);

function isSeries(value: unknown): value is HistoryCache['series'][number] {
  return Array.isArray(value) && value.length === 4 && typeof value[0] === 'string' && typeof value[1] === 'string' && typeof value[2] === 'string' && isTextRecord(value[3]);
}

function isUnit(value: unknown): value is HistoryCache['units'][number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && BETTER.has(value[1]);
}

function isJob(value: unknown): value is CachedSweepHistory['jobs'][number] {
  return Array.isArray(value) && value.length === 3 && typeof value[0] === 'string' && typeof value[1] === 'string' && (value[2] === null || typeof value[2] === 'string');
}

function isSweep(value: unknown): value is CachedSweepHistory {
  return (
    isRecord(value) &&
    typeof value['key'] === 'string' &&
    Array.isArray(value['jobs']) &&
    value['jobs'].every(isJob) &&
    Array.isArray(value['problems']) &&
    value['problems'].every(isPathProblem) &&
    isNumbers(value['points'])
  );
}

function checkedCache(parsed: Record<string, unknown>): HistoryCache | undefined {
  const { series, units, sweeps } = parsed;
  if (!Array.isArray(series) || !series.every(isSeries) || !Array.isArray(units) || !units.every(isUnit) || !isRecord(sweeps)) return undefined;
  for (const id in sweeps) if (!isSweep(sweeps[id])) return undefined;
  return { resultsDir: parsed['resultsDir'] as string, series, units, sweeps: sweeps as Record<string, CachedSweepHistory> };
}

const historyCacheFile = derivedCacheFile<HistoryCache>(HISTORY_CACHE, HISTORY_CACHE_SCHEMA, checkedCache);

/** The cache in `dir` for `resultsDir` (absolute), or undefined: everything is read from the index. */
export const readHistoryCache = (dir: string, resultsDir: string): HistoryCache | undefined => historyCacheFile.read(dir, resultsDir);

/** Written atomically; a cache that cannot be written is only a slower next load. */
export const writeHistoryCache = (dir: string, cache: HistoryCache): Promise<void> => historyCacheFile.write(dir, cache);
