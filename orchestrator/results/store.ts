// The results store: <results_dir>/sweeps/<sweep id>/ with sweep.json and events.jsonl,
// and jobs/<job id>/ with manifest.json, metrics.json, orchestrator.log and raw/ (the
// artifacts exactly as collected). JSON files are written atomically, log lines appended
// whole or not at all; every failed write is also told to the store's owner (the sweep),
// which stops starting work on a full disk. Sweeps are named by id, never by a path.
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { appendWhole, writeJsonAtomically, writeJsonAtomicallySync } from './atomic-write.js';
import {
  JobManifestSchema,
  SweepManifestSchema,
  type JobError,
  type JobManifest,
  type JobStatus,
  type SweepManifest,
} from './manifest.js';
import { METRICS_SCHEMA, type MetricsDraft, type MetricsFile } from './metrics.js';
import type { z } from 'zod';
import { indexJob } from './history-index.js';
import { FindingsSchema, PAGED_SCHEMA, PagedStateSchema, type Findings, type PagedState } from '../analysis/findings.js';

export class StoreReadError extends Error {
  override readonly name = 'StoreReadError';
  constructor(
    readonly path: string,
    /** What is wrong, without the path. */
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** Sweep ids sort by start time: 20261122T043000Z-3fa2 */
export function newSweepId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** What newSweepId makes (any length of hex suffix): a directory name, never a path. */
export const SWEEP_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]+$/;

export function isSweepId(text: string): boolean {
  return SWEEP_ID_PATTERN.test(text);
}

/** Space set aside at the start of a sweep, given back to write the final records on a full disk. */
export const RESERVE_BYTES = 1024 ** 2;

/**
 * Appends `text` whole or not at all: a write that fails part-way (a full disk) is cut back
 * to the old length, and a file the append had just created is removed, never left empty.
 */
export interface SweepStoreOptions {
  /** Told of every write that fails (the error still goes to the caller). */
  onWriteError?: (path: string, error: Error) => void;
}

export class SweepStore {
  readonly dir: string;
  private readonly reservePath: string;

