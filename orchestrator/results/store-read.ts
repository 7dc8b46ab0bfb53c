// Reading the results store: the sweeps there are, a sweep, its jobs, a job's manifest and
// metrics, findings and the paging record; each file through its versioned reader
// (store-files.ts), each path from the layout (store-layout.ts). Readers throw StoreReadError
// (UnknownSchemaVersionError for a version this orchestrator cannot read) naming the file, so a
// caller can report one damaged file and go on with the rest.
import { readdirSync, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import type { Findings, PagedState } from '../analysis/findings.js';
import type { JobManifest, SweepManifest } from './manifest.js';
import type { MetricsFile } from './metrics.js';
import { StoreReadError } from './store-errors.js';
import { findingsFile, jobManifestFile, metricsFile, pagedStateFile, sweepManifestFile } from './store-files.js';
import { isJobDirName, isSweepId, jobPaths, pagedStatePath, sweepPaths, sweepsDir } from './store-layout.js';

/** The sweep ids of the store, oldest first (none when there is no store yet). */
export async function listSweeps(resultsDir: string): Promise<string[]> {
  try {
    return (await readdir(sweepsDir(resultsDir))).filter(isSweepId).sort();
  } catch {
    return [];
  }
}

/**
 * The job ids of a sweep: its job directories, in id order. No jobs directory is no jobs; any
 * other failure to list it throws StoreReadError.
 */
export function listJobIdsSync(resultsDir: string, sweepId: string): string[] {
  const dir = sweepPaths(resultsDir, sweepId).jobs;
  try {
    return jobIdsOf(readdirSync(dir, { withFileTypes: true }));
  } catch (error) {
    return noJobsOrThrow(dir, error);
  }
}

export async function listJobIds(resultsDir: string, sweepId: string): Promise<string[]> {
  const dir = sweepPaths(resultsDir, sweepId).jobs;
  try {
    return jobIdsOf(await readdir(dir, { withFileTypes: true }));
  } catch (error) {
    return noJobsOrThrow(dir, error);
  }
}

/** Job directory names of a jobs/ listing, in id order. */
function jobIdsOf(entries: readonly Dirent[]): string[] {
  return entries
    .filter((entry) => entry.isDirectory() && isJobDirName(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/** No jobs directory is no jobs; any other failure to list it is a StoreReadError. */
function noJobsOrThrow(dir: string, error: unknown): string[] {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
  throw new StoreReadError(dir, (error as Error).message, 'unreadable');
}

/** A sweep of this store, by id (an id, never a path: anything else is refused unread). */
export async function readSweepManifest(resultsDir: string, sweepId: string): Promise<SweepManifest> {
  const path = sweepPaths(resultsDir, sweepId).manifest;
  const manifest = await sweepManifestFile.read(path);
  if (manifest.sweepId !== sweepId) throw new StoreReadError(path, `names sweep ${JSON.stringify(manifest.sweepId)}, not ${sweepId}`);
  return manifest;
}

export async function readJobManifest(resultsDir: string, sweepId: string, jobId: string): Promise<JobManifest> {
  return jobManifestFile.read(jobPaths(resultsDir, sweepId, jobId).manifest);
}

/** A job's metrics, or undefined when it has none (a job that failed before it measured anything). */
export async function readJobMetrics(resultsDir: string, sweepId: string, jobId: string): Promise<MetricsFile | undefined> {
  return metricsFile.readOptional(jobPaths(resultsDir, sweepId, jobId).metrics);
}

/** `<sweep dir>/findings.json`: what the sweep's analysis found (analysis/findings.ts). */
export function findingsPath(resultsDir: string, sweepId: string): string {
  return sweepPaths(resultsDir, sweepId).findings;
}

/** A sweep's findings, or undefined when it has none (sweeps before findings existed, or not analysed yet). */
export async function readFindings(resultsDir: string, sweepId: string): Promise<Findings | undefined> {
  const path = findingsPath(resultsDir, sweepId);
  const findings = await findingsFile.readOptional(path);
  if (findings && findings.sweepId !== sweepId) throw new StoreReadError(path, `the findings of sweep ${findings.sweepId}, not of ${sweepId}`);
  return findings;
}

/** The paging record, or undefined when there is none yet; a damaged one throws StoreReadError. */
export async function readPagedState(resultsDir: string): Promise<PagedState | undefined> {
  return pagedStateFile.readOptional(pagedStatePath(resultsDir));
}

