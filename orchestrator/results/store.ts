// The results store: <results_dir>/sweeps/<sweep id>/ with sweep.json and events.jsonl,
// and jobs/<job id>/ with manifest.json, metrics.json, orchestrator.log and raw/ (the
// artifacts exactly as collected). JSON files are written atomically.
import { appendFile, mkdir, readFile, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeJsonAtomically } from './atomic-write.js';
import {
  JobManifestSchema,
  SweepManifestSchema,
  type JobManifest,
  type SweepManifest,
} from './manifest.js';
import { METRICS_SCHEMA, type MetricsDraft, type MetricsFile } from './metrics.js';

export class StoreReadError extends Error {
  override readonly name = 'StoreReadError';
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

/** Sweep ids sort by start time: 20261122T043000Z-3fa2 */
export function newSweepId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export class SweepStore {
  readonly dir: string;

  constructor(readonly resultsDir: string, readonly sweepId: string) {
    this.dir = join(resultsDir, 'sweeps', sweepId);
  }

  jobDir(jobId: string): string {
    return join(this.dir, 'jobs', jobId);
  }

  rawDir(jobId: string): string {
    return join(this.jobDir(jobId), 'raw');
  }

  async init(): Promise<void> {
    await mkdir(join(this.dir, 'jobs'), { recursive: true });
  }

  writeSweepManifest(manifest: SweepManifest): Promise<void> {
    return writeJsonAtomically(join(this.dir, 'sweep.json'), manifest);
  }

  writeJobManifest(manifest: JobManifest): Promise<void> {
    return writeJsonAtomically(join(this.jobDir(manifest.jobId), 'manifest.json'), manifest);
  }

  writeMetrics(jobId: string, draft: MetricsDraft): Promise<void> {
    const file: MetricsFile = { schema: METRICS_SCHEMA, samples: draft.samples, series: draft.series };
    return writeJsonAtomically(join(this.jobDir(jobId), 'metrics.json'), file);
  }

  /** Append-only logs: one line per write (appends of a line are not torn). */
  async appendSweepEvent(line: string): Promise<void> {
    await appendFile(join(this.dir, 'events.jsonl'), `${line}\n`);
  }

  async appendSweepLog(line: string): Promise<void> {
    await appendFile(join(this.dir, 'sweep.log'), `${line}\n`);
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
    await mkdir(this.jobDir(jobId), { recursive: true });
    await appendFile(join(this.jobDir(jobId), 'orchestrator.log'), `${line}\n`);
  }
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

export async function readSweepManifest(resultsDir: string, sweepId: string): Promise<SweepManifest> {
  const path = join(resultsDir, 'sweeps', sweepId, 'sweep.json');
  const parsed = SweepManifestSchema.safeParse(await readJson(path));
  if (!parsed.success) throw new StoreReadError(path, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

export async function readJobManifest(resultsDir: string, sweepId: string, jobId: string): Promise<JobManifest> {
  const path = join(resultsDir, 'sweeps', sweepId, 'jobs', jobId, 'manifest.json');
  const parsed = JobManifestSchema.safeParse(await readJson(path));
  if (!parsed.success) throw new StoreReadError(path, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

export async function listSweeps(resultsDir: string): Promise<string[]> {
  try {
    return (await readdir(join(resultsDir, 'sweeps'))).filter((name) => /^\d{8}T\d{6}Z-[0-9a-f]+$/.test(name)).sort();
  } catch {
    return [];
  }
}
