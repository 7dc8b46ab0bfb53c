// Every file the product writes whole goes through here: written to a temp file beside the
// target, fsynced, then renamed over it, so a reader (or a crash, or a full disk) never
// leaves a half-written or empty file: the target is the old content or the new, and a
// failed write removes its temp file before the error goes on. `durable: false` skips the
// fsync, for files rebuilt from the store anyway (the report site's ~130k pages at 7,300 jobs,
// where fsync made each write 4x dearer): a reader still never sees half a file, and after a
// crash a page may be empty until the next build rewrites it.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** Errors that mean "the disk (or the user's quota) is full". */
export function isNoSpaceError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Temp names made by this thread (each worker thread has its own copy of this module). */
let tempCounter = 0;

/**
 * A dot name in the same directory (same filesystem, so the rename is atomic); readers that list
 * a directory skip it. Unique without randomness: the pid tells live processes apart, the thread
 * id the threads of one process (render workers write too), and the counter one thread's writes.
 * A temp file a dead process left under a reused pid is met as EEXIST (temps are created
 * exclusively, 'wx') and the write takes the next name, so it never writes into someone's file.
 */
export function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${threadId}.${(tempCounter++).toString(36)}.tmp`);
}

/** A name tempPath() makes: `.<name>.<pid>.<thread>.<counter>.tmp`. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.\d+\.[0-9a-z]+\.tmp$/;

/** The pid of the process that made a temp name of tempPath(), or undefined for any other name. */
export function tempWriterPid(name: string): number | undefined {
  const pid = TEMP_NAME.exec(name)?.[2];
  return pid === undefined ? undefined : Number(pid);
}

/** Whether a file's name is one of tempPath()'s: a write in progress, or one a killed process left. */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/** The file a temp name of tempPath() stands for (itself when it is not one): what an error names to a person. */
export function targetOfTemp(path: string): string {
  const name = TEMP_NAME.exec(basename(path))?.[1];
  return name === undefined ? path : join(dirname(path), name);
}

/** Tries to create a temp file this many times before the EEXIST goes on (see tempPath). */
const TEMP_ATTEMPTS = 8;

// Writes to one path are queued, so a later write always lands after an earlier one.
const queues = new Map<string, Promise<void>>();

export interface AtomicWriteOptions {
  /** fsync the file before the rename (default true). */
  durable?: boolean;
}

/** The temp file, created exclusively; its directory is made only when missing (one mkdir per
 * write cost more than the write, and most writes go into directories that exist). */
async function openTemp(path: string): Promise<{ temp: string; handle: import('node:fs/promises').FileHandle }> {
  for (let attempt = 1; ; attempt++) {
    const temp = tempPath(path);
    try {
      return { temp, handle: await open(temp, 'wx', 0o644) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && attempt < TEMP_ATTEMPTS) continue;
      if (code !== 'ENOENT') throw error;
      await mkdir(dirname(temp), { recursive: true });
      return { temp, handle: await open(temp, 'wx', 0o644) };
    }
  }
}

async function writeOnce(path: string, data: string | Buffer, durable: boolean): Promise<void> {
  let temp: string | undefined;
  let written = false;
  try {
    const opened = await openTemp(path);
    temp = opened.temp;
    const handle = opened.handle;
    try {
      await handle.writeFile(data); // loops until every byte is written (a short write is not success)
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    written = true;
  } finally {
    if (!written && temp !== undefined) await rm(temp, { force: true }).catch(() => undefined);
  }
}

export function writeFileAtomically(path: string, data: string | Buffer, options: AtomicWriteOptions = {}): Promise<void> {
  const durable = options.durable ?? true;
  const previous = queues.get(path);
  const next = previous ? previous.then(() => writeOnce(path, data, durable)) : writeOnce(path, data, durable);
  const settled = next.catch(() => undefined);
  queues.set(path, settled);
  void settled.then(() => {
    if (queues.get(path) === settled) queues.delete(path);
  });
  return next;
}

export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * The same, synchronously: for the last record a process writes on its way out (the third
 * Ctrl-C), when no event-loop turn is left. The directory must exist.
 */
export function writeJsonAtomicallySync(path: string, value: unknown): void {
  const data = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  const temp = tempPath(path);
  let written = false;
  try {
    const fd = openSync(temp, 'wx', 0o644);
    try {
      for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset, data.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    written = true;
  } finally {
    if (!written) {
      try {
        unlinkSync(temp);
      } catch {
        // never created, or already gone
      }
    }
  }
}

/** A file written whole under its temp name beside `path`, waiting to be renamed into place. */
export interface StagedFile {
  temp: string;
  path: string;
}

function writeAllSync(fd: number, data: string | Buffer): void {
  let buffer: Buffer;
  if (typeof data === 'string') {
    const length = Buffer.byteLength(data);
    const done = writeSync(fd, data);
    if (done === length) return;
    buffer = Buffer.from(data).subarray(done); // a short write (a full disk says so on the next call)
  } else {
    buffer = data;
  }
  for (let offset = 0; offset < buffer.length; ) offset += writeSync(fd, buffer, offset, buffer.length - offset);
}

/**
 * Writes `data` whole to a new temp file beside `path` (its directory made when missing), without
 * fsync, synchronously: for a render worker, whose thread has nothing else to do meanwhile (no
 * promise, no thread-pool hop per call). commitStagedSync renames it into place; on failure
 * nothing is left behind.
 */
export function stageFileSync(path: string, data: string | Buffer): StagedFile {
  let fd: number | undefined;
  let temp = '';
  for (let attempt = 1; fd === undefined; attempt++) {
    temp = tempPath(path);
    try {
      fd = openSync(temp, 'wx', 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && attempt < TEMP_ATTEMPTS) continue;
      if (code !== 'ENOENT') throw error;
      mkdirSync(dirname(temp), { recursive: true });
      fd = openSync(temp, 'wx', 0o644);
    }
  }
  try {
    writeAllSync(fd, data);
  } catch (error) {
    closeSync(fd);
    removeQuietly(temp);
    throw error;
  }
  closeSync(fd);
  return { temp, path };
}

/** Renames staged files into place in their order; on a failure the ones not yet renamed are removed. */
export function commitStagedSync(staged: readonly StagedFile[]): void {
  let index = 0;
  try {
    for (; index < staged.length; index++) renameSync(staged[index]!.temp, staged[index]!.path);
  } finally {
    for (; index < staged.length; index++) removeQuietly(staged[index]!.temp);
  }
}

/** Removes staged files that will not be committed. */
export function discardStagedSync(staged: readonly StagedFile[]): void {
  for (const file of staged) removeQuietly(file.temp);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // never created, or already gone
  }
}

/**
 * Appends whole lines or nothing: a failed append is cut back to where the file ended, and a file
 * it had just created is removed. `header` is written first when the file is new (empty).
 */
export async function appendWhole(path: string, text: string, header = ''): Promise<void> {
  const handle = await open(path, 'a');
  let size: number | undefined;
  try {
    size = (await handle.stat()).size;
    await handle.writeFile(size === 0 ? `${header}${text}` : text);
  } catch (error) {
    if (size !== undefined) await handle.truncate(size).catch(() => undefined);
    if (size === 0) await unlink(path).catch(() => undefined);
    throw error;
  } finally {
    await handle.close();
  }
}
