// One sweep per results directory at a time: a cron sweep that overruns must not overlap
// the next one (two perf runs on a host would corrupt both), and two sweeps into one store
// would build, publish and prune its report site at once. The lock is keyed by the results
// directory's real path, so an inventory reached through a symlink, a copy of it, or another
// inventory writing to the same place all share it; the holder record names the inventory's
// real path, so the refusal says which one runs.
//
// The lock is <results>/locks/sweep.lock, created whole by link(2) (atomic, also over NFS)
// from a temp file that already holds the holder record. A lock is stale:
// - at once when its holder was on this machine (same boot, same PID namespace) and that
//   process is gone, or its PID now belongs to a process started later (PID reuse);
// - otherwise (a holder on another machine sharing the results directory, or a record that
//   cannot be read) when it has not been refreshed for LOCK_STALE_MS; a holder refreshes
//   the lock's mtime every LOCK_REFRESH_MS.
import { readFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { link, mkdir, readFile, realpath, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import * as z from 'zod';
import { writeFileAtomically } from '../results/atomic-write.js';
import { locksDir, sweepLockPath as storeLockPath } from '../results/store-layout.js';
import { probeProcess, processStartTime, type ProcessProbe } from '../local-process.js';

export const LOCK_REFRESH_MS = 10_000;
/** Generous for NFS: attribute caches may show an mtime up to a minute old. */
export const LOCK_STALE_MS = 120_000;

const LockHolderSchema = z.object({
  token: z.string(),
  pid: z.number().int(),
  hostname: z.string(),
  bootId: z.string().nullable(),
  pidNamespace: z.string().nullable(),
  /** /proc/<pid>/stat starttime (clock ticks since boot): with bootId, names one process. */
  processStart: z.string().nullable(),
  inventory: z.string(),
  resultsDir: z.string(),
  since: z.string(),
});
export type LockHolder = z.infer<typeof LockHolderSchema>;

/** What makes "the same machine" for PIDs: one boot of one kernel, one PID namespace. */
export interface Machine {
  hostname: string;
  bootId: string | null;
  pidNamespace: string | null;
}


export type LockVerdict = { stale: boolean; reason: string };

export class SweepLockedError extends Error {
  override readonly name = 'SweepLockedError';
  constructor(readonly lockPath: string, readonly holder: LockHolder | undefined, readonly resultsDir: string) {
    super(
      holder
        ? `another sweep of ${holder.inventory} is running (pid ${holder.pid} on ${holder.hostname} since ${holder.since}) into ${holder.resultsDir}; lock ${lockPath}. Not starting.`
        : `another sweep into ${resultsDir} is running (holder unknown); lock ${lockPath}. Not starting.`,
    );
  }
}

export interface SweepLock {
  path: string;
  release(): Promise<void>;
  /** For a process on its way out (no event-loop turn left). */
  releaseSync(): void;
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

export function thisMachine(): Machine {
  return {
    hostname: hostname(),
    bootId: readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), null),
    pidNamespace: readOr(() => readlinkSync('/proc/self/ns/pid'), null),
  };
}


/** Whether a lock whose file was last refreshed at `mtimeMs` may be taken over. */
export function judgeLock(
  holder: LockHolder | undefined,
  mtimeMs: number,
  now: number,
  machine: Machine,
  probe: ProcessProbe,
  staleMs = LOCK_STALE_MS,
): LockVerdict {
  const age = Math.max(0, Math.round((now - mtimeMs) / 1000));
  const byTimer = (who: string): LockVerdict =>
    now - mtimeMs > staleMs
      ? { stale: true, reason: `${who}; not refreshed for ${age} s` }
      : { stale: false, reason: `${who}; refreshed ${age} s ago` };
  if (!holder) return byTimer('holder record unreadable');
  const sameMachine =
    holder.bootId !== null && holder.bootId === machine.bootId && holder.pidNamespace !== null && holder.pidNamespace === machine.pidNamespace;
  if (!sameMachine) return byTimer(`holder pid ${holder.pid} on ${holder.hostname}, another machine or boot`);
  const found = probe(holder.pid);
  if (!found.alive) return { stale: true, reason: `holder pid ${holder.pid} is gone` };
  if (holder.processStart !== null && found.start !== null && found.start !== holder.processStart) {
    return { stale: true, reason: `pid ${holder.pid} is now another process` };
  }
  return { stale: false, reason: `holder pid ${holder.pid} is running` };
}

/** The lock of the results directory at its real path (the store's layout says where). */
export function sweepLockPath(realResultsDir: string): string {
  return storeLockPath(realResultsDir);
}

interface LockFile {
  text: string;
  holder: LockHolder | undefined;
  ino: number;
  mtimeMs: number;
}

async function readLockFile(path: string): Promise<LockFile | undefined> {
  try {
    const [text, s] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let holder: LockHolder | undefined;
    try {
      const parsed = LockHolderSchema.safeParse(JSON.parse(text));
      holder = parsed.success ? parsed.data : undefined;
    } catch {
      holder = undefined;
    }
    return { text, holder, ino: s.ino, mtimeMs: s.mtimeMs };
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Moves the stale lock aside and deletes it, but only if what was moved is the file judged
 * stale: should another process have replaced it in between, its lock is put back.
 */
async function removeStale(path: string, judged: LockFile): Promise<void> {
  const aside = `${path}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return;
    throw error;
  }
  const moved = await stat(aside);
  if (moved.ino !== judged.ino) await link(aside, path).catch(() => undefined);
  await unlink(aside);
}

export interface AcquireOptions {
  onCompromised?: (error: Error) => void;
  machine?: Machine;
  probe?: ProcessProbe;
  refreshMs?: number;
  staleMs?: number;
}

export async function acquireSweepLock(resultsDir: string, inventoryFile: string, options: AcquireOptions = {}): Promise<SweepLock> {
  await mkdir(locksDir(resultsDir), { recursive: true });
  const realResults = await realpath(resultsDir);
  const path = sweepLockPath(realResults);
  const machine = options.machine ?? thisMachine();
  const holder: LockHolder = {
    token: randomBytes(8).toString('hex'),
    pid: process.pid,
    hostname: machine.hostname,
    bootId: machine.bootId,
    pidNamespace: machine.pidNamespace,
    processStart: processStartTime(process.pid),
    inventory: await realpath(inventoryFile).catch(() => resolve(inventoryFile)),
    resultsDir: realResults,
    since: new Date().toISOString(),
  };
  const record = `${JSON.stringify(holder)}\n`;
  const temp = `${path}.${holder.token}.new`;
  await writeFileAtomically(temp, record);
  try {
    let acquired = false;
    for (let attempt = 0; attempt < 5 && !acquired; attempt++) {
      try {
        await link(temp, path);
        acquired = true;
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') throw error;
        const current = await readLockFile(path);
        if (!current) continue;
        const verdict = judgeLock(current.holder, current.mtimeMs, Date.now(), machine, options.probe ?? probeProcess, options.staleMs);
        if (!verdict.stale) throw new SweepLockedError(path, current.holder, realResults);
        await removeStale(path, current);
      }
    }
    if (!acquired) throw new SweepLockedError(path, (await readLockFile(path))?.holder, realResults);
  } finally {
    await rm(temp, { force: true });
  }

  const ours = (text: string | undefined) => text === record;
  let compromised = false;
  const refresh = setInterval(() => {
    void (async () => {
      const current = await readLockFile(path).catch(() => undefined);
      if (ours(current?.text)) {
        const now = new Date();
        await utimes(path, now, now).catch(() => undefined);
      } else if (!compromised) {
        compromised = true;
        clearInterval(refresh);
        options.onCompromised?.(new Error(`${path} was removed or taken over by another process`));
      }
    })();
  }, options.refreshMs ?? LOCK_REFRESH_MS);
  refresh.unref();

  return {
    path,
    async release() {
      clearInterval(refresh);
      if (ours((await readLockFile(path).catch(() => undefined))?.text)) await unlink(path).catch(() => undefined);
    },
    releaseSync() {
      clearInterval(refresh);
      try {
        if (readFileSync(path, 'utf8') === record) unlinkSync(path);
      } catch {
        // gone already, or not ours to remove
      }
    },
  };
}
