// Publishing the static report site to the inventory's reports host: only changed files travel
// (one streamed tar over stdin), into a new release directory, and the live site switches to it
// in one atomic step (a symlink swap). See remote-scripts.ts for the layout and the guarantees.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Inventory } from '../inventory/types.js';
import { writeJsonAtomically } from '../results/atomic-write.js';
import { connectReportsHost, PublishError, runScript, type ReportsHost } from './reports-host.js';
import { RELEASE_ID, ROLLBACK_SCRIPT, STAGE_SCRIPT, STATE_SCRIPT } from './remote-scripts.js';
import { buildIndex, diffSite, scanSite, SiteIndexSchema, type LocalFile, type SiteIndex } from './site-index.js';

export { PublishError } from './reports-host.js';

export interface PublishOptions {
  inventory: Inventory;
  siteDir: string;
  /** Releases kept on the host, the new one included (default 5, at least 2 so rollback has a target). */
  keep?: number;
  acceptNewHostKeys?: boolean;
  log?: (line: string) => void;
  /** Aborting closes the upload: the host keeps the previous site live (the next publish cleans up). */
  signal?: AbortSignal;
}

export interface PublishResult {
  releaseId: string;
  /** The release that was live before (null on the first publish). */
  previousId: string | null;
  uploadedFiles: number;
  /** Content bytes of the uploaded files. */
  uploadedBytes: number;
  /** Bytes sent over the connection (the gzip'ed tar with the new index). */
  wireBytes: number;
  /** Bytes received to learn the live state (mostly the live release's index). */
  stateBytes: number;
  removedFiles: number;
  unchangedFiles: number;
  totalFiles: number;
  totalBytes: number;
  /** Releases deleted by the keep limit. */
  prunedReleases: string[];
  /** Leftovers of interrupted publishes that were removed. */
  cleaned: string[];
  url?: string;
  ms: number;
}

export interface ReleaseList {
  live: string | null;
  /** Oldest first. */
  releases: string[];
}

interface HostState extends ReleaseList {
  index: SiteIndex | null;
  bytes?: number;
  indexProblem?: string;
}

export const DEFAULT_KEEP = 5;

interface IndexCache {
  releaseId: string;
  sha256: string;
  text: string;
}

/** The last index seen or published, per reports target, so an unchanged live index is not downloaded again. */
function cacheFile(inventory: Inventory): string | null {
  if (!inventory.reports) return null;
  const key = createHash('sha256').update(`${inventory.reports.host}\0${inventory.reports.path}`).digest('hex').slice(0, 16);
  return join(inventory.resultsDir, '.publish-cache', `${inventory.reports.host.replace(/[^A-Za-z0-9._-]/g, '_')}-${key}.json`);
}

async function readCache(inventory: Inventory): Promise<IndexCache | null> {
  const file = cacheFile(inventory);
  if (!file) return null;
  try {
    const c = JSON.parse(await readFile(file, 'utf8')) as IndexCache;
    if (typeof c.text === 'string' && RELEASE_ID.test(c.releaseId) && createHash('sha256').update(c.text).digest('hex') === c.sha256) return c;
  } catch {
    // no cache, or an unusable one: the host sends the index
  }
  return null;
}

async function writeCache(inventory: Inventory, releaseId: string, text: string): Promise<void> {
  const file = cacheFile(inventory);
  if (!file) return;
  await writeJsonAtomically(file, { releaseId, sha256: createHash('sha256').update(text).digest('hex'), text }).catch(() => undefined);
}

