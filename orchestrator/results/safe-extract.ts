/**
 * Safe streaming extraction of the tar (optionally gzip) archives that hosts send back.
 *
 * Everything a host sends is treated as hostile. The rules, in the order they are applied:
 *
 * - Streaming: entry content goes straight from the parser to an open file descriptor, chunk by
 *   chunk, with back-pressure all the way to the source. Nothing holds a whole file in memory, so a
 *   multi-GB heap dump extracts with flat memory.
 * - Limits: every entry counts toward `maxEntries` (default 100 000), rejected ones included.
 *   Every content byte that arrives counts toward `maxBytes` as it arrives, including the content
 *   of rejected entries that is drained and thrown away (a hostile host must not be able to make
 *   us read unbounded data just by naming it '../x'). A chunk that would cross `maxBytes` is not
 *   written, so `writtenBytes <= maxBytes`. The raw (decompressed) tar stream itself is bounded by
 *   `maxBytes` plus 8 KiB per entry plus 16 MiB of slack, so a gzip bomb of padding or headers is
 *   cut short too. On a limit the source stream is destroyed, open files are closed and
 *   ArchiveLimitError is thrown; partial files stay on disk for the caller to mark the job.
 * - Names: member names are normalized lexically ('.' and empty segments dropped, 'a/../b' -> 'b').
 *   Absolute names, names whose '..' climbs above the destination, names with a NUL byte and empty
 *   names are rejected (recorded in `rejected`, content drained, extraction continues). A directory
 *   entry naming the root itself ('./', as `tar -C dir -cf - .` produces) is silently skipped.
 * - No writing through symlinks (the rule we picked): every existing parent component of an
 *   entry's path inside destDir is lstat'ed, and if any of them is a symlink the entry is REJECTED,
 *   even when that symlink points inside destDir. So `link -> sub` is created, but a later
 *   `link/file` is rejected (it is not redirected to `sub/file`). A parent component that is a
 *   regular file also rejects the entry. Missing parents are created as real directories (0755).
 * - Existing final path: a directory is never replaced (a file/link entry at a directory's path is
 *   rejected; a directory entry re-applies the mode). Anything else at the final path (a file, a
 *   symlink, a hard link) is unlinked first, and files are then created with
 *   O_CREAT|O_EXCL|O_NOFOLLOW, so an old symlink is never followed and an old hard link's other
 *   name is never modified. Later duplicates of a name win, as with tar.
 * - Symlinks: the target must be relative, made of leading '..' segments followed only by names,
 *   and the leading '..' must stay inside destDir when resolved from the link's own directory.
 *   Absolute targets, escaping targets and targets with '..' after a name ('a/../b') are rejected;
 *   see checkSymlinkTarget in archive-paths.ts for why this keeps every chain of links inside.
 * - Hard links: the target (a member name, relative to the archive root) must be a regular file
 *   extracted earlier by this same call and still a regular file; it is created as a real hard
 *   link inside destDir. Links to '/etc/passwd', to '../x', to directories, to symlinks or to
 *   anything that was already in destDir before the call are rejected.
 * - Types: character and block devices, fifos and any other type are rejected. 'contiguous-file'
 *   is a regular file; a 'file' whose name ends in '/' (old tar) is a directory.
 * - Modes: owner rwx bits plus group/other r-x are kept; setuid, setgid, sticky and group/other
 *   write are stripped; the owner always keeps rw on files and rwx on directories so the
 *   orchestrator can read and clean up. Modes are applied with fchmod (umask does not apply).
 *   File mtimes are kept; owners are never changed.
 * - Format: a truncated stream (mid-header, mid-content, or ending right after an entry without
 *   the zero end-of-archive block), a bad header checksum or corrupt/truncated gzip data rejects
 *   with ArchiveFormatError. An error of the source stream itself is rethrown as is.
 *
 * The destination is assumed not to be modified concurrently by other local processes (checks
 * are lstat-then-act; Node has no openat()). Only this call writes into destDir.
 */
