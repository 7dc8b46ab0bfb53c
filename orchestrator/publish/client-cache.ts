// What this machine remembers between publishes, in <results_dir>/.publish-cache/: the last index
// seen or published per reports target (so the live index is not downloaded again, and a delta
// can be made against it), and the hash cache per site directory (site-index.ts). Losing either
// only costs time: a cache that cannot be read or written is ignored.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import { writeFileAtomically } from '../results/atomic-write.js';
import { RELEASE_ID } from './host-calls.js';

const INDEX_CACHE_MAGIC = 'orchestrate/publish-index-cache@2';

export interface IndexCache {
  releaseId: string;
  sha256: string;
  /** The canonical index text (a delta needs one). */
  text: string;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const shortKey = (text: string) => sha256(text).slice(0, 16);

function cacheDir(inventory: Inventory): string {
  return join(inventory.resultsDir, '.publish-cache');
}

function indexCacheFile(inventory: Inventory): string | null {
  const reports = inventory.reports;
  if (!reports) return null;
  return join(cacheDir(inventory), `${reports.host.replace(/[^A-Za-z0-9._-]/g, '_')}-${shortKey(`${reports.host}\0${reports.path}`)}.index`);
}

export function hashCacheFile(inventory: Inventory, siteDir: string): string {
  return join(cacheDir(inventory), `site-${shortKey(siteDir)}.hashes.json`);
}

/** `<magic> <releaseId> <sha256>\n<canonical index text>`, its sha256 checked. */
export async function readIndexCache(inventory: Inventory): Promise<IndexCache | null> {
  const file = indexCacheFile(inventory);
  const raw = file ? await readFile(file, 'utf8').catch(() => null) : null;
  if (raw === null) return null;
  const nl = raw.indexOf('\n');
  const [magic, releaseId, sum] = raw.slice(0, nl).split(' ');
  const text = raw.slice(nl + 1);
  return magic === INDEX_CACHE_MAGIC && releaseId && RELEASE_ID.test(releaseId) && sum && sha256(text) === sum ? { releaseId, sha256: sum, text } : null;
}

export async function writeIndexCache(inventory: Inventory, cache: IndexCache): Promise<void> {
  const file = indexCacheFile(inventory);
  if (file) await writeFileAtomically(file, `${INDEX_CACHE_MAGIC} ${cache.releaseId} ${cache.sha256}\n${cache.text}`).catch(() => undefined);
}
