// The content index of a published release: every file of the site by relative path, with its
// sha256, size and mode. Publishing compares the local site against the live release's index and
// uploads only what differs; the index travels with each release (<release>/.publish-index.json).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const INDEX_FILE = '.publish-index.json';
export const INDEX_SCHEMA = 'orchestrate/publish-index@1';

export const IndexEntrySchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  mode: z.number().int().min(0).max(0o777),
});
export type IndexEntry = z.infer<typeof IndexEntrySchema>;

export const SiteIndexSchema = z.object({
  schema: z.literal(INDEX_SCHEMA),
  releaseId: z.string(),
  createdAt: z.string(),
  files: z.record(z.string(), IndexEntrySchema),
});
export type SiteIndex = z.infer<typeof SiteIndexSchema>;

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

/** A relative path that is safe to send to a host: no empty, '.' or '..' segments, no NUL. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\0')) return false;
  return path.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** Published files are 0644, or 0755 when any execute bit is set locally. */
export function publishedMode(mode: number): number {
  return mode & 0o111 ? 0o755 : 0o644;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Every regular file under siteDir, hashed by streaming (a large file is never read whole).
 * Symlinks, sockets and other special files are refused: a static site is regular files.
 */
export async function scanSite(siteDir: string): Promise<LocalFile[]> {
  const found: { path: string; abs: string }[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(abs, path);
      else if (entry.isFile()) found.push({ path, abs });
      else throw new SiteScanError(`${abs}: not a regular file or directory (symlinks and special files are not published)`);
    }
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
    if (!isSafeRelativePath(f.path)) throw new SiteScanError(`${f.abs}: unusable file name`);
  }
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return mapLimit(found, 16, async (f) => {
    const st = await lstat(f.abs);
    return { ...f, size: st.size, mode: publishedMode(st.mode), mtime: st.mtime, sha256: await sha256File(f.abs) };
  });
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
