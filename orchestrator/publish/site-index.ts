// The content index of a published release: every file of the site by relative path, with its
// sha256, size and mode. Publishing compares the local site against the live release's index and
// uploads only what differs; the index travels with each release (<release>/.publish-index.json).
//
// The index is JSON in one canonical layout, one file per line, so the reports host can derive a
// new index from the live one plus a delta with awk and sort (LC_ALL=C), byte for byte:
//
//   {"schema":"orchestrate/publish-index@1","releaseId":"r…","createdAt":"…","files":{
//   "a/b.html":{"sha256":"<64 hex>","size":123,"mode":420},
//   …                                          (sorted by the bytes of the line; no comma on the last)
//   }}
//
// The key is JSON.stringify(path): quotes, backslashes and control characters are escaped, so a
// line never contains a raw newline and the key always ends at the `":{"sha256":"` that follows it.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, type BigIntStats } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pMap from 'p-map';
import { isTempName, writeFileAtomically } from '../results/atomic-write.js';

export const INDEX_FILE = '.publish-index.json';
export const INDEX_SCHEMA = 'orchestrate/publish-index@1';

export interface IndexEntry {
  /** 64 lowercase hex digits. */
  sha256: string;
  size: number;
  /** 0644 or 0755 (publishedMode). */
  mode: number;
}

/** Checked by parseIndexText when it comes from a host. */
export interface SiteIndex {
  schema: typeof INDEX_SCHEMA;
  releaseId: string;
  createdAt: string;
  files: Record<string, IndexEntry>;
}

export class SiteScanError extends Error {
  override readonly name = 'SiteScanError';
}

export interface LocalFile extends IndexEntry {
  /** Relative path with '/' separators. */
  path: string;
  /** Absolute path on this machine. */
  abs: string;
  mtime: Date;
}

/** What a path sent to or read from a host must not be: empty, absolute, with a NUL, or with an empty, '.' or '..' segment. */
const UNSAFE_PATH = /^\/|\0|(?:^|\/)\.{0,2}(?:\/|$)/;

/** Published files are 0644, or 0755 when any execute bit is set locally. */
export function publishedMode(mode: number): number {
  return mode & 0o111 ? 0o755 : 0o644;
}

const WHOLE_READ_MAX = 1 << 20;