function parseState(stdout: string, cache: IndexCache | null): HostState {
  let marker = stdout.indexOf('index-follows\n');
  let body: string;
  if (marker >= 0) body = stdout.slice(marker + 'index-follows\n'.length);
  else {
    marker = stdout.indexOf('index-cached\n');
    if (marker < 0 || !cache) throw new PublishError(`unexpected answer from the reports host: ${stdout.slice(0, 200)}`);
    body = cache.text;
  }
  const head = stdout.slice(0, marker).split('\n').filter(Boolean);
  let live: string | null = null;
  const releases: string[] = [];
  for (const line of head) {
    if (line.startsWith('live ')) {
      const id = line.slice(5);
      if (id !== '') {
        if (!RELEASE_ID.test(id)) throw new PublishError(`the live site points at ${JSON.stringify(id)}, which is not a release of this publisher`);
        live = id;
      }
    } else if (line.startsWith('release ')) {
      const id = line.slice(8);
      if (RELEASE_ID.test(id)) releases.push(id);
    }
  }
  releases.sort();
  if (!live || body.trim() === '') return { live, releases, index: null, ...(live ? { indexProblem: 'the live release has no index' } : {}) };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { live, releases, index: null, indexProblem: `the live index is not JSON (${(error as Error).message})` };
  }
  const parsed = SiteIndexSchema.safeParse(json);
  if (!parsed.success) return { live, releases, index: null, indexProblem: `the live index is not valid: ${parsed.error.issues[0]?.message ?? ''}` };
  const bad = Object.keys(parsed.data.files).find((p) => p === '' || p.startsWith('/') || p.split('/').some((s) => s === '..' || s === '.' || s === ''));
  if (bad !== undefined) return { live, releases, index: null, indexProblem: `the live index lists an unsafe path ${JSON.stringify(bad)}` };
  return { live, releases, index: parsed.data };
}

async function readState(reports: ReportsHost, inventory: Inventory, signal?: AbortSignal): Promise<HostState> {
  const cache = await readCache(inventory);
  const result = await runScript(reports.connector, 'orchestrate-publish-state', STATE_SCRIPT, [reports.root, cache?.releaseId ?? '', cache?.sha256 ?? ''], signal ? { signal } : {});
  if (result.exitCode !== 0) throw new PublishError(`${reports.host.name}: cannot read the published site state (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim()}`);
  const state = parseState(result.stdout, cache);
  const follows = result.stdout.indexOf('index-follows\n');
  if (state.index && state.live && follows >= 0) await writeCache(inventory, state.live, result.stdout.slice(follows + 'index-follows\n'.length));
  return { ...state, bytes: Buffer.byteLength(result.stdout) };
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** The next release id: sequence one past the highest on the host, so ids sort in publish order. */
export function nextReleaseId(existing: string[], now = new Date()): string {
  const seq = existing.reduce((max, id) => Math.max(max, Number(id.slice(1, 7))), 0) + 1;
  if (seq > 999_999) throw new PublishError('release sequence exhausted');
  return `r${String(seq).padStart(6, '0')}-${stamp(now)}`;
}

/** The upload stream: gzip(tar(meta/remove, files/..., meta/index.json, meta/complete)). */
function uploadStream(releaseId: string, upload: LocalFile[], remove: string[], indexText: string): Readable {
  const pack = tar.pack();
  const gzip = createGzip({ level: 6 });
  const out = new PassThrough();
  pipeline(pack, gzip, out).catch((error: unknown) => out.destroy(error as Error));
  const add = (name: string, data: string | Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date() }, data, (error) => (error ? reject(error) : resolve())));
  (async () => {
    await add('meta/remove', remove.map((p) => `${p}\0`).join(''));
    for (const f of upload) {
      const hash = createHash('sha256');
      await new Promise<void>((resolve, reject) => {
        if (f.size === 0) {
          pack.entry({ name: `files/${f.path}`, mode: f.mode, mtime: f.mtime, type: 'file' }, '', (error) => (error ? reject(error) : resolve()));
          return;
        }
        const entry = pack.entry({ name: `files/${f.path}`, size: f.size, mode: f.mode, mtime: f.mtime, type: 'file' }, (error) => (error ? reject(error) : resolve()));
        const source = createReadStream(f.abs);
        source.on('data', (chunk) => hash.update(chunk as Buffer));
        pipeline(source, entry).catch(reject);
      });
      if (f.size > 0 && hash.digest('hex') !== f.sha256) throw new PublishError(`${f.abs} changed while it was being published; publish again`);
    }
    await add('meta/index.json', indexText);
    await add('meta/complete', releaseId);
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error as Error));
  return out;
}

