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
import { z } from 'zod';
import { derivedCacheFile } from '../results/derived-cache.js';
import { SweepManifestSchema, type SweepManifest } from '../results/manifest.js';

export const SCAN_CACHE = '.site-scan.json';
const SCAN_CACHE_SCHEMA = 'orchestrate/site-scan@1' as const;

const CachedJobSchema = z.object({
  /** Identities of the job's directory and of its orchestrator.log when it was fingerprinted. */
  dir: z.string(),
  log: z.string(),
  fp: z.string(),
  logs: z.array(z.object({ source: z.string(), name: z.string() })),
});
export type CachedJob = z.infer<typeof CachedJobSchema>;

const CachedSweepSchema = z.object({
  /** Identity of the sweep.json the manifest was read from. */
  manifestId: z.string(),
  manifest: SweepManifestSchema,
  jobs: z.record(z.string(), CachedJobSchema),
});
export type CachedSweep = z.infer<typeof CachedSweepSchema>;

const ScanCacheSchema = z.object({
  schema: z.literal(SCAN_CACHE_SCHEMA),
  /** The results directory scanned (absolute): another store's cache is not this one's. */
  resultsDir: z.string(),
  sweeps: z.record(z.string(), CachedSweepSchema),
});
export type ScanCache = Omit<z.infer<typeof ScanCacheSchema>, 'schema'>;

/** inode:size:mtime, '-' when there is nothing there. */
export function fileIdentity(path: string): string {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : '-';
}

const scanCacheFile = derivedCacheFile<ScanCache>(SCAN_CACHE, SCAN_CACHE_SCHEMA, ScanCacheSchema);

/** The cache of `outDir` for `resultsDir` (absolute), or undefined: the scan then reads everything. */
export const readScanCache = (outDir: string, resultsDir: string): ScanCache | undefined => scanCacheFile.read(outDir, resultsDir);

/** Written atomically; a cache that cannot be written is only a slower next scan. */
export const writeScanCache = (outDir: string, cache: ScanCache): Promise<void> => scanCacheFile.write(outDir, cache);

/** The cached manifest of a sweep, when its sweep.json is the one it was read from. */
export function cachedManifest(cached: CachedSweep | undefined, manifestId: string): SweepManifest | undefined {
  return cached !== undefined && manifestId !== '-' && cached.manifestId === manifestId ? cached.manifest : undefined;
}

/** The cached fingerprint of a job, when its directory and log are the ones it was made from. */
export function cachedJob(cached: CachedSweep | undefined, jobId: string, dir: string, log: string): CachedJob | undefined {
  const job = cached?.jobs[jobId];
  return job !== undefined && dir !== '-' && job.dir === dir && job.log === log ? job : undefined;
}