export async function sha256File(path: string, size = Infinity): Promise<string> {
  const hash = createHash('sha256');
  // Small files in one read (a stream per file costs more than the hashing); large ones streamed.
  if (size <= WHOLE_READ_MAX) return hash.update(await readFile(path)).digest('hex');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// The local hash cache: (path, size, mtime, ctime, inode) -> sha256, so an unchanged file is not
// read again. The site builder replaces files atomically (new inode, new times); an in-place
// rewrite changes ctime, which nothing can set back. A file modified within HASH_CACHE_MARGIN_MS of
// the scan is not cached ("racily clean" in git's words): timestamps are coarse (a clock tick, up
// to 2 s on some file systems), so a later same-size rewrite in the same tick would look unchanged.

export const HASH_CACHE_SCHEMA = 'orchestrate/publish-hash-cache@1';
const HASH_CACHE_MARGIN_MS = 2000;

interface HashCacheFile {
  schema: string;
  siteDir: string;
  /** path -> [stat key, sha256] */
  files: Record<string, [string, string]>;
}

async function readHashCache(file: string, siteDir: string): Promise<Map<string, [string, string]>> {
  try {
    const c = JSON.parse(await readFile(file, 'utf8')) as HashCacheFile;
    if (c.schema !== HASH_CACHE_SCHEMA || c.siteDir !== siteDir || typeof c.files !== 'object' || c.files === null) return new Map();
    const out = new Map<string, [string, string]>();
    for (const [path, v] of Object.entries(c.files)) {
      if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string' && /^[0-9a-f]{64}$/.test(v[1])) out.set(path, [v[0], v[1]]);
    }
    return out;
  } catch {
    return new Map();
  }
}

export interface ScanResult {
  files: LocalFile[];
  /** Files read and hashed by this scan (the rest came from the hash cache). */
  hashed: number;
  /** Writes the updated hash cache (when one was given and anything changed). */
  saveCache(): Promise<void>;
}

/** Files the site builder keeps at the top of its output for itself; never published. */
const SITE_BUILDER_RECORD = /^\.site-[a-z-]+\.json$/;

/**
 * Every regular file under siteDir, hashed by reading it (a large file is streamed, never read
 * whole), or taken from the hash cache when its size, mtime, ctime and inode are unchanged.
 * Symlinks, sockets and other special files are refused: a static site is regular files.
 */
export async function scanSiteCached(siteDir: string, cacheFile?: string, options: { racyMarginMs?: number } = {}): Promise<ScanResult> {
  const started = Date.now();
  const cache = cacheFile ? readHashCache(cacheFile, siteDir) : Promise.resolve(new Map<string, [string, string]>());
  const found: { path: string; abs: string }[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    const subdirs: Promise<void>[] = [];
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      // The builder's own records (.site-build.json, .site-state.json) stay here: they name local
      // paths of the results store and mean nothing to a reader of the site.
      if (rel === '' && entry.isFile() && SITE_BUILDER_RECORD.test(entry.name)) continue;
      // A write's temp file (a build killed mid-write leaves one): half a page, never published.
      if (entry.isFile() && isTempName(entry.name)) continue;
      if (entry.isDirectory()) subdirs.push(walk(abs, path));
      else if (entry.isFile()) found.push({ path, abs });
      else throw new SiteScanError(`${abs}: not a regular file or directory (symlinks and special files are not published)`);
    }
    await Promise.all(subdirs);
  };
  try {
    const st = await lstat(siteDir);
    if (!st.isDirectory()) throw new SiteScanError(`${siteDir} is not a directory`);
  } catch (error) {
    if (error instanceof SiteScanError) throw error;
    throw new SiteScanError(`cannot read the site directory ${siteDir}: ${(error as Error).message}`);
  }
  await walk(siteDir, '');
  for (const f of found) {
    if (f.path === INDEX_FILE) throw new SiteScanError(`${f.abs}: ${INDEX_FILE} is reserved for the publish index`);
    if (UNSAFE_PATH.test(f.path)) throw new SiteScanError(`${f.abs}: unusable file name`);
  }
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const known = await cache;
  const next: Record<string, [string, string]> = {};
  let dirty = false;
  const recentNs = BigInt(started - (options.racyMarginMs ?? HASH_CACHE_MARGIN_MS)) * 1_000_000n;
  // lstat in synchronous batches: thousands of async lstat calls cost several times more (one
  // thread-pool round trip each); yielding between batches keeps the SSH handshake that runs at
  // the same time moving.
  const files: LocalFile[] = new Array(found.length);
  const toHash: number[] = [];
  const keys: (string | null)[] = new Array(found.length).fill(null);
  for (let i = 0; i < found.length; i++) {
    if (i % 512 === 511) await new Promise((r) => setImmediate(r));
    const f = found[i]!;
    let st: BigIntStats;
    try {
      st = lstatSync(f.abs, { bigint: true });
    } catch (error) {
      throw new SiteScanError(`cannot read ${f.abs}: ${(error as Error).message}`);
    }
    if (!st.isFile()) throw new SiteScanError(`${f.abs}: not a regular file (symlinks and special files are not published)`);
    const key = `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`;
    // Only files untouched for a while are cached (see HASH_CACHE_MARGIN_MS).
    if (st.mtimeNs < recentNs && st.ctimeNs < recentNs) keys[i] = key;
    else dirty = true;
    const hit = known.get(f.path);
    const size = Number(st.size);
    files[i] = { path: f.path, abs: f.abs, size, mode: publishedMode(Number(st.mode)), mtime: new Date(Number(st.mtimeNs / 1_000_000n)), sha256: '' };
    if (hit && hit[0] === key) files[i]!.sha256 = hit[1];
    else toHash.push(i);
  }
  await pMap(
    toHash,
    async (i) => {
      files[i]!.sha256 = await sha256File(files[i]!.abs, files[i]!.size);
    },
    { concurrency: 16 },
  );
  const hashed = toHash.length;
  if (hashed > 0) dirty = true;
  for (let i = 0; i < found.length; i++) {
    const key = keys[i];
    if (key) next[files[i]!.path] = [key, files[i]!.sha256];
  }
  if (known.size !== Object.keys(next).length) dirty = true;
  return {
    files,
    hashed,
    saveCache: async () => {
      if (!cacheFile || !dirty) return;
      const body: HashCacheFile = { schema: HASH_CACHE_SCHEMA, siteDir, files: next };
      // A cache that cannot be written only costs hashing next time.
      await writeFileAtomically(cacheFile, `${JSON.stringify(body)}\n`).catch(() => undefined);
    },
  };
}

/** scanSite without a hash cache: every file is read and hashed. */
export async function scanSite(siteDir: string): Promise<LocalFile[]> {
  return (await scanSiteCached(siteDir)).files;
}

export interface SiteDiff {
  upload: LocalFile[];
  unchanged: LocalFile[];
  /** Paths in the live release that the new site does not have. */
  remove: string[];
}

export function diffSite(local: LocalFile[], live: SiteIndex | null): SiteDiff {
  const liveFiles = live?.files ?? {};
  const upload: LocalFile[] = [];
  const unchanged: LocalFile[] = [];
  const present = new Set<string>();
  for (const f of local) {
    present.add(f.path);
    const old = Object.hasOwn(liveFiles, f.path) ? liveFiles[f.path] : undefined;
    if (old && old.sha256 === f.sha256 && old.size === f.size && old.mode === f.mode) unchanged.push(f);
    else upload.push(f);
  }
  const remove = Object.keys(liveFiles).filter((p) => !present.has(p)).sort();
  return { upload, unchanged, remove };
}

export function buildIndex(releaseId: string, local: LocalFile[], now = new Date()): SiteIndex {
  const files: Record<string, IndexEntry> = {};
  for (const f of local) files[f.path] = { sha256: f.sha256, size: f.size, mode: f.mode };
  return { schema: INDEX_SCHEMA, releaseId, createdAt: now.toISOString(), files };
}

