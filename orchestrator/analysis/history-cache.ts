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
import { z } from 'zod';
import { derivedCacheFile } from '../results/derived-cache.js';
import { BetterSchema } from '../results/metrics.js';

export const HISTORY_CACHE = '.site-history.json';
const HISTORY_CACHE_SCHEMA = 'orchestrate/site-history@1' as const;

const CachedSweepSchema = z.object({
  /** Digest of the job ids and the identities of their manifest.json and metrics.json. */
  key: z.string(),
  /** [jobId, at, build or null] */
  jobs: z.array(z.tuple([z.string(), z.string(), z.string().nullable()])),
  problems: z.array(z.object({ path: z.string(), message: z.string() })),
  /** Flat quadruples: series index, job index, value, unit index. */
  points: z.array(z.number()),
});
export type CachedSweepHistory = z.infer<typeof CachedSweepSchema>;

const HistoryCacheSchema = z.object({
  schema: z.literal(HISTORY_CACHE_SCHEMA),
  resultsDir: z.string(),
  /** [host, scenario, metric, labels (sorted by name)] */
  series: z.array(z.tuple([z.string(), z.string(), z.string(), z.record(z.string(), z.string())])),
  /** [unit, better] */
  units: z.array(z.tuple([z.string(), BetterSchema])),
  sweeps: z.record(z.string(), CachedSweepSchema),
});
export type HistoryCache = Omit<z.infer<typeof HistoryCacheSchema>, 'schema'>;

const historyCacheFile = derivedCacheFile<HistoryCache>(HISTORY_CACHE, HISTORY_CACHE_SCHEMA, HistoryCacheSchema);

/** The cache in `dir` for `resultsDir` (absolute), or undefined: everything is read from the index. */
export const readHistoryCache = (dir: string, resultsDir: string): HistoryCache | undefined => historyCacheFile.read(dir, resultsDir);

/** Written atomically; a cache that cannot be written is only a slower next load. */
export const writeHistoryCache = (dir: string, cache: HistoryCache): Promise<void> => historyCacheFile.write(dir, cache);