import { constants as fsc } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { extract as tarExtract, type Extract, type Header } from 'tar-stream';
import {
  ArchiveFormatError,
  ArchiveLimitError,
  emptyResult,
  type ExtractResult,
} from './archive-errors.js';
import { checkSymlinkTarget, normalizeEntryPath, sanitizeMode } from './archive-paths.js';

export { ArchiveFormatError, ArchiveLimitError, type ExtractResult } from './archive-errors.js';

export interface ExtractOptions {
  /** Total bytes of entry content allowed; exceeding it aborts with ArchiveLimitError('bytes'). */
  maxBytes: number;
  /** Entries allowed (rejected ones count); default 100_000. */
  maxEntries?: number;
  /** The input is gzip-compressed. */
  gzip?: boolean;
}

export const DEFAULT_MAX_ENTRIES = 100_000;

const RAW_OVERHEAD_PER_ENTRY = 8 * 1024;
const RAW_OVERHEAD_SLACK = 16 * 1024 * 1024;
const MAX_REPORTED_PATH = 512;

const FILE_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;

type Source = NodeJS.ReadableStream | Readable;
/** One entry's content stream as tar-stream yields it (its type is not exported). */
type Entry = Extract extends AsyncIterable<infer E> ? E : never;
/** tar-stream's header as it really arrives: type may be null for unknown typeflags, linkname null. */
type EntryHeader = Omit<Header, 'type' | 'linkname'> & { type: Header['type'] | null; linkname: string | null; byteOffset?: number };

/**
 * Extracts a tar stream into destDir (created if missing) under the rules in this file's header.
 * Resolves with counts and the list of rejected entries; rejects with ArchiveLimitError,
 * ArchiveFormatError, the source stream's own error, or a filesystem error of the destination.
 */
export async function extractArchive(source: Source, destDir: string, options: ExtractOptions): Promise<ExtractResult> {
  const maxBytes = options.maxBytes;
  if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes < 0) {
    throw new TypeError(`extractArchive: maxBytes must be a non-negative number, got ${String(maxBytes)}`);
  }
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (typeof maxEntries !== 'number' || Number.isNaN(maxEntries) || maxEntries < 0) {
    throw new TypeError(`extractArchive: maxEntries must be a non-negative number, got ${String(maxEntries)}`);
  }
  await fsp.mkdir(destDir, { recursive: true, mode: 0o755 });
  const root = await fsp.realpath(destDir);
  const st = await fsp.lstat(root);
  if (!st.isDirectory()) throw new Error(`extractArchive: destination is not a directory: ${destDir}`);
  return new Extraction(root, maxBytes, maxEntries, options.gzip === true).run(source);
}

class Extraction {
  private readonly result = emptyResult();
  /** Content bytes seen (written or drained). */
  private consumed = 0;
  /** Raw tar bytes handed to the parser. */
  private rawBytes = 0;
  private entries = 0;
  /** Offset just after the last entry's content (padded), to check an end-of-archive block follows. */
  private lastEntryEnd = 0;
  /** Relative paths known to be real directories (never removed once they are). */
  private readonly realDirs = new Set<string>();
  /** Relative paths of regular files created by this call (valid hard link targets). */
  private readonly extractedFiles = new Set<string>();

  private aborted = false;
  private fedAll = false;
  private feedError: unknown = null;
  private limitError: ArchiveLimitError | null = null;
  /** First error the tar parser reported (entry streams only say "Stream was destroyed"). */
  private parseError: unknown = null;
  private gunzip: Gunzip | null = null;

  constructor(
    private readonly root: string,
    private readonly maxBytes: number,
    private readonly maxEntries: number,
    private readonly gzip: boolean,
  ) {}

