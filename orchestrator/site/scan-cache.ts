// What the site's last scan of the results store learned, kept for the next build of the same
// site (<outDir>/.site-scan.json): per ended sweep the manifest read from its sweep.json and per
// job the fingerprint and logs scanStore made (site/load.ts), each with the identities (inode,
// size, mtime) it was learned under. A later scan takes a sweep's manifest from here while its
// sweep.json has the same identity, and a job's fingerprint while its directory and its
// orchestrator.log do (every file the store writes into a job directory is renamed into place,
// which changes the directory; the log is appended in place). Only sweeps whose sweep.json says
// they ended are kept: a running sweep's jobs still collect (raw/ files land inside
// subdirectories), so they are fingerprinted afresh at every scan.
//
// Never the only copy of anything: missing, damaged, of another version or of another results
// directory, the scan reads everything, as it would without it.
import { statSync } from 'node:fs';
import { derivedCacheFile } from '../results/derived-cache.js';
import { isRecord, isStrings } from '../results/json-shape.js';
import { SweepManifestSchema, type SweepManifest } from '../results/manifest.js';

export const SCAN_CACHE = '.site-scan.json';
// 2: a job is one flat array, its logs named relative to its directory (@1's absolute paths were
// two thirds of the file)
const SCAN_CACHE_SCHEMA = 'orchestrate/site-scan@2' as const;

/**
 * A job as the cache keeps it: [identity of its directory, of its orchestrator.log (when it was
 * fingerprinted), its fingerprint, then per log it has: its path under the job's directory, its
 * site name].
 */
export type CachedJob = string[];

export interface CachedSweep {
  /** Identity of the sweep.json the manifest was read from. */
  manifestId: string;
  manifest: SweepManifest;
  jobs: Record<string, CachedJob>;
}

export interface ScanCache {
  /** The results directory scanned (absolute): another store's cache is not this one's. */
  resultsDir: string;
  sweeps: Record<string, CachedSweep>;
}

/** A job's logs: where each is (`source`, absolute) and its name on the site. */
export type JobLogs = { source: string; name: string }[];

function isCachedJob(value: unknown): value is CachedJob {
  return isStrings(value) && value.length >= 3 && value.length % 2 === 1;
}

/** A sweep's entry as written, its manifest checked with the store's schema; undefined when not of that shape. */
function checkedSweep(value: unknown): CachedSweep | undefined {
  if (!isRecord(value) || typeof value['manifestId'] !== 'string' || !isRecord(value['jobs'])) return undefined;
  const jobs = value['jobs'];
  for (const id in jobs) if (!isCachedJob(jobs[id])) return undefined;
  const manifest = SweepManifestSchema.safeParse(value['manifest']);
  return manifest.success ? { manifestId: value['manifestId'], manifest: manifest.data, jobs: jobs as Record<string, CachedJob> } : undefined;
}

function checkedCache(parsed: Record<string, unknown>): ScanCache | undefined {
  const sweeps: Record<string, CachedSweep> = {};
  if (!isRecord(parsed['sweeps'])) return undefined;
  for (const id in parsed['sweeps']) {
    const sweep = checkedSweep(parsed['sweeps'][id]);
    if (sweep === undefined) return undefined;
    sweeps[id] = sweep;
  }
  return { resultsDir: parsed['resultsDir'] as string, sweeps };
}

/** inode:size:mtime, '-' when there is nothing there. */
export function fileIdentity(path: string): string {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : '-';
}

const scanCacheFile = derivedCacheFile<ScanCache>(SCAN_CACHE, SCAN_CACHE_SCHEMA, checkedCache);

/** The cache of `outDir` for `resultsDir` (absolute), or undefined: the scan then reads everything. */
export const readScanCache = (outDir: string, resultsDir: string): ScanCache | undefined => scanCacheFile.read(outDir, resultsDir);

/** Written atomically; a cache that cannot be written is only a slower next scan. */
export const writeScanCache = (outDir: string, cache: ScanCache): Promise<void> => scanCacheFile.write(outDir, cache);

/** The cached manifest of a sweep, when its sweep.json is the one it was read from. */
export function cachedManifest(cached: CachedSweep | undefined, manifestId: string): SweepManifest | undefined {
  return cached !== undefined && manifestId !== '-' && cached.manifestId === manifestId ? cached.manifest : undefined;
}

/**
 * A job's entry for the cache, from the identities it was fingerprinted under, its fingerprint and
 * logs; undefined (the job is not kept) if a log is not under its directory `jobDir`.
 */
export function cachedJobEntry(jobDir: string, dir: string, log: string, fp: string, logs: JobLogs): CachedJob | undefined {
  const entry = [dir, log, fp];
  for (const { source, name } of logs) {
    if (!source.startsWith(`${jobDir}/`)) return undefined;
    entry.push(source.slice(jobDir.length + 1), name);
  }
  return entry;
}

/** The cached fingerprint and logs of a job in `jobDir`, when its directory and log are the ones it was made from. */
export function cachedJob(cached: CachedSweep | undefined, jobId: string, jobDir: string, dir: string, log: string): { fp: string; logs: JobLogs } | undefined {
  const job = cached?.jobs[jobId];
  if (job === undefined || dir === '-' || job[0] !== dir || job[1] !== log) return undefined;
  const logs: JobLogs = [];
  for (let i = 3; i + 1 < job.length; i += 2) logs.push({ source: `${jobDir}/${job[i]}`, name: job[i + 1]! });
  return { fp: job[2]!, logs };
}
