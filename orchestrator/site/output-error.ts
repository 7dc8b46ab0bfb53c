// What a person is told when the site cannot be written where it goes (`--out` names a file, a
// read-only or full disk, a file in the way of a page's directory): the file, in words, never a
// temp name or a stack. Only errors about a path inside the site's directory are output errors;
// anything else (the store unreadable, a bug) goes on as it was.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import { targetOfTemp } from '../results/atomic-write.js';
import { mkdirEach } from '../results/results-dir.js';

const REASONS: Record<string, string> = {
  ENOTDIR: 'a part of its path is a file, not a directory',
  EISDIR: 'a directory is in the way of the file',
  EEXIST: 'something else is in the way of it',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space is left on the device',
  EDQUOT: 'the disk quota is used up',
  EIO: 'an I/O error',
  ENOENT: 'a directory of its path went away while the site was written',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links in its path',
  EMFILE: 'too many files are open',
  ENFILE: 'too many files are open',
};

export class SiteOutputError extends Error {
  override readonly name = 'SiteOutputError';
  constructor(
    /** The file or directory that could not be written (never a temp name). */
    readonly path: string,
    /** The system's error code (ENOTDIR, ENOSPC...). */
    readonly code: string,
    reason = REASONS[code] ?? 'the system refused',
  ) {
    super(`cannot write ${path}: ${reason} (${code})`);
  }
}

function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The error as an output error when it is one: a system error (its `code` and `path`, also as a
 * render worker passed them on) about a path inside `outDir`, named by the file it stood for.
 */
export function siteOutputError(error: unknown, outDir: string): SiteOutputError | undefined {
  if (error instanceof SiteOutputError) return error;
  const { code, path } = (error ?? {}) as { code?: unknown; path?: unknown };
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code) || typeof path !== 'string') return undefined;
  const target = targetOfTemp(path);
  return within(outDir, target) ? new SiteOutputError(target, code) : undefined;
}

/** Makes the site's directory when missing, and refuses one that is not a writable directory, before anything is drawn. */
export async function checkOutputDir(dir: string): Promise<void> {
  try {
    // one level at a time, as the results directory is made: the reason a read-only mount gives is kept
    await mkdirEach(dir);
  } catch (error) {
    throw new SiteOutputError(dir, (error as NodeJS.ErrnoException).code ?? 'EIO');
  }
  // a name taken by a file (mkdir's EEXIST is taken as "already there")
  if (!(await stat(dir)).isDirectory()) throw new SiteOutputError(dir, 'ENOTDIR', 'it is a file, not a directory');
  try {
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new SiteOutputError(dir, (error as NodeJS.ErrnoException).code ?? 'EACCES');
  }
}
