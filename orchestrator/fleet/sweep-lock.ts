// One sweep per inventory at a time: a cron sweep that overruns must not overlap the
// next one (two perf runs on a host would corrupt both). proper-lockfile keeps the lock
// fresh while held and treats it as stale if its holder died, so a crash does not block
// the nightly run forever.
import lockfile from 'proper-lockfile';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

export class SweepLockedError extends Error {
  override readonly name = 'SweepLockedError';
  constructor(readonly inventoryFile: string, readonly lockPath: string, readonly holder: string) {
    super(`another sweep of ${inventoryFile} is running (${holder}); lock ${lockPath}. Not starting.`);
  }
}

export interface SweepLock {
  path: string;
  release(): Promise<void>;
}

export function sweepLockPath(resultsDir: string, inventoryFile: string): string {
  const id = createHash('sha256').update(inventoryFile).digest('hex').slice(0, 12);
  return join(resultsDir, 'locks', `${basename(inventoryFile).replace(/[^A-Za-z0-9._-]/g, '_')}-${id}.lock`);
}

export async function acquireSweepLock(resultsDir: string, inventoryFile: string, onCompromised?: (error: Error) => void): Promise<SweepLock> {
  const path = sweepLockPath(resultsDir, inventoryFile);
  await mkdir(join(resultsDir, 'locks'), { recursive: true });
  const holderFile = `${path}.holder`;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(inventoryFile, {
      lockfilePath: path,
      realpath: false,
      stale: 30_000,
      update: 10_000,
      onCompromised: (error) => onCompromised?.(error),
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOCKED') {
      const holder = await readFile(holderFile, 'utf8').then((t) => t.trim(), () => 'holder unknown');
      throw new SweepLockedError(inventoryFile, path, holder);
    }
    throw error;
  }
  await writeFile(holderFile, `pid ${process.pid} since ${new Date().toISOString()}\n`);
  return { path, release: () => release() };
}
