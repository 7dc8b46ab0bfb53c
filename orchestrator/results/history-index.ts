// The history index of the results store: per sweep, what each job contributes to the metric
// histories (its summary samples, or why it contributes none), kept in
// <results_dir>/index/history/<sweep id>.jsonl so that reading every history does not mean
// reading every job's files. The job files stay the truth: each entry carries the identity
// (inode, size, mtime) of the manifest.json and metrics.json it was read from, and a read checks
// them, so an entry that is missing, stale or damaged is read again from the files (and the
// shard rewritten). Deleting the index loses nothing.
//
// Shard format (JSON lines): a header {"schema":"orchestrate/history-index@1","sweepId":...},
// then one entry per job; a later entry for a job replaces an earlier one. The store appends an
// entry whenever it writes a job's final (not running) manifest (whole lines or nothing); a read
// that repaired anything rewrites the shard compacted, atomically.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as z from 'zod';
import { appendWhole, writeFileAtomically } from './atomic-write.js';
import { isRerunJobId, type JobManifest } from './manifest.js';
import { MetricSampleSchema } from './metrics.js';
import { StoreReadError } from './store-errors.js';
import { jobManifestFile, metricsFile } from './store-files.js';
import { JOB_MANIFEST_FILE, JOB_METRICS_FILE, historyIndexDir, historyShardPath, jobDirIn, jobFiles, jobPaths, sweepPaths } from './store-layout.js';
import { listJobIdsSync } from './store-read.js';
import type { VersionedFile } from './versioned-file.js';

export { historyIndexDir };

export const HISTORY_INDEX_SCHEMA = 'orchestrate/history-index@1' as const;

const HeaderSchema = z.object({ schema: z.literal(HISTORY_INDEX_SCHEMA), sweepId: z.string().min(1) });

const ProblemSchema = z.object({
  /** Which file of the job: its manifest or its metrics. */
  file: z.enum([JOB_MANIFEST_FILE, JOB_METRICS_FILE]),
  message: z.string(),
});

export const IndexedJobSchema = z.object({
  jobId: z.string().min(1),
  /** What the entry was read from: identities of the job's manifest.json and metrics.json. */
  src: z.string(),
  /** history: an ok, first-run job with its samples; skipped: not ok, or a re-run; problem: unreadable. */
  kind: z.enum(['history', 'skipped', 'problem']),
  host: z.string().optional(),
  scenario: z.string().optional(),
  at: z.string().optional(),
  build: z.string().optional(),
  samples: z.array(MetricSampleSchema).optional(),
  problem: ProblemSchema.optional(),
});
export type IndexedJob = z.infer<typeof IndexedJobSchema>;

export interface IndexedSweep {
  sweepId: string;
  /** Every job directory of the sweep, by job id. */
  jobs: IndexedJob[];
  /** A problem listing the sweep's jobs (not "there are none"). */
  listProblem?: { path: string; message: string };
}

function identity(path: string): string {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : '-';
}

/** The identities of the files an entry is read from. */
function sourceOf(jobDir: string): string {
  const files = jobFiles(jobDir);
  return `${identity(files.manifest)}|${identity(files.metrics)}`;
}

/**
 * What a sweep's history entries are read from, as one digest: its job ids and the identities of
 * their manifest.json and metrics.json. Equal digests, equal entries (what a cache of the
 * histories keys a sweep by). Undefined when the sweep's jobs cannot be listed.
 */