export async function publishSite(options: PublishOptions): Promise<PublishResult> {
  const started = Date.now();
  const keep = options.keep ?? DEFAULT_KEEP;
  if (!Number.isInteger(keep) || keep < 2) throw new PublishError(`keep must be a whole number >= 2 (the live release and one to roll back to), got ${keep}`);
  const log = options.log ?? (() => undefined);
  const local = await scanSite(options.siteDir);
  const totalBytes = local.reduce((n, f) => n + f.size, 0);
  log(`site ${options.siteDir}: ${local.length} file(s), ${totalBytes} byte(s)`);
  const reports = await connectReportsHost(options.inventory, { acceptNewHostKeys: options.acceptNewHostKeys === true, ...(options.signal ? { signal: options.signal } : {}) });
  try {
    const state = await readState(reports, options.inventory, options.signal);
    if (state.indexProblem) log(`${state.indexProblem}: uploading every file`);
    const base = state.index ? state.live : null;
    const diff = diffSite(local, state.index);
    const releaseId = nextReleaseId(state.releases);
    const indexText = `${JSON.stringify(buildIndex(releaseId, local))}\n`;
    const uploadedBytes = diff.upload.reduce((n, f) => n + f.size, 0);
    log(`release ${releaseId} on ${reports.host.name}:${reports.target.path}: ${diff.upload.length} file(s) to upload (${uploadedBytes} bytes), ${diff.remove.length} to remove, ${diff.unchanged.length} unchanged${base ? ` (hard links from ${base})` : ''}`);
    const prunedReleases: string[] = [];
    const cleaned: string[] = [];
    let live = false;
    const result = await runScript(reports.connector, 'orchestrate-publish', STAGE_SCRIPT, [reports.root, state.live ?? '', base ?? '', releaseId, keep], {
      input: uploadStream(releaseId, diff.upload, diff.remove, indexText),
      ...(options.signal ? { signal: options.signal } : {}),
      onLine: (line) => {
        if (line.startsWith('pruned ')) prunedReleases.push(line.slice(7));
        else if (line.startsWith('cleaned ')) cleaned.push(line.slice(8));
        else if (line === `live ${releaseId}`) live = true;
        log(line);
      },
    });
    if (result.exitCode !== 0 || !live || !/(^|\n)done\n$/.test(result.stdout)) {
      const detail = result.stderr.trim() || result.stdout.trim().split('\n').pop() || '';
      throw new PublishError(
        `${reports.host.name}: publishing release ${releaseId} failed (exit ${result.exitCode ?? result.signal})${live ? ' after it went live' : `; ${state.live ?? 'nothing'} stays live`}: ${detail}`,
      );
    }
    await writeCache(options.inventory, releaseId, indexText);
    return {
      releaseId,
      previousId: state.live,
      uploadedFiles: diff.upload.length,
      uploadedBytes,
      wireBytes: result.sent,
      stateBytes: state.bytes ?? 0,
      removedFiles: diff.remove.length,
      unchangedFiles: diff.unchanged.length,
      totalFiles: local.length,
      totalBytes,
      prunedReleases,
      cleaned,
      ...(reports.target.url ? { url: reports.target.url } : {}),
      ms: Date.now() - started,
    };
  } finally {
    await reports.connector.close();
  }
}

export async function rollback(options: { inventory: Inventory; acceptNewHostKeys?: boolean; to?: string }): Promise<{ from: string; to: string }> {
  if (options.to !== undefined && !RELEASE_ID.test(options.to)) throw new PublishError(`${JSON.stringify(options.to)} is not a release id (like r000003-20261122T051637Z)`);
  const reports = await connectReportsHost(options.inventory, { acceptNewHostKeys: options.acceptNewHostKeys === true });
  try {
    const result = await runScript(reports.connector, 'orchestrate-rollback', ROLLBACK_SCRIPT, [reports.root, options.to ?? '']);
    const from = /^from (\S+)$/m.exec(result.stdout)?.[1];
    const to = /^to (\S+)$/m.exec(result.stdout)?.[1];
    if (result.exitCode !== 0 || !from || !to) {
      throw new PublishError(`${reports.host.name}: rollback failed (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim() || result.stdout.trim()}`);
    }
    return { from, to };
  } finally {
    await reports.connector.close();
  }
}

export async function listReleases(options: { inventory: Inventory; acceptNewHostKeys?: boolean }): Promise<ReleaseList> {
  const reports = await connectReportsHost(options.inventory, { acceptNewHostKeys: options.acceptNewHostKeys === true });
  try {
    const { live, releases } = await readState(reports, options.inventory);
    return { live, releases };
  } finally {
    await reports.connector.close();
  }
}