// ---------------------------------------------------------------------------------------------
// The canonical text of an index, and the delta the host turns the live index into the new one with.

/** The first line: everything before the file entries. */
export function indexHeadLine(releaseId: string, createdAt: string): string {
  return `{"schema":${JSON.stringify(INDEX_SCHEMA)},"releaseId":${JSON.stringify(releaseId)},"createdAt":${JSON.stringify(createdAt)},"files":{`;
}

/** One file's line, without the separating comma. */
export function indexEntryLine(path: string, e: IndexEntry): string {
  return `${JSON.stringify(path)}:{"sha256":"${e.sha256}","size":${e.size},"mode":${e.mode}}`;
}

/** Sorts lines by their UTF-8 bytes (the order of `LC_ALL=C sort`). */
export function sortLinesBytewise(lines: string[]): string[] {
  // JavaScript compares UTF-16 code units: the same order as UTF-8 bytes unless a surrogate pair
  // (a character past U+FFFF) meets a character in U+E000..U+FFFF at the same place.
  if (!lines.some((l) => /[\uD800-\uFFFF]/.test(l))) return lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const keyed = lines.map((l) => ({ l, b: Buffer.from(l, 'utf8') }));
  keyed.sort((x, y) => Buffer.compare(x.b, y.b));
  return keyed.map((k) => k.l);
}

/** The index's text from its first line and its sorted entry lines. */
export function indexText(head: string, sortedLines: string[]): string {
  return sortedLines.length === 0 ? `${head}\n}}\n` : `${head}\n${sortedLines.join(',\n')}\n}}\n`;
}

/** The canonical text of an index (what the host stores as .publish-index.json). */
export function serializeIndex(index: SiteIndex): string {
  return indexText(
    indexHeadLine(index.releaseId, index.createdAt),
    sortLinesBytewise(Object.entries(index.files).map(([p, e]) => indexEntryLine(p, e))),
  );
}

export type ParsedIndex = { index: SiteIndex; canonical: boolean } | { problem: string };

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Parses and checks an index text (from the host); `canonical` says whether it is in the layout
 * serializeIndex writes, the one a delta can be applied to.
 */
export function parseIndexText(text: string): ParsedIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { problem: `the live index is not JSON (${(error as Error).message})` };
  }
  // Checked by hand: zod on thousands of entries costs more than the whole diff.
  const o = json as Partial<Record<keyof SiteIndex, unknown>> | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { problem: 'the live index is not valid: not an object' };
  if (o.schema !== INDEX_SCHEMA) return { problem: `the live index is not valid: schema ${JSON.stringify(o.schema)}, expected ${INDEX_SCHEMA}` };
  if (typeof o.releaseId !== 'string' || typeof o.createdAt !== 'string') return { problem: 'the live index is not valid: releaseId and createdAt must be strings' };
  if (typeof o.files !== 'object' || o.files === null || Array.isArray(o.files)) return { problem: 'the live index is not valid: files must be an object' };
  const files = o.files as Record<string, unknown>;
  for (const p of Object.keys(files)) {
    const v = files[p] as Partial<Record<keyof IndexEntry, unknown>> | null;
    if (
      typeof v !== 'object' || v === null || typeof v.sha256 !== 'string' || !SHA256_HEX.test(v.sha256) ||
      !Number.isSafeInteger(v.size) || (v.size as number) < 0 || !Number.isInteger(v.mode) || (v.mode as number) < 0 || (v.mode as number) > 0o777 ||
      Object.keys(v).length !== 3
    ) {
      return { problem: `the live index is not valid: bad entry for ${JSON.stringify(p)}` };
    }
    if (UNSAFE_PATH.test(p)) return { problem: `the live index lists an unsafe path ${JSON.stringify(p)}` };
  }
  const index = json as SiteIndex;
  return { index, canonical: serializeIndex(index) === text };
}

/** An index text this publisher wrote itself (its sha256 checked): parsed without checks. */
export function trustedIndex(text: string): SiteIndex {
  return JSON.parse(text) as SiteIndex;
}

export interface IndexPlan {
  diff: SiteDiff;
  /** Every entry line of the new index, sorted. */
  lines: string[];
  /** Lines of the new and changed files, sorted, no commas. */
  add: string[];
  /** JSON keys (JSON.stringify(path)) of the live entries to drop: removed and changed files. */
  drop: string[];
}

/** What differs from the live index, and the new index's entries; the release id comes later. */
export function planIndex(local: LocalFile[], live: SiteIndex | null): IndexPlan {
  const diff = diffSite(local, live);
  const liveFiles = live?.files ?? {};
  const lines = sortLinesBytewise(local.map((f) => indexEntryLine(f.path, f)));
  const add = sortLinesBytewise(diff.upload.map((f) => indexEntryLine(f.path, f)));
  const drop = [...diff.remove, ...diff.upload.filter((f) => Object.hasOwn(liveFiles, f.path)).map((f) => f.path)].map((p) => JSON.stringify(p));
  return { diff, lines, add, drop };
}