  async run(source: Source): Promise<ExtractResult> {
    const ex = tarExtract();
    ex.on('error', (err: Error) => {
      if (this.parseError === null) this.parseError = err;
    });
    const feeding = this.feed(source, ex);
    let failure: unknown = null;
    try {
      for await (const entry of ex) {
        try {
          await this.onEntry(entry);
        } catch (err) {
          this.aborted = true;
          throw err;
        }
      }
    } catch (err) {
      failure = err;
    }

    if (failure === null) {
      await feeding;
      if (this.feedError !== null) failure = this.feedError;
      else if (!this.fedAll) failure = new ArchiveFormatError('archive stream ended unexpectedly', this.result);
      else if (this.rawBytes - this.lastEntryEnd < 512) {
        failure = new ArchiveFormatError(
          this.rawBytes === 0
            ? 'empty archive stream (no tar data at all)'
            : 'truncated archive: the stream ends without an end-of-archive block after the last entry',
          this.result,
        );
      } else {
        return this.result;
      }
    }

    // Failure: stop everything. The feeder checks `aborted` and never rejects; it is not awaited
    // here because a source that ignores destroy() could keep it pending forever.
    this.abort(source, ex);
    throw this.classify(failure);
  }

  // ---------------------------------------------------------------- input side

  private async feed(source: Source, ex: Extract): Promise<void> {
    try {
      const raw = asAsyncIterable(source);
      let input: AsyncIterable<unknown> = raw;
      if (this.gzip) {
        const gz = createGunzip();
        this.gunzip = gz;
        input = pipeline(raw, gz, () => {});
      }
      for await (const chunk of input) {
        if (this.aborted) return;
        const buf = toBuffer(chunk);
        if (buf.length === 0) continue;
        this.rawBytes += buf.length;
        const allowance = this.maxBytes + (this.entries + 1) * RAW_OVERHEAD_PER_ENTRY + RAW_OVERHEAD_SLACK;
        if (this.rawBytes > allowance) {
          this.limitError = new ArchiveLimitError(
            'bytes',
            `archive stream exceeds ${allowance} bytes (maxBytes ${this.maxBytes} plus header allowance)`,
            this.result,
          );
          this.aborted = true;
          ex.destroy(this.limitError);
          return;
        }
        if (!ex.write(buf)) await waitDrain(ex);
        if (this.aborted || ex.destroyed) return;
      }
      if (this.aborted) return;
      ex.end(null);
      this.fedAll = true;
    } catch (err) {
      if (this.aborted) return;
      this.feedError = err;
      ex.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private abort(source: Source, ex: Extract): void {
    this.aborted = true;
    // Destroy without an error argument: an 'error' event with no listener left would crash.
    const s = source as { destroy?: () => void };
    if (typeof s.destroy === 'function') {
      try {
        s.destroy();
      } catch {
        /* ignore */
      }
    }
    this.gunzip?.destroy();
    if (!ex.destroyed) ex.destroy();
  }

  private classify(err: unknown): unknown {
    if (this.limitError !== null) return this.limitError;
    if (err instanceof ArchiveLimitError || err instanceof ArchiveFormatError) return err;
    if (this.feedError !== null) {
      const fe = this.feedError as { code?: unknown; message?: unknown };
      if (typeof fe.code === 'string' && fe.code.startsWith('Z_')) {
        return new ArchiveFormatError(`corrupt or truncated gzip data: ${String(fe.message)}`, this.result, { cause: fe });
      }
      return this.feedError;
    }
    const e = err as { syscall?: unknown; message?: unknown };
    if (e && typeof e === 'object' && typeof e.syscall === 'string') return err; // destination filesystem error
    const cause = this.parseError ?? err;
    const msg = cause instanceof Error ? cause.message : String(cause);
    if (/unexpected end of data/i.test(msg)) {
      return new ArchiveFormatError('truncated archive: unexpected end of data inside an entry or header', this.result, { cause });
    }
    return new ArchiveFormatError(`corrupt archive: ${msg}`, this.result, { cause });
  }

  // ---------------------------------------------------------------- entries

  private async onEntry(entry: Entry): Promise<void> {
    const h = entry.header as EntryHeader;
    this.entries++;
    if (this.entries > this.maxEntries) {
      throw this.limit('entries', `archive has more than ${this.maxEntries} entries`);
    }
    const size = typeof h.size === 'number' && h.size > 0 ? h.size : 0;
    const byteOffset = h.byteOffset;
    if (typeof byteOffset === 'number') {
      // tar-stream does not deliver (or skip) content for directory headers.
      this.lastEntryEnd = byteOffset + (h.type === 'directory' ? 0 : Math.ceil(size / 512) * 512);
    }

    const name = typeof h.name === 'string' ? h.name : '';
    let type = h.type ?? null;
    if ((type === 'file' || type === 'contiguous-file') && name.endsWith('/')) type = 'directory';
    const isFile = type === 'file' || type === 'contiguous-file';

    // Content of anything but a regular file is drained (and counted) up front.
    if (!isFile) await this.drain(entry);

    const p = normalizeEntryPath(name);
    if (!p.ok) return this.reject(entry, name, p.reason, isFile);
    const segs = p.segments;
    if (segs.length === 0) {
      if (type === 'directory') return; // the archive root ('./') is destDir itself
      return this.reject(entry, name, 'empty path', isFile);
    }

    if (isFile) return this.writeFile(entry, name, segs, h);
    switch (type) {
      case 'directory':
        return this.makeDirectory(name, segs, h);
      case 'symlink':
        return this.makeSymlink(name, segs, h);
      case 'link':
        return this.makeHardLink(name, segs, h);
      default:
        return this.reject(entry, name, `unsupported entry type: ${type ?? 'unknown'}`, false);
    }
  }

  private async writeFile(entry: Entry, name: string, segs: string[], h: EntryHeader): Promise<void> {
    const bad = (await this.checkParents(segs)) ?? (await this.clearFinal(segs, 'file'));
    if (bad !== null) return this.reject(entry, name, bad, true);

    const rel = segs.join('/');
    const fh = await fsp.open(this.abs(rel), FILE_FLAGS, 0o600);
    this.result.files++;
    this.extractedFiles.add(rel);
    try {
      for await (const chunk of entry) {
        const buf = toBuffer(chunk);
        this.account(buf.length);
        await writeAll(fh, buf);
        this.result.bytes += buf.length;
      }
      await fh.chmod(sanitizeMode(h.mode, false));
      const mtime = h.mtime;
      if (mtime instanceof Date && Number.isFinite(mtime.getTime())) {
        await fh.utimes(mtime, mtime).catch(() => {});
      }
    } finally {
      await fh.close();
    }
  }

  private async makeDirectory(name: string, segs: string[], h: EntryHeader): Promise<void> {
    const bad = await this.checkParents(segs);
    if (bad !== null) return this.reject(null, name, bad, false);
    const rel = segs.join('/');
    const abs = this.abs(rel);
    const st = await lstatOrNull(abs);
    if (st === null || !st.isDirectory()) {
      if (st !== null) {
        await fsp.unlink(abs); // a file, symlink or hard link: unlink never follows
        this.extractedFiles.delete(rel);
      }
      await fsp.mkdir(abs, { mode: 0o700 });
    }
    const fh = await fsp.open(abs, DIR_FLAGS);
    try {
      await fh.chmod(sanitizeMode(h.mode, true));
    } finally {
      await fh.close();
    }
    this.realDirs.add(rel);
    this.result.directories++;
  }

  private async makeSymlink(name: string, segs: string[], h: EntryHeader): Promise<void> {
    const target = checkSymlinkTarget(segs.slice(0, -1), h.linkname);
    if (!target.ok) return this.reject(null, name, target.reason, false);
    const bad = (await this.checkParents(segs)) ?? (await this.clearFinal(segs, 'symlink'));
    if (bad !== null) return this.reject(null, name, bad, false);
    await fsp.symlink(target.target, this.abs(segs.join('/')));
    this.result.links++;
  }

  private async makeHardLink(name: string, segs: string[], h: EntryHeader): Promise<void> {
    const t = normalizeEntryPath(h.linkname ?? '');
    if (!t.ok) return this.reject(null, name, `hard link target: ${t.reason}`, false);
    if (t.segments.length === 0) return this.reject(null, name, 'empty hard link target', false);
    const rel = segs.join('/');
    const targetRel = t.segments.join('/');
    if (targetRel === rel) return this.reject(null, name, 'hard link to itself', false);
    if (!this.extractedFiles.has(targetRel)) {
      return this.reject(null, name, 'hard link target is not a regular file extracted earlier from this archive', false);
    }
    const tst = await lstatOrNull(this.abs(targetRel));
    if (tst === null || !tst.isFile()) {
      this.extractedFiles.delete(targetRel);
      return this.reject(null, name, 'hard link target is no longer a regular file', false);
    }
    const bad = (await this.checkParents(segs)) ?? (await this.clearFinal(segs, 'hard link'));
    if (bad !== null) return this.reject(null, name, bad, false);
    await fsp.link(this.abs(targetRel), this.abs(rel));
    this.extractedFiles.add(rel);
    this.result.links++;
  }

  // ---------------------------------------------------------------- filesystem checks

  private abs(rel: string): string {
    return path.join(this.root, rel);
  }

  /**
   * Makes sure every parent of segs is a real directory inside root, creating missing ones.
   * Returns a rejection reason, or null when the parents are fine.
   */
  private async checkParents(segs: string[]): Promise<string | null> {
    let rel = '';
    for (let i = 0; i < segs.length - 1; i++) {
      rel = rel === '' ? segs[i]! : `${rel}/${segs[i]!}`;
      if (this.realDirs.has(rel)) continue;
      const abs = this.abs(rel);
      let st = await lstatOrNull(abs);
      if (st === null) {
        try {
          await fsp.mkdir(abs, { mode: 0o755 });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        st = await lstatOrNull(abs);
      }
      if (st === null) return `could not create parent directory '${rel}'`;
      if (st.isSymbolicLink()) return `parent path component '${rel}' is a symlink (never written through)`;
      if (!st.isDirectory()) return `parent path component '${rel}' is not a directory`;
      this.realDirs.add(rel);
    }
    return null;
  }

  /** Clears the final path for a new non-directory entry. Returns a rejection reason or null. */
  private async clearFinal(segs: string[], what: string): Promise<string | null> {
    const rel = segs.join('/');
    const abs = this.abs(rel);
    const st = await lstatOrNull(abs);
    if (st === null) return null;
    if (st.isDirectory()) return `${what} would replace an existing directory`;
    await fsp.unlink(abs);
    this.extractedFiles.delete(rel);
    return null;
  }

  // ---------------------------------------------------------------- accounting

  private account(n: number): void {
    if (this.consumed + n > this.maxBytes) {
      throw this.limit('bytes', `archive content exceeds maxBytes (${this.maxBytes} bytes)`);
    }
    this.consumed += n;
  }

  private limit(kind: 'bytes' | 'entries', message: string): ArchiveLimitError {
    this.limitError ??= new ArchiveLimitError(kind, message, this.result);
    return this.limitError;
  }

  private async drain(entry: Entry): Promise<void> {
    // tar-stream never delivers content for directory headers; their stream never ends.
    if (entry.header.type === 'directory') return;
    for await (const chunk of entry) this.account(toBuffer(chunk).length);
  }

  private async reject(entry: Entry | null, name: string, reason: string, needsDrain: boolean): Promise<void> {
    const shown = name.length > MAX_REPORTED_PATH ? `${name.slice(0, MAX_REPORTED_PATH)}…` : name;
    this.result.rejected.push({ path: shown, reason });
    if (needsDrain && entry !== null) await this.drain(entry);
  }
}

// ---------------------------------------------------------------- helpers

function asAsyncIterable(source: Source): AsyncIterable<unknown> {
  const s = source as unknown as Partial<AsyncIterable<unknown>>;
  if (typeof s[Symbol.asyncIterator] === 'function') return s as AsyncIterable<unknown>;
  return new Readable().wrap(source as NodeJS.ReadableStream);
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'latin1');
  throw new TypeError('archive source produced a non-binary chunk');
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) throw new Error('short write to destination file');
    off += bytesWritten;
  }
}

function waitDrain(ex: Extract): Promise<void> {
  if (ex.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      ex.off('drain', done);
      ex.off('close', done);
      ex.off('error', done);
      resolve();
    };
    ex.on('drain', done);
    ex.on('close', done);
    ex.on('error', done);
  });
}

async function lstatOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fsp.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