  constructor(readonly resultsDir: string, readonly sweepId: string, private readonly options: SweepStoreOptions = {}) {
    if (!isSweepId(sweepId)) throw new Error(`not a sweep id: ${JSON.stringify(sweepId)}`);
    this.dir = join(resultsDir, 'sweeps', sweepId);
    this.reservePath = join(resultsDir, 'locks', 'space.reserve');
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

  jobDir(jobId: string): string {
    return join(this.dir, 'jobs', jobId);
  }

  rawDir(jobId: string): string {
    return join(this.jobDir(jobId), 'raw');
  }

  async init(): Promise<void> {
    const jobs = join(this.dir, 'jobs');
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
      await mkdir(join(this.resultsDir, 'locks'), { recursive: true });
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
    return this.json(join(this.dir, 'sweep.json'), manifest);
  }

  async writeJobManifest(manifest: JobManifest): Promise<void> {
    await this.json(join(this.jobDir(manifest.jobId), 'manifest.json'), manifest);
    // A finished job goes into the history index as it is stored (a running one is not history yet).
    if (manifest.status !== 'running' && manifest.status !== 'pending') await this.index(manifest.jobId);
  }

  /** Records the job in the history index as its files now say (never fails the write it follows). */
  private index(jobId: string): Promise<void> {
    return indexJob(this.resultsDir, this.sweepId, jobId);
  }

  /**
   * Ends the record of a job that was left unfinished (its last manifest says `running`, or
   * it has none): the manifest it has, else `fallback`, gets `status`, an end time and `error`.
   */
  async closeJobRecord(jobId: string, status: JobStatus, error: JobError, fallback: JobManifest): Promise<void> {
    const path = join(this.jobDir(jobId), 'manifest.json');
    const parsed = JobManifestSchema.safeParse(await readJson(path).catch(() => undefined));
    await this.writeJobManifest(closed(parsed.success ? parsed.data : fallback, status, error));
  }

  /** The same for a process on its way out; a job with no readable manifest is left as it is. */
  closeJobRecordSync(jobId: string, status: JobStatus, error: JobError): void {
    const path = join(this.jobDir(jobId), 'manifest.json');
    let parsed;
    try {
      parsed = JobManifestSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    } catch {
      return;
    }
    if (parsed.success) writeJsonAtomicallySync(path, closed(parsed.data, status, error));
  }

  async writeMetrics(jobId: string, draft: MetricsDraft): Promise<void> {
    const file: MetricsFile = { schema: METRICS_SCHEMA, samples: draft.samples, series: draft.series };
    await this.json(join(this.jobDir(jobId), 'metrics.json'), file);
    await this.index(jobId);
  }

  /** Append-only logs: one line per write, whole or not at all. */
  appendSweepEvent(line: string): Promise<void> {
    return this.append(join(this.dir, 'events.jsonl'), line);
  }

  appendSweepLog(line: string): Promise<void> {
    return this.append(join(this.dir, 'sweep.log'), line);
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
    const base = join(this.dir, 'attempts', jobId);
    await mkdir(base, { recursive: true });
    const n = (await readdir(base)).length + 1;
    const to = join(base, String(n));
    await rename(from, to);
    return to;
  }

  async appendJobLog(jobId: string, line: string): Promise<void> {
    const dir = this.jobDir(jobId);
    await this.guard(dir, () => mkdir(dir, { recursive: true }));
    await this.append(join(dir, 'orchestrator.log'), line);
  }
}

function closed(manifest: JobManifest, status: JobStatus, error: JobError): JobManifest {
  return { ...manifest, status, endedAt: manifest.endedAt ?? new Date().toISOString(), errors: [...manifest.errors, error] };
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new StoreReadError(path, (error as Error).message);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StoreReadError(path, `not valid JSON (${(error as Error).message})`);
  }
}

/** A sweep of this store, by id (an id, never a path: anything else is refused unread). */
export async function readSweepManifest(resultsDir: string, sweepId: string): Promise<SweepManifest> {
  if (!isSweepId(sweepId)) throw new StoreReadError(sweepId, 'not a sweep id (expected one like 20261122T043000Z-3fa2)');
  const path = join(resultsDir, 'sweeps', sweepId, 'sweep.json');
  const parsed = SweepManifestSchema.safeParse(await readJson(path));
  if (!parsed.success) throw new StoreReadError(path, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  if (parsed.data.sweepId !== sweepId) throw new StoreReadError(path, `names sweep ${JSON.stringify(parsed.data.sweepId)}, not ${sweepId}`);
  return parsed.data;
}

export async function readJobManifest(resultsDir: string, sweepId: string, jobId: string): Promise<JobManifest> {
  const path = join(resultsDir, 'sweeps', sweepId, 'jobs', jobId, 'manifest.json');
  const parsed = JobManifestSchema.safeParse(await readJson(path));
  if (!parsed.success) throw new StoreReadError(path, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

/**
 * What each job of a sweep gives the metric histories, from the store's history index
 * (results/history-index.ts), checked against the job files and repaired from them.
 */
export { readIndexedSweep, type IndexedJob, type IndexedSweep } from './history-index.js';

export async function listSweeps(resultsDir: string): Promise<string[]> {
  try {
    return (await readdir(join(resultsDir, 'sweeps'))).filter(isSweepId).sort();
  } catch {
    return [];
  }
}

/** `<sweep dir>/findings.json`: what the sweep's analysis found (analysis/findings.ts). */
export function findingsPath(resultsDir: string, sweepId: string): string {
  if (!isSweepId(sweepId)) throw new StoreReadError(sweepId, 'not a sweep id (expected one like 20261122T043000Z-3fa2)');
  return join(resultsDir, 'sweeps', sweepId, 'findings.json');
}

export async function writeFindings(resultsDir: string, findings: Findings): Promise<void> {
  await writeJsonAtomically(findingsPath(resultsDir, findings.sweepId), FindingsSchema.parse(findings));
}

/** A sweep's findings, or undefined when it has none (sweeps before findings existed, or not analysed yet). */
export async function readFindings(resultsDir: string, sweepId: string): Promise<Findings | undefined> {
  const path = findingsPath(resultsDir, sweepId);
  const findings = await readOptional(path, FindingsSchema, 'a findings file');
  if (findings && findings.sweepId !== sweepId) throw new StoreReadError(path, `the findings of sweep ${findings.sweepId}, not of ${sweepId}`);
  return findings;
}

/** `<results_dir>/alerts/paged.json`: every change paged so far, so that none is paged twice. */
export function pagedStatePath(resultsDir: string): string {
  return join(resultsDir, 'alerts', 'paged.json');
}

export function emptyPagedState(): PagedState {
  return { schema: PAGED_SCHEMA, paged: {} };
}

/** The paging record, or undefined when there is none yet; a damaged one throws StoreReadError. */
export async function readPagedState(resultsDir: string): Promise<PagedState | undefined> {
  return readOptional(pagedStatePath(resultsDir), PagedStateSchema, 'a paging record');
}

/** A JSON file checked against its schema; undefined when it does not exist, StoreReadError when it is damaged. */
async function readOptional<T>(path: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
  let json: unknown;
  try {
    json = await readJson(path);
  } catch (error) {
    if (await missing(path)) return undefined;
    throw error;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new StoreReadError(path, `not ${what}: ${parsed.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export async function writePagedState(resultsDir: string, state: PagedState): Promise<void> {
  await writeJsonAtomically(pagedStatePath(resultsDir), PagedStateSchema.parse(state));
}

async function missing(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
