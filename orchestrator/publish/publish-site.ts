// Publishing the static report site to the inventory's reports host: only changed files travel
// (one streamed tar over stdin), into a new release directory, and the live site switches to it
// in one atomic step (a symlink swap). See remote-scripts.ts for the layout and the guarantees.
//
// One SSH session does it all (PUBLISH_SCRIPT): the host reports the live release and starts its
// hard-link copy; the client answers with the changed files and the index. The index goes as a
// delta against the live one (which the client knows from its cache in <results_dir>/.publish-cache,
// checked by sha256 on the host) and the host must rebuild exactly the client's index: it checks
// the sha256 the client computed, and on a mismatch nothing changes and the client publishes
// again with the full index. Local files are hashed only when their size, times or inode changed
// (the hash cache, also in .publish-cache).
import { createHash } from 'node:crypto';
import { deflateRawSync, createGzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Inventory } from '../inventory/types.js';
import type { ExecChannel } from '../connectors/types.js';
import { command, render } from '../connectors/shell-command.js';
import { connectReportsHost, PublishError, runScript, type ReportsHost } from './reports-host.js';
import { LIST_SCRIPT, PUBLISH_SCRIPT, RELEASE_ID, ROLLBACK_SCRIPT } from './remote-scripts.js';
import { INDEX_FILE, indexHeadLine, indexText, parseIndexText, planIndex, scanSiteCached, trustedIndex, type IndexPlan, type LocalFile, type SiteIndex } from './site-index.js';

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
  /** Bytes sent over the connection (the header line and the tar, gzip'ed when that helps, with the index or its delta). */
  wireBytes: number;
  /** Bytes received to learn the live state (the live index itself only when the client's cached copy is not it). */
  stateBytes: number;
  /** How the new index travelled: as a delta against the live one, or whole. */
  indexUpload: 'delta' | 'full';
  /** sha256 of the new index as computed here; the host's .publish-index.json hashes to it. */
  indexSha256: string;
  /** Whether the tar stream was gzip'ed. */
  compressed: boolean;
  /** Local files read and hashed (the others' hashes came from the hash cache). */
  hashedFiles: number;
  /** Why the first attempt was redone with the full index, if it was. */
  fallback?: string;
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

export const DEFAULT_KEEP = 5;

/** Exit code of PUBLISH_SCRIPT when the index it built does not hash to the client's. */
const INDEX_MISMATCH = 78;

// ---------------------------------------------------------------------------------------------
// Local caches, in <results_dir>/.publish-cache/: the last index seen or published per reports
// target (so the live index is not downloaded again, and a delta can be made against it), and the
// hash cache per site directory.

const INDEX_CACHE_MAGIC = 'orchestrate/publish-index-cache@2';

interface IndexCache {
  releaseId: string;
  sha256: string;
  text: string;
}

function cacheDir(inventory: Inventory): string {
  return join(inventory.resultsDir, '.publish-cache');
}

function indexCacheFile(inventory: Inventory): string | null {
  if (!inventory.reports) return null;
  const key = createHash('sha256').update(`${inventory.reports.host}\0${inventory.reports.path}`).digest('hex').slice(0, 16);
  return join(cacheDir(inventory), `${inventory.reports.host.replace(/[^A-Za-z0-9._-]/g, '_')}-${key}.index`);
}

