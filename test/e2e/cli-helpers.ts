// Shared by the end-to-end tests: run the real CLI as a child process and read results.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobManifestSchema, SweepManifestSchema, type JobManifest, type SweepManifest } from '../../orchestrator/results/manifest.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export function startCli(args: string[]): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'orchestrator/cli.ts'), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) if (w.pattern.test(out)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(out)) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in:\n${out}\n${err}`)), timeoutMs);
        waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
      }),
  };
}

export async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args);
  const code = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

export async function onlySweep(resultsDir: string): Promise<{ dir: string; sweep: SweepManifest }> {
  const sweeps = await readdir(join(resultsDir, 'sweeps'));
  if (sweeps.length !== 1) throw new Error(`expected one sweep in ${resultsDir}, found ${sweeps.join(', ')}`);
  const dir = join(resultsDir, 'sweeps', sweeps[0]!);
  return { dir, sweep: SweepManifestSchema.parse(JSON.parse(await readFile(join(dir, 'sweep.json'), 'utf8'))) };
}

export async function jobManifest(sweepDir: string, jobId: string): Promise<JobManifest> {
  return JobManifestSchema.parse(JSON.parse(await readFile(join(sweepDir, 'jobs', jobId, 'manifest.json'), 'utf8')));
}
