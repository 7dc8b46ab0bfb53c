// Before a sweep connects to anything, the results directory must be one it can write:
// a directory (created if missing), writable (a probe file is written and removed: a
// read-only mount stops root too), with at least MIN_FREE_BYTES free. Each problem
// becomes a ResultsDirError naming the path and what is wrong, never a stack trace.
import { lstat, mkdir, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isNoSpaceError, writeFileAtomically } from './atomic-write.js';
import { locksDir, sweepsDir } from './store-layout.js';

/**
 * The free space a sweep needs to start, and keeps checking before each host: enough for the
 * manifests, logs and metrics of a sweep, with room to spare. Raw artifacts can be far larger;
 * the results directory's size is the operator's to watch (`orchestrate prune`).
 */
export const MIN_FREE_BYTES = 64 * 1024 ** 2;

export class ResultsDirError extends Error {
  override readonly name = 'ResultsDirError';
  constructor(readonly path: string, readonly problem: string) {
    super(`results directory ${path} ${problem}`);
  }
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** Bytes an unprivileged write can still use on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Why writing under a directory failed, as "<dir> ..." words (the errno decides). */
export function writeProblem(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (isNoSpaceError(error)) return 'is full (no space left on device)';
  if (code === 'EROFS') return 'is on a read-only filesystem';
  if (code === 'EACCES' || code === 'EPERM') return 'is not writable (permission denied)';
  return `cannot be written (${(error as Error).message})`;
}

async function kindOf(path: string): Promise<'directory' | 'missing' | string> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) return 'directory';
    return s.isFile() ? 'a regular file' : 'a special file';
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT') {
      // Another sweep may create it between the two calls: only a symlink that is still one is dangling.
      const link = await lstat(path).catch(() => undefined);
      if (link === undefined) return 'missing';
      if (link.isSymbolicLink()) return 'a dangling symlink';
      return kindOf(path);
    }
    if (code === 'ENOTDIR') return 'missing';
    throw error;
  }
}

/** The nearest ancestor of a missing `dir` that is not a directory, if one is in the way. */
async function blockingAncestor(dir: string): Promise<{ path: string; kind: string } | undefined> {
  for (let at = dirname(dir); ; at = dirname(at)) {
    const kind = await kindOf(at);
    if (kind === 'directory') return undefined;
    if (kind !== 'missing') return { path: at, kind };
    if (dirname(at) === at) return undefined;
  }
}

/**
 * mkdir -p one level at a time: a recursive mkdir reports ENOENT where the filesystem said
 * EROFS, and the true reason is what the message needs (the report site's directory too).
 */
export async function mkdirEach(path: string): Promise<void> {
  const parent = dirname(path);
  if (parent !== path && (await kindOf(parent)) === 'missing') await mkdirEach(parent);
  try {
    await mkdir(path);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  }
}

async function ensureDirectory(path: string, reportAs: string): Promise<void> {
  const kind = await kindOf(path).catch((error: Error) => {
    throw new ResultsDirError(reportAs, `cannot be read (${error.message})`);
  });
  if (kind === 'directory') return;
  const shown = path === reportAs ? 'is' : `has ${path.slice(reportAs.length + 1)}, which is`;
  if (kind !== 'missing') throw new ResultsDirError(reportAs, `${shown} ${kind}, not a directory`);
  const blocker = await blockingAncestor(path);
  if (blocker) throw new ResultsDirError(reportAs, `cannot be created: ${blocker.path} is ${blocker.kind}, not a directory`);
  try {
    await mkdirEach(path);
  } catch (error) {
    const problem = writeProblem(error);
    throw new ResultsDirError(
      reportAs,
      path === reportAs ? `cannot be created: ${problem.replace(/^is /, 'its parent is ')}` : `${problem} (cannot create ${path.slice(reportAs.length + 1)}/ in it)`,
    );
  }
}

/**
 * Checks (and creates) `<dir>`, `<dir>/sweeps` and `<dir>/locks`, writes and removes a probe
 * file, and measures the free space. Throws ResultsDirError; connects to nothing.
 */
export async function checkResultsDir(dir: string, minFreeBytes = MIN_FREE_BYTES): Promise<void> {
  await ensureDirectory(dir, dir);
  const sweeps = sweepsDir(dir);
  for (const sub of [sweeps, locksDir(dir)]) await ensureDirectory(sub, dir);
  const probe = join(sweeps, `.write-probe-${process.pid}`);
  try {
    await writeFileAtomically(probe, 'orchestrate: can the results directory be written?\n');
  } catch (error) {
    throw new ResultsDirError(dir, writeProblem(error));
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
  const free = await freeBytes(sweeps);
  if (free < minFreeBytes) {
    throw new ResultsDirError(dir, `has only ${mib(free)} free; a sweep needs at least ${mib(minFreeBytes)} (free some space, \`orchestrate prune\`, or point results_dir elsewhere)`);
  }
}