function hashCacheFile(inventory: Inventory, siteDir: string): string {
  const key = createHash('sha256').update(siteDir).digest('hex').slice(0, 16);
  return join(cacheDir(inventory), `site-${key}.hashes.json`);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `<magic> <releaseId> <sha256>\n<canonical index text>`; only canonical texts are cached (a delta needs one). */
async function readIndexCache(inventory: Inventory): Promise<IndexCache | null> {
  const file = indexCacheFile(inventory);
  if (!file) return null;
  try {
    const raw = await readFile(file, 'utf8');
    const nl = raw.indexOf('\n');
    const [magic, releaseId, sum] = raw.slice(0, nl).split(' ');
    const text = raw.slice(nl + 1);
    if (magic === INDEX_CACHE_MAGIC && releaseId && RELEASE_ID.test(releaseId) && sum && sha256(text) === sum) return { releaseId, sha256: sum, text };
  } catch {
    // no cache, or an unusable one: the host sends the index
  }
  return null;
}

async function writeIndexCache(inventory: Inventory, releaseId: string, text: string, sum = sha256(text)): Promise<void> {
  const file = indexCacheFile(inventory);
  if (!file) return;
  try {
    await mkdir(cacheDir(inventory), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
    await writeFile(tmp, `${INDEX_CACHE_MAGIC} ${releaseId} ${sum}\n${text}`);
    await rename(tmp, file);
  } catch {
    // a cache that cannot be written only costs a download next time
  }
}

// ---------------------------------------------------------------------------------------------
// The upload.

/** The 64 KiB samples of large files and whole small files deflate (level 1) to estimate what gzip saves. */
async function worthCompressing(upload: LocalFile[]): Promise<boolean> {
  const total = upload.reduce((n, f) => n + f.size, 0);
  // Small uploads: mostly tar headers and padding, which gzip all but removes, at no real cost.
  if (total < 1 << 20) return true;
  const SAMPLE = 64 * 1024;
  const bySize = [...upload].sort((a, b) => b.size - a.size);
  // The 32 largest files, and up to 96 others spread over the rest.
  const rest = bySize.slice(32);
  const stride = Math.max(1, Math.floor(rest.length / 96));
  const sampled = [...bySize.slice(0, 32), ...rest.filter((_, i) => i % stride === 0).slice(0, 96)];
  let sampledBytes = 0;
  let sampledSaved = 0;
  let bigBytes = 0;
  let bigSaved = 0;
  for (const [i, f] of sampled.entries()) {
    if (f.size === 0) continue;
    const n = Math.min(f.size, SAMPLE);
    const buf = Buffer.alloc(n);
    const fh = await open(f.abs, 'r');
    let got = 0;
    try {
      got = (await fh.read(buf, 0, n, 0)).bytesRead;
    } finally {
      await fh.close();
    }
    if (got === 0) continue;
    const ratio = deflateRawSync(buf.subarray(0, got), { level: 1 }).length / got;
    if (i < 32) {
      bigBytes += f.size;
      bigSaved += f.size * (1 - ratio);
    } else {
      sampledBytes += f.size;
      sampledSaved += f.size * (1 - ratio);
    }
  }
  const restBytes = total - bigBytes;
  const saved = bigSaved + (sampledBytes > 0 ? (restBytes * sampledSaved) / sampledBytes : 0);
  return saved >= total * 0.1;
}

interface UploadPlan {
  releaseId: string;
  upload: LocalFile[];
  remove: string[];
  base: 'link' | 'empty';
  index: { mode: 'full'; text: string } | { mode: 'delta'; head: string; add: string[]; drop: string[] };
  indexSha256: string;
  compress: boolean;
}

/**
 * Joins small chunks into ~64 KiB ones: tar-stream emits a 512-byte header and a small body per
 * file, and every chunk costs gzip a thread-pool round trip (and the channel a write).
 */
function coalesce(size = 64 * 1024): Transform {
  let parts: Buffer[] = [];
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      length += chunk.length;
      if (length >= size) {
        const out = Buffer.concat(parts, length);
        parts = [];
        length = 0;
        done(null, out);
      } else done();
    },
    flush(done) {
      done(null, length > 0 ? Buffer.concat(parts, length) : undefined);
    },
  });
}

