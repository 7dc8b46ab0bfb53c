// Runs a bash helper's functions the way a test of them should: a fresh `bash -c` that sources
// the helper's files (a library under remote-scripts/lib/, or an executable, whose `main` runs
// only when it is executed) under the helpers' own strict mode, then runs a script that calls
// them. The environment holds PATH and what the test passes, nothing of the test runner's.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** remote-scripts/ of this checkout, with a trailing slash. */
export const SCRIPTS = fileURLToPath(new URL('../../remote-scripts/', import.meta.url));

export interface BashRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface BashOptions {
  /** Variables besides PATH. */
  env?: Record<string, string>;
  /** $1... of the script. */
  args?: string[];
  cwd?: string;
  /** stdin (else empty). */
  input?: string;
}

/** `. 'FILE'` with FILE quoted for bash. */
export function sourceLine(file: string): string {
  return `. '${(SCRIPTS + file).replaceAll("'", "'\\''")}'`;
}

/**
 * Runs SCRIPT in bash after `set -euo pipefail` and sourcing FILES (paths under remote-scripts/,
 * in order). Resolves with the exit status and output whatever the status is (a test of a refusal
 * needs the status and stderr).
 */
export function sourced(files: string[], script: string, options: BashOptions = {}): Promise<BashRun> {
  const text = ['set -euo pipefail', ...files.map(sourceLine), script].join('\n');
  return new Promise((resolve, reject) => {
    const child = execFile(
      'bash',
      ['--norc', '--noprofile', '-c', text, 'test', ...(options.args ?? [])],
      { env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...options.env }, cwd: options.cwd, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        if (code === null) reject(new Error(`bash did not exit normally (${error?.message}): ${stderr}`));
        else resolve({ code, stdout, stderr });
      },
    );
    // bash may exit without reading stdin: a write to the closed pipe is not the test's failure
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

/** As sourced(), but a non-zero status is an error carrying stderr; resolves with stdout. */
export async function sourcedOk(files: string[], script: string, options: BashOptions = {}): Promise<string> {
  const run = await sourced(files, script, options);
  if (run.code !== 0) throw new Error(`bash exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}
