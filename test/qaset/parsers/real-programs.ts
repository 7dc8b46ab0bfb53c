// What the parser tests need to run a real benchmark program and read what it printed: a check
// that the programs are installed (for guardedSuite), a bounded run that fails loudly (exit
// status, stderr tail, timeout), a scratch directory, and the one-sample lookup the assertions use.
import { execFile } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import type { MetricSample } from '../../../orchestrator/results/metrics.js';
import type { Check } from '../../support/requirements.js';

async function onPath(name: string): Promise<boolean> {
  if (name.includes('/')) return fsp.access(name, fsc.X_OK).then(() => true, () => false);
  for (const dir of (process.env['PATH'] ?? '').split(':').filter(Boolean)) {
    if (await fsp.access(path.join(dir, name), fsc.X_OK).then(() => true, () => false)) return true;
  }
  return false;
}

/** A requirement: every program is installed (on PATH, or at the absolute path given). */
export function needsPrograms(...names: string[]): Check {
  return async () => {
    const missing: string[] = [];
    for (const n of names) if (!(await onPath(n))) missing.push(n);
    return missing.length > 0 ? `not installed: ${missing.join(', ')} (bash test/install-deps.sh installs them)` : null;
  };
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a program to completion and returns its stdout; any failure throws with what it printed. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const why = (err as NodeJS.ErrnoException & { killed?: boolean }).killed ? `timed out after ${opts.timeoutMs ?? 30_000} ms` : err.message.split('\n')[0];
          reject(new Error(`${cmd} ${args.join(' ')}: ${why}\n${String(stderr).slice(-600)}`));
        } else resolve(String(stdout));
      },
    );
  });
}

export function scratchDir(prefix: string): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), `qaset-${prefix}-`));
}

/** The single sample of `metric` whose labels include `labels` (fails unless exactly one). */
export function one(samples: readonly MetricSample[], metric: string, labels: Record<string, string> = {}): MetricSample {
  const hits = samples.filter((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.is(hits.length, 1, `${metric} ${JSON.stringify(labels)}: ${hits.length} matches`);
  return hits[0]!;
}

/** Every sample of `metric`, in file order. */
export function all(samples: readonly MetricSample[], metric: string): MetricSample[] {
  return samples.filter((s) => s.metric === metric);
}