/** The header line, then (gzip'ed) tar(meta/remove, files/..., the index or its delta, meta/complete). */
function uploadStream(plan: UploadPlan): Readable {
  const pack = tar.pack();
  const add = (name: string, data: string | Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date() }, data, (error) => (error ? reject(error) : resolve())));
  // Small files are read a few ahead of the one being packed (one read at a time leaves the
  // thread pool idle between files: thousands of small files take seconds).
  const SMALL = 1 << 20;
  const AHEAD = 16;
  const reads = new Map<number, Promise<Buffer>>();
  const prefetch = (i: number) => {
    const f = plan.upload[i];
    if (!f || f.size > SMALL || reads.has(i)) return;
    const read = readFile(f.abs);
    read.catch(() => undefined);
    reads.set(i, read);
  };
  (async () => {
    await add('meta/remove', plan.remove.map((p) => `${p}\0`).join(''));
    for (const [i, f] of plan.upload.entries()) {
      const changed = () => new PublishError(`${f.abs} changed while it was being published; publish again`);
      if (f.size <= SMALL) {
        for (let j = i; j < i + AHEAD; j++) prefetch(j);
        const data = await reads.get(i)!;
        reads.delete(i);
        // Read whole, checked, then sent: what travels is exactly what was hashed.
        if (data.length !== f.size || createHash('sha256').update(data).digest('hex') !== f.sha256) throw changed();
        await new Promise<void>((resolve, reject) =>
          pack.entry({ name: `files/${f.path}`, size: f.size, mode: f.mode, mtime: f.mtime, type: 'file' }, data, (error) => (error ? reject(error) : resolve())),
        );
        continue;
      }
      const hash = createHash('sha256');
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: `files/${f.path}`, size: f.size, mode: f.mode, mtime: f.mtime, type: 'file' }, (error) => (error ? reject(error) : resolve()));
        const source = createReadStream(f.abs);
        source.on('data', (chunk) => hash.update(chunk as Buffer));
        pipeline(source, entry).catch(reject);
      }).catch((error: unknown) => {
        throw error instanceof PublishError ? error : changed();
      });
      // A file that changed size fails in tar-stream above; same size, other bytes fails here.
      if (hash.digest('hex') !== f.sha256) throw changed();
    }
    if (plan.index.mode === 'full') await add(`files/${INDEX_FILE}`, plan.index.text);
    else {
      const { head, add: lines, drop } = plan.index;
      await add('meta/index.head', `${head}\n`);
      await add('meta/index.add', lines.length > 0 ? `${lines.join('\n')}\n` : '');
      await add('meta/index.drop', drop.length > 0 ? `${drop.join('\n')}\n` : '');
    }
    await add('meta/complete', plan.releaseId);
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error as Error));
  const out = new PassThrough();
  out.write(`${plan.base} ${plan.compress ? 'gz' : 'tar'} ${plan.index.mode} ${plan.indexSha256}\n`);
  (plan.compress ? pipeline(pack, coalesce(), createGzip({ level: 6 }), out) : pipeline(pack, coalesce(), out)).catch((error: unknown) => out.destroy(error as Error));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The session with the host.

/** The UTC time part of a release id; the host picks the sequence (one past its newest release). */
function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

interface HostState {
  live: string | null;
  newId: string;
  /** The live index is the client's cached one (the plan made against it holds). */
  cached: boolean;
  /** The live index when it was sent and is usable. */
  index: SiteIndex | null;
  /** Whether that index is in the canonical layout (a delta can be applied to it). */
  canonical: boolean;
  indexProblem?: string;
  /** Bytes received up to the end of the state. */
  bytes: number;
}

interface Session {
  state: Promise<HostState>;
  /** Every stdout line after the state. */
  lines: string[];
  stderr: () => string;
  channel: ExecChannel;
}

