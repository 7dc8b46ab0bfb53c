// Retention of the results store: raw artifacts (jobs/<job>/raw) of old sweeps go, by age and/or
// to fit a total size budget (oldest sweeps first); manifest.json, metrics.json, orchestrator.log,
// sweep.json and events.jsonl stay for good (the site's history is built from them). A pruned job
// gets pruned.json (written atomically) saying what was removed and when; manifests are never
// rewritten.
//
// Crash safety: raw/ is first renamed to .raw.pruning (one step: raw is either whole or gone),
// then pruned.json is written, then the renamed tree is deleted. A run that finds a leftover
// .raw.pruning finishes that job's pruning.
//
// The store is read and its paths are made through its door (results/store.ts). A sweep's
// sweep.json is read and validated: one that says `running` is left alone, and so is one whose
// sweep.json is there but cannot be read (damaged, or written by a newer orchestrator): what a
// sweep is doing is never guessed before deleting its artifacts. A sweep without one is pruned.
import { lstat, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomically } from '../results/atomic-write.js';
import { PRUNED_SCHEMA, PrunedRecordSchema, type PrunedRecord } from '../results/pruned-record.js';
import type { SweepStatus } from '../results/manifest.js';
import { jobPaths, jobFiles, listJobIds, listSweeps, readSweepManifest, StoreReadError } from '../results/store.js';

export interface PruneOptions {
  resultsDir: string;
  /** Remove raw artifacts of sweeps that started more than this many days ago. */
  keepRawDays?: number;
  /** Remove raw artifacts, oldest sweeps first, until all raw artifacts fit in this many bytes. */
  maxRawBytes?: number;
  now?: Date;
  /** Report what would be removed; change nothing. */
  dryRun?: boolean;
}

export interface PrunedJob {
  sweepId: string;
  jobId: string;
  reason: 'age' | 'size' | 'resume';
  files: number;
  bytes: number;
}

export interface PruneResult {
  dryRun: boolean;
  jobs: PrunedJob[];
  sweeps: number;
  files: number;
  bytes: number;
  /** Raw bytes left in the store afterwards (or that would be left, in a dry run). */
  rawBytesLeft: number;
  /** Sweeps left alone because they are still running. */
  skippedRunning: string[];
  /** Sweeps left alone because their sweep.json could not be read: the id and why. */
  skippedUnreadable: { sweepId: string; problem: string }[];
}

interface RawJob {
  sweepId: string;
  jobId: string;
  jobDir: string;
  files: number;
  bytes: number;
  started: Date;
}

/** 20261122T051637Z-xxxx -> its start time. */
export function sweepStart(sweepId: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(sweepId);
  if (!m) return new Date(NaN);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** '50G', '512M', '1.5T', '1000' (bytes) -> bytes; K/M/G/T are powers of 1024. */

async function treeSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        files++;
        bytes += (await lstat(p).catch(() => ({ size: 0 }))).size;
      }
    }
  };
  await walk(dir);
  return { files, bytes };
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

/** The sweep's status as its validated sweep.json says; `missing` without one; `unreadable` with a reason. */
async function sweepStatus(resultsDir: string, sweepId: string): Promise<{ status: SweepStatus | 'missing' } | { status: 'unreadable'; problem: string }> {
  try {
    return { status: (await readSweepManifest(resultsDir, sweepId)).status };
  } catch (error) {
    if (error instanceof StoreReadError && error.reason === 'missing') return { status: 'missing' };
    return { status: 'unreadable', problem: error instanceof StoreReadError ? error.detail : (error as Error).message };
  }
}

async function removeRaw(job: RawJob, reason: PrunedJob['reason'], now: Date): Promise<void> {
  const files = jobFiles(job.jobDir);
  if (await exists(files.raw)) {
    if (await exists(files.rawPruning)) await rm(files.rawPruning, { recursive: true, force: true });
    await rename(files.raw, files.rawPruning);
  }
  const record: PrunedRecord = {
    schema: PRUNED_SCHEMA,
    prunedAt: now.toISOString(),
    reason,
    removed: { paths: ['raw'], files: job.files, bytes: job.bytes },
  };
  await writeJsonAtomically(files.pruned, PrunedRecordSchema.parse(record));
  await rm(files.rawPruning, { recursive: true, force: true });
}

export async function pruneResults(options: PruneOptions): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const dryRun = options.dryRun === true;
  if (options.keepRawDays !== undefined && !(options.keepRawDays >= 0)) throw new Error(`keepRawDays must be >= 0, got ${options.keepRawDays}`);
  if (options.maxRawBytes !== undefined && !(options.maxRawBytes >= 0)) throw new Error(`maxRawBytes must be >= 0, got ${options.maxRawBytes}`);
  const result: PruneResult = { dryRun, jobs: [], sweeps: 0, files: 0, bytes: 0, rawBytesLeft: 0, skippedRunning: [], skippedUnreadable: [] };
  const candidates: RawJob[] = [];
  const leftovers: RawJob[] = [];
  for (const sweepId of await listSweeps(options.resultsDir)) {
    const jobIds = await listJobIds(options.resultsDir, sweepId).catch(() => [] as string[]);
    const status = await sweepStatus(options.resultsDir, sweepId);
    // a running sweep, or one whose sweep.json cannot be read, keeps its raw artifacts
    const leftAlone = status.status === 'running' || status.status === 'unreadable';
    let keptRaw = false;
    for (const jobId of jobIds) {
      const files = jobPaths(options.resultsDir, sweepId, jobId);
      const jobDir = files.dir;
      if (await exists(files.rawPruning)) {
        const size = await treeSize(files.rawPruning);
        leftovers.push({ sweepId, jobId, jobDir, ...size, started: sweepStart(sweepId) });
      }
      if (!(await exists(files.raw))) continue;
      const size = await treeSize(files.raw);
      if (leftAlone) {
        result.rawBytesLeft += size.bytes;
        keptRaw = true;
        continue;
      }
      candidates.push({ sweepId, jobId, jobDir, ...size, started: sweepStart(sweepId) });
    }
    if (keptRaw) {
      if (status.status === 'unreadable') result.skippedUnreadable.push({ sweepId, problem: status.problem });
      else result.skippedRunning.push(sweepId);
    }
  }
  const chosen = new Map<RawJob, PrunedJob['reason']>();
  for (const job of leftovers) chosen.set(job, 'resume');
  if (options.keepRawDays !== undefined) {
    const cutoff = now.getTime() - options.keepRawDays * 86_400_000;
    for (const job of candidates) if (job.started.getTime() < cutoff) chosen.set(job, 'age');
  }
  let left = candidates.filter((j) => !chosen.has(j)).reduce((n, j) => n + j.bytes, 0) + result.rawBytesLeft;
  if (options.maxRawBytes !== undefined) {
    // listSweeps sorts by id = start time: oldest first.
    for (const job of candidates) {
      if (left <= options.maxRawBytes) break;
      if (chosen.has(job)) continue;
      chosen.set(job, 'size');
      left -= job.bytes;
    }
  }
  result.rawBytesLeft = left;
  const sweeps = new Set<string>();
  for (const [job, reason] of chosen) {
    if (!dryRun) await removeRaw(job, reason, now);
    result.jobs.push({ sweepId: job.sweepId, jobId: job.jobId, reason, files: job.files, bytes: job.bytes });
    result.files += job.files;
    result.bytes += job.bytes;
    sweeps.add(job.sweepId);
  }
  result.sweeps = sweeps.size;
  return result;
}
