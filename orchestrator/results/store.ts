// The results store's door: the one module the rest of the orchestrator imports to read or write
// the store. Where things are is store-layout.ts (the only place the layout is spelled out); how
// each JSON file is read, version by version, is store-files.ts (through versioned-file.ts);
// reading is store-read.ts; writing is SweepStore below.
//
// <results_dir>/sweeps/<sweep id>/ with sweep.json and events.jsonl, and jobs/<job id>/ with
// manifest.json, metrics.json, orchestrator.log and raw/ (the artifacts exactly as collected).
// JSON files are written atomically, log lines appended whole or not at all; every failed write
// is also told to the store's owner (the sweep), which stops starting work on a full disk.
// Sweeps are named by id, never by a path.
import { rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { appendWhole, writeJsonAtomically, writeJsonAtomicallySync } from './atomic-write.js';
import type { JobError, JobManifest, JobStatus, SweepManifest } from './manifest.js';
import { METRICS_SCHEMA, type MetricsDraft, type MetricsFile } from './metrics.js';
import { indexJob } from './history-index.js';
import { FindingsSchema, PagedStateSchema, PAGED_SCHEMA, type Findings, type PagedState } from '../analysis/findings.js';
import { jobManifestFile } from './store-files.js';
import { findingsPath } from './store-read.js';
import { attemptsDir, isSweepId, jobDirIn, jobFiles, locksDir, pagedStatePath, spaceReservePath, sweepFiles, sweepsDir } from './store-layout.js';

export { StoreReadError, UnknownSchemaVersionError } from './store-errors.js';
export {
  SWEEP_ID_PATTERN,
  isSweepId,
  isJobDirName,
  newSweepId,
  sweepPaths,
  sweepFiles,
  jobPaths,
  jobFiles,
  jobDirIn,
  phasePaths,
  JOB_MANIFEST_FILE,
  pagedStatePath,
  defaultSiteDir,
  type JobPaths,
  type SweepPaths,
} from './store-layout.js';
export { jobManifestFile, metricsFile } from './store-files.js';
export { listJobIds, listSweeps, readFindings, readJobManifest, readJobMetrics, readPagedState, readSweepManifest, findingsPath } from './store-read.js';
/**
 * What each job of a sweep gives the metric histories, from the store's history index
 * (results/history-index.ts), checked against the job files and repaired from them.
 */
export { readIndexedSweep, type IndexedJob, type IndexedSweep } from './history-index.js';

/** Space set aside at the start of a sweep, given back to write the final records on a full disk. */
export const RESERVE_BYTES = 1024 ** 2;

export interface SweepStoreOptions {
  /** Told of every write that fails (the error still goes to the caller). */
  onWriteError?: (path: string, error: Error) => void;
}

export class SweepStore {
  readonly dir: string;
  private readonly reservePath: string;

  constructor(readonly resultsDir: string, readonly sweepId: string, private readonly options: SweepStoreOptions = {}) {
    if (!isSweepId(sweepId)) throw new Error(`not a sweep id: ${JSON.stringify(sweepId)}`);
    this.dir = join(sweepsDir(resultsDir), sweepId);
    this.reservePath = spaceReservePath(resultsDir);
  }

  private async guard<T>(path: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      this.options.onWriteError?.(path, error as Error);
      throw error;
    }
  }

  private json(path: string, value: unknown): Promise<void> {
    return this.guard(path, () => writeJsonAtomically(path, value));
  }

  private append(path: string, line: string): Promise<void> {
    return this.guard(path, () => appendWhole(path, `${line}\n`));
  }

  /** sweep.json: written by writeSweepManifest (and, on the way out, synchronously by the sweep). */
  get sweepManifestPath(): string {
    return sweepFiles(this.dir).manifest;
  }

  jobDir(jobId: string): string {
    return jobDirIn(this.dir, jobId);
  }

  rawDir(jobId: string): string {
    return jobFiles(this.jobDir(jobId)).raw;
  }

  async init(): Promise<void> {
    const jobs = sweepFiles(this.dir).jobs;
    await this.guard(jobs, () => mkdir(jobs, { recursive: true }));
  }

  /**
   * Sets RESERVE_BYTES aside in <results>/locks/space.reserve: one file per results directory,
   * used by the sweep holding the lock, so a sweep killed before it gave the space back leaves
   * one such file that the next sweep reuses. Incompressible bytes, so that a compressing
   * filesystem really allocates them.
   */
  async reserveSpace(bytes = RESERVE_BYTES): Promise<void> {
    await this.guard(this.reservePath, async () => {
      await mkdir(locksDir(this.resultsDir), { recursive: true });
      try {
        await writeFile(this.reservePath, randomBytes(bytes), { flush: true });
      } catch (error) {
        await rm(this.reservePath, { force: true }).catch(() => undefined);
        throw error;
      }
    });
  }

  /** Gives the reserved space back (at the end of every sweep, and first thing on a full disk). */
  async releaseSpace(): Promise<void> {
    await rm(this.reservePath, { force: true });
  }

  releaseSpaceSync(): void {
    rmSync(this.reservePath, { force: true });
  }

  writeSweepManifest(manifest: SweepManifest): Promise<void> {
    return this.json(this.sweepManifestPath, manifest);
  }

  async writeJobManifest(manifest: JobManifest): Promise<void> {
    await this.json(jobFiles(this.jobDir(manifest.jobId)).manifest, manifest);
    // A finished job goes into the history index as it is stored (a running one is not history yet).
    // (indexJob never fails the write it follows: an entry it could not write is read from the files next time)
    if (manifest.status !== 'running' && manifest.status !== 'pending') await indexJob(this.resultsDir, this.sweepId, manifest);
  }

  /**
   * Ends the record of a job that was left unfinished (its last manifest says `running`, or
   * it has none): the manifest it has, else `fallback`, gets `status`, an end time and `error`.
   */
  async closeJobRecord(jobId: string, status: JobStatus, error: JobError, fallback: JobManifest): Promise<void> {
    const manifest = await jobManifestFile.read(jobFiles(this.jobDir(jobId)).manifest).catch(() => undefined);
    await this.writeJobManifest(closed(manifest ?? fallback, status, error));
  }

  /** The same for a process on its way out; a job with no readable manifest is left as it is. */
  closeJobRecordSync(jobId: string, status: JobStatus, error: JobError): void {
    const path = jobFiles(this.jobDir(jobId)).manifest;
    let manifest: JobManifest;
    try {
      manifest = jobManifestFile.readSync(path);
    } catch {
      return;
    }
    writeJsonAtomicallySync(path, closed(manifest, status, error));
  }

  async writeMetrics(jobId: string, draft: MetricsDraft): Promise<void> {
    const file: MetricsFile = { schema: METRICS_SCHEMA, samples: draft.samples, series: draft.series };
    // Indexed with the job's final manifest, written after this (run-job.ts): while the manifest
    // says running, the job is not history yet, and an entry now would only say so. Should that
    // write fail, the index's entry no longer matches the files and they are read instead.
    await this.json(jobFiles(this.jobDir(jobId)).metrics, file);
  }

  /** Append-only logs: one line per write, whole or not at all. */
  appendSweepEvent(line: string): Promise<void> {
    return this.append(sweepFiles(this.dir).events, line);
  }

  appendSweepLog(line: string): Promise<void> {
    return this.append(sweepFiles(this.dir).log, line);
  }

  /**
   * Before a resumed sweep re-runs a job, its earlier attempt moves to
   * attempts/<jobId>/<n>/ so nothing it collected is lost or mixed with the new run.
   */
  async setAsideAttempt(jobId: string): Promise<string | undefined> {
    const from = this.jobDir(jobId);
    try {
      await stat(from);
    } catch {
      return undefined;
    }
    const base = attemptsDir(this.dir, jobId);
    await mkdir(base, { recursive: true });
    const n = (await readdir(base)).length + 1;
    const to = join(base, String(n));
    await rename(from, to);
    return to;
  }

  async appendJobLog(jobId: string, line: string): Promise<void> {
    const dir = this.jobDir(jobId);
    await this.guard(dir, () => mkdir(dir, { recursive: true }));
    await this.append(jobFiles(dir).log, line);
  }
}

function closed(manifest: JobManifest, status: JobStatus, error: JobError): JobManifest {
  return { ...manifest, status, endedAt: manifest.endedAt ?? new Date().toISOString(), errors: [...manifest.errors, error] };
}

export async function writeFindings(resultsDir: string, findings: Findings): Promise<void> {
  await writeJsonAtomically(findingsPath(resultsDir, findings.sweepId), FindingsSchema.parse(findings));
}

export function emptyPagedState(): PagedState {
  return { schema: PAGED_SCHEMA, paged: {} };
}

export async function writePagedState(resultsDir: string, state: PagedState): Promise<void> {
  await writeJsonAtomically(pagedStatePath(resultsDir), PagedStateSchema.parse(state));
}