/** Starts PUBLISH_SCRIPT and reads its state report (lines, and the live index when it follows). */
async function startSession(reports: ReportsHost, cache: IndexCache | null, keep: number, onLine: (line: string) => void): Promise<Session> {
  const channel = await reports.connector.exec(render(command(['sh', '-c', PUBLISH_SCRIPT, 'orchestrate-publish', reports.root, cache?.releaseId ?? '', cache?.sha256 ?? '', keep, stamp(new Date())])));
  let stderr = '';
  channel.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 65536) stderr += chunk.toString('utf8');
  });
  const lines: string[] = [];
  let buf: Buffer = Buffer.alloc(0);
  let received = 0;
  let phase: 'state' | 'index' | 'after' = 'state';
  let need = 0;
  let live: string | null = null;
  let newId = '';
  let resolveState!: (s: HostState) => void;
  let rejectState!: (e: Error) => void;
  const state = new Promise<HostState>((res, rej) => {
    resolveState = res;
    rejectState = rej;
  });
  state.catch(() => undefined);
  const finishState = (text: string | null, cached: boolean) => {
    phase = 'after';
    if (!RELEASE_ID.test(newId)) return rejectState(new PublishError(`unexpected answer from the reports host: no new release id`));
    const base: HostState = { live, newId, cached: false, index: null, canonical: false, bytes: received - buf.length };
    if (!live) return resolveState(base);
    if (cached) return resolveState({ ...base, cached: true, canonical: true });
    if (text === null) return resolveState({ ...base, indexProblem: 'the live release has no index' });
    const parsed = parseIndexText(text);
    if ('problem' in parsed) return resolveState({ ...base, indexProblem: parsed.problem });
    return resolveState({ ...base, index: parsed.index, canonical: parsed.canonical });
  };
  const stateLine = (line: string) => {
    if (line.startsWith('cleaned ')) {
      lines.push(line);
      onLine(line);
    } else if (line.startsWith('live ')) {
      const id = line.slice(5);
      if (id !== '' && !RELEASE_ID.test(id)) return rejectState(new PublishError(`the live site points at ${JSON.stringify(id)}, which is not a release of this publisher`));
      live = id === '' ? null : id;
    } else if (line.startsWith('new ')) newId = line.slice(4);
    else if (line === 'index-none') finishState(null, false);
    else if (line.startsWith('index-cached ')) {
      if (!cache || line.slice(13) !== cache.sha256) return rejectState(new PublishError(`unexpected answer from the reports host: ${line}`));
      finishState(cache.text, true);
    } else if (line.startsWith('index-follows ')) {
      need = Number(line.slice(14).trim().split(/\s+/)[0]);
      if (!Number.isSafeInteger(need) || need < 0) return rejectState(new PublishError(`unexpected answer from the reports host: ${line}`));
      phase = 'index';
    }
  };
  channel.stdout.on('data', (chunk: Buffer) => {
    received += chunk.length;
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (phase === 'index') {
        if (buf.length < need) return;
        const text = buf.subarray(0, need).toString('utf8');
        buf = buf.subarray(need);
        finishState(text, false);
        continue;
      }
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      const line = buf.subarray(0, nl).toString('utf8');
      buf = buf.subarray(nl + 1);
      if (phase === 'state') stateLine(line);
      else {
        lines.push(line);
        onLine(line);
      }
    }
  });
  void channel.done.then(
    () => rejectState(new PublishError(`the reports host ended the session before reporting its state: ${stderr.trim()}`)),
    (error: unknown) => rejectState(error as Error),
  );
  return { state, lines, stderr: () => stderr, channel };
}

interface AttemptResult {
  state: HostState;
  plan: UploadPlan;
  diff: IndexPlan['diff'];
  exitCode: number | null;
  signal?: string;
  lines: string[];
  stderr: string;
  sent: number;
  indexText: string;
}

/** What the client knows before the host answers: the cached live index and the plan against it. */
interface Prepared {
  cache: IndexCache | null;
  /** The plan against the cached index (null without a cache). */
  plan: IndexPlan | null;
}