export function sweepSourcesKey(resultsDir: string, sweepId: string): string | undefined {
  let jobIds: string[];
  try {
    jobIds = listJobIdsSync(resultsDir, sweepId);
  } catch {
    return undefined;
  }
  const dir = sweepPaths(resultsDir, sweepId).dir;
  const hash = createHash('sha256');
  for (const jobId of jobIds) hash.update(`${jobId}\0${sourceOf(jobDirIn(dir, jobId))}\n`);
  return hash.digest('hex').slice(0, 32);
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** A job file through its versioned reader, with the index's wording of what is wrong with it. */
function readValidated<T>(path: string, reader: VersionedFile<T>): Parsed<T> {
  try {
    return { ok: true, value: reader.readSync(path) };
  } catch (error) {
    if (!(error instanceof StoreReadError)) throw error;
    if (error.reason === 'missing') return { ok: false, message: 'the file does not exist' };
    if (error.reason !== 'invalid') return { ok: false, message: error.detail };
    const more = error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '';
    return { ok: false, message: `invalid: ${error.issues.slice(0, 5).join('; ')}${more}` };
  }
}

/**
 * A job's entry, read from its files: what the history takes from it. The identities are taken
 * before the files are read, so a file replaced in between leaves an entry that the next read
 * sees as stale, never one that looks fresh with old content.
 */
export function readJobEntry(jobDir: string, jobId: string, written?: JobManifest): IndexedJob {
  const src = sourceOf(jobDir);
  const files = jobFiles(jobDir);
  // The store passes the manifest it has just written: the file's content, without reading and
  // checking it again. The identity above is taken after that write, and nothing else writes a
  // job's manifest meanwhile: a sweep's writers hold its results directory's lock.
  const manifest: Parsed<JobManifest> = written ? { ok: true, value: written } : readValidated(files.manifest, jobManifestFile);
  if (!manifest.ok) return { jobId, src, kind: 'problem', problem: { file: JOB_MANIFEST_FILE, message: manifest.message } };
  if (manifest.value.status !== 'ok') return { jobId, src, kind: 'skipped' };
  // Confirmation re-runs are evidence about a night, not more nights of the history.
  if (manifest.value.rerunOf !== undefined || isRerunJobId(jobId)) return { jobId, src, kind: 'skipped' };
  const metrics = readValidated(files.metrics, metricsFile);
  if (!metrics.ok) return { jobId, src, kind: 'problem', problem: { file: JOB_METRICS_FILE, message: metrics.message } };
  const { host, scenario, startedAt, endedAt, build } = manifest.value;
  return {
    jobId,
    src,
    kind: 'history',
    host: host.name,
    scenario: scenario.name,
    at: startedAt ?? endedAt ?? '',
    ...(build?.label !== undefined ? { build: build.label } : {}),
    samples: metrics.value.samples,
  };
}

// Appends to one shard are queued in this process, so lines never interleave.
const appendQueues = new Map<string, Promise<void>>();

/**
 * Records a job as it now is on disk (called by the store after it writes the job's final
 * manifest, which it passes, `written`, and waits for this). Never fails the caller: an entry that could not be
 * written is read from the files next time (the index is never the only copy of anything).
 */
export function indexJob(resultsDir: string, sweepId: string, written: JobManifest): Promise<void> {
  const path = historyShardPath(resultsDir, sweepId);
  const previous = appendQueues.get(path) ?? Promise.resolve();
  const next = previous.then(() => appendEntry(resultsDir, sweepId, path, written)).catch(() => undefined);
  appendQueues.set(path, next);
  void next.then(() => {
    if (appendQueues.get(path) === next) appendQueues.delete(path);
  });
  return next;
}

async function appendEntry(resultsDir: string, sweepId: string, path: string, written: JobManifest): Promise<void> {
  const entry = readJobEntry(jobPaths(resultsDir, sweepId, written.jobId).dir, written.jobId, written);
  await mkdir(historyIndexDir(resultsDir), { recursive: true });
  await appendWhole(path, `${JSON.stringify(entry)}\n`, `${JSON.stringify({ schema: HISTORY_INDEX_SCHEMA, sweepId })}\n`);
}

/** The shard's entries by job id, or undefined when it is missing, damaged or another sweep's. */
function readShard(path: string, sweepId: string): Map<string, IndexedJob> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  else return undefined; // a torn last line
  try {
    const header = HeaderSchema.safeParse(JSON.parse(lines[0] ?? ''));
    if (!header.success || header.data.sweepId !== sweepId) return undefined;
    const entries = new Map<string, IndexedJob>();
    for (let i = 1; i < lines.length; i++) {
      const entry = IndexedJobSchema.safeParse(JSON.parse(lines[i]!));
      if (!entry.success) return undefined;
      entries.set(entry.data.jobId, entry.data);
    }
    return entries;
  } catch {
    return undefined;
  }
}

export interface ReadIndexOptions {
  /** Rewrite shards that had to be repaired (default true; a read-only store is read all the same). */
  repair?: boolean;
}

/**
 * One sweep's entries, checked against the files: a job whose manifest or metrics changed since
 * it was indexed (or that has no entry) is read again from its files; entries of jobs that are
 * gone are dropped. Returns the jobs in job id order and whether the shard was repaired.
 */
export async function readIndexedSweep(resultsDir: string, sweepId: string, options: ReadIndexOptions = {}): Promise<IndexedSweep & { repaired: boolean }> {
  const sweep = sweepPaths(resultsDir, sweepId);
  const jobsDir = sweep.jobs;
  let jobIds: string[];
  try {
    jobIds = listJobIdsSync(resultsDir, sweepId);
  } catch (error) {
    return { sweepId, jobs: [], repaired: false, listProblem: { path: jobsDir, message: error instanceof StoreReadError ? error.detail : (error as Error).message } };
  }
  const path = historyShardPath(resultsDir, sweepId);
  const shard = readShard(path, sweepId);
  let repaired = shard === undefined || shard.size !== jobIds.length;
  const jobs = jobIds.map((jobId) => {
    const jobDir = jobDirIn(sweep.dir, jobId);
    const known = shard?.get(jobId);
    if (known && known.src === sourceOf(jobDir)) return known;
    repaired = true;
    return readJobEntry(jobDir, jobId);
  });
  if (repaired && options.repair !== false && jobIds.length > 0) {
    const header = { schema: HISTORY_INDEX_SCHEMA, sweepId };
    const text = [header, ...jobs].map((line) => `${JSON.stringify(line)}\n`).join('');
    await writeFileAtomically(path, text).catch(() => undefined);
  }
  return { sweepId, jobs, repaired };
}