async function attempt(
  reports: ReportsHost,
  local: LocalFile[],
  prepared: Prepared,
  keep: number,
  forceFullIndex: boolean,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<AttemptResult> {
  signal?.throwIfAborted();
  const session = await startSession(reports, prepared.cache, keep, log);
  const { channel } = session;
  const onAbort = () => channel.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  let input: Readable | undefined;
  try {
    let state: HostState;
    try {
      state = await session.state;
    } catch (error) {
      channel.close();
      const exit = await channel.done.catch(() => ({ exitCode: null }));
      signal?.throwIfAborted();
      if (exit.exitCode !== null && exit.exitCode !== 0) {
        throw new PublishError(`${reports.host.name}: cannot read the published site state (exit ${exit.exitCode}): ${session.stderr().trim()}`);
      }
      throw error;
    }
    if (state.indexProblem) log(`${state.indexProblem}: uploading every file`);
    const hasBase = state.cached || state.index !== null;
    const ip = state.cached && prepared.plan ? prepared.plan : planIndex(local, state.index);
    const text = indexText(indexHeadLine(state.newId, new Date().toISOString()), ip.lines);
    const head = text.slice(0, text.indexOf('\n'));
    const indexSha256 = sha256(text);
    const useDelta = !forceFullIndex && hasBase && state.canonical;
    const diff = ip.diff;
    const plan: UploadPlan = {
      releaseId: state.newId,
      upload: diff.upload,
      remove: diff.remove,
      base: hasBase ? 'link' : 'empty',
      index: useDelta ? { mode: 'delta', head, add: ip.add, drop: ip.drop } : { mode: 'full', text },
      indexSha256,
      compress: await worthCompressing(diff.upload),
    };
    const uploadedBytes = diff.upload.reduce((n, f) => n + f.size, 0);
    log(
      `release ${state.newId} on ${reports.host.name}:${reports.target.path}: ${diff.upload.length} file(s) to upload (${uploadedBytes} bytes), ${diff.remove.length} to remove, ` +
        `${diff.unchanged.length} unchanged${hasBase ? ` (hard links from ${state.live})` : ''}; index ${useDelta ? `delta (${ip.add.length} added/changed, ${ip.drop.length} dropped)` : 'whole'}${plan.compress ? ', gzip' : ''}`,
    );
    let sent = 0;
    let feedError: unknown;
    input = uploadStream(plan);
    input.on('data', (chunk: Buffer) => (sent += chunk.length));
    const feeding = pipeline(input, channel.stdin).catch((error: unknown) => {
      feedError = error;
      channel.close();
    });
    const exit = await channel.done;
    if (!input.destroyed && !input.readableEnded) input.destroy();
    await feeding;
    signal?.throwIfAborted();
    // A local failure (a file changed while being sent) explains the host's "upload ended early".
    if (feedError instanceof PublishError) throw new PublishError(`${feedError.message}; ${state.live ?? 'nothing'} stays live`);
    if (feedError && exit.exitCode === 0) throw feedError;
    return { state, plan, diff, exitCode: exit.exitCode, ...(exit.signal ? { signal: exit.signal } : {}), lines: session.lines, stderr: session.stderr(), sent, indexText: text };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (input && !input.destroyed) input.destroy();
    channel.close();
  }
}

export async function publishSite(options: PublishOptions): Promise<PublishResult> {
  const started = Date.now();
  const keep = options.keep ?? DEFAULT_KEEP;
  if (!Number.isInteger(keep) || keep < 2) throw new PublishError(`keep must be a whole number >= 2 (the live release and one to roll back to), got ${keep}`);
  const log = options.log ?? (() => undefined);
  const siteDir = resolve(options.siteDir);
  // Scanning the site and connecting to the host at the same time; nothing happens on the host
  // before the scan has succeeded.
  const scanning = scanSiteCached(siteDir, hashCacheFile(options.inventory, siteDir));
  // The diff against the cached live index is worked out while the SSH handshake runs; the host
  // then only has to confirm that its live index is that one.
  const preparing = Promise.all([scanning, readIndexCache(options.inventory)]).then(([scan, cache]): Prepared => {
    if (!cache) return { cache, plan: null };
    return { cache, plan: planIndex(scan.files, trustedIndex(cache.text)) };
  });
  const connecting = connectReportsHost(options.inventory, { acceptNewHostKeys: options.acceptNewHostKeys === true, ...(options.signal ? { signal: options.signal } : {}) });
  const [scanned, connected, prep] = await Promise.allSettled([scanning, connecting, preparing]);
  if (scanned.status === 'rejected') {
    if (connected.status === 'fulfilled') await connected.value.connector.close();
    throw scanned.reason;
  }
  if (connected.status === 'rejected') throw connected.reason;
  const reports = connected.value;
  const scan = scanned.value;
  const local = scan.files;
  const prepared: Prepared = prep.status === 'fulfilled' ? prep.value : { cache: null, plan: null };
  const savingHashes = scan.saveCache();
  const totalBytes = local.reduce((n, f) => n + f.size, 0);
  log(`site ${options.siteDir}: ${local.length} file(s), ${totalBytes} byte(s), ${scan.hashed} hashed`);
  try {
    let r = await attempt(reports, local, prepared, keep, false, log, options.signal);
    let fallback: string | undefined;
    if (r.exitCode === INDEX_MISMATCH && r.plan.index.mode === 'delta') {
      fallback = r.stderr.trim() || 'the index delta did not apply';
      log(`${fallback}: publishing again with the whole index`);
      r = await attempt(reports, local, { cache: null, plan: null }, keep, true, log, options.signal);
    }
    const releaseId = r.state.newId;
    const live = r.lines.includes(`live ${releaseId}`);
    if (r.exitCode !== 0 || !live || r.lines[r.lines.length - 1] !== 'done') {
      const detail = r.stderr.trim() || r.lines[r.lines.length - 1] || '';
      throw new PublishError(
        `${reports.host.name}: publishing release ${releaseId} failed (exit ${r.exitCode ?? r.signal})${live ? ' after it went live' : `; ${r.state.live ?? 'nothing'} stays live`}: ${detail}`,
      );
    }
    await Promise.all([writeIndexCache(options.inventory, releaseId, r.indexText, r.plan.indexSha256), savingHashes]);
    return {
      releaseId,
      previousId: r.state.live,
      uploadedFiles: r.diff.upload.length,
      uploadedBytes: r.diff.upload.reduce((n, f) => n + f.size, 0),
      wireBytes: r.sent,
      stateBytes: r.state.bytes,
      indexUpload: r.plan.index.mode,
      indexSha256: r.plan.indexSha256,
      compressed: r.plan.compress,
      hashedFiles: scan.hashed,
      ...(fallback ? { fallback } : {}),
      removedFiles: r.diff.remove.length,
      unchangedFiles: r.diff.unchanged.length,
      totalFiles: local.length,
      totalBytes,
      prunedReleases: r.lines.filter((l) => l.startsWith('pruned ')).map((l) => l.slice(7)),
      cleaned: r.lines.filter((l) => l.startsWith('cleaned ')).map((l) => l.slice(8)),
      ...(reports.target.url ? { url: reports.target.url } : {}),
      ms: Date.now() - started,
    };
  } finally {
    await savingHashes;
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
    const result = await runScript(reports.connector, 'orchestrate-publish-list', LIST_SCRIPT, [reports.root]);
    if (result.exitCode !== 0) throw new PublishError(`${reports.host.name}: cannot read the published site state (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim()}`);
    let live: string | null = null;
    const releases: string[] = [];
    for (const line of result.stdout.split('\n')) {
      if (line.startsWith('live ')) {
        const id = line.slice(5);
        if (id !== '' && !RELEASE_ID.test(id)) throw new PublishError(`the live site points at ${JSON.stringify(id)}, which is not a release of this publisher`);
        live = id === '' ? null : id;
      } else if (line.startsWith('release ') && RELEASE_ID.test(line.slice(8))) releases.push(line.slice(8));
    }
    return { live, releases: releases.sort() };
  } finally {
    await reports.connector.close();
  }
}
