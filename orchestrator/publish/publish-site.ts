// Publishing the static report site to the inventory's reports host: only changed files travel
// (one streamed tar over stdin, upload-stream.ts), into a new release directory, and the live site
// switches to it in one atomic step (a symlink swap). The host side, its layout and guarantees:
// remote-scripts/publish/lib/releases.sh.
//
// One SSH session does it all (releases_publish): the host reports the live release and starts its
// hard-link copy; the client answers with the changed files and the index. The index goes as a
// delta against the live one (which the client knows from its cache, client-cache.ts, checked by
// sha256 on the host) and the host must rebuild exactly the client's index: it checks the sha256
// the client computed, and on a mismatch nothing changes and the client publishes again with the
// full index. Local files are hashed only when their size, times or inode changed (site-index.ts).
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Inventory } from '../inventory/types.js';
import type { ExecChannel, ExecExit } from '../connectors/types.js';
import { PublishError, runScript, withReportsHost, type ReportsHost } from './reports-host.js';
import { hostCommand, RELEASE_ID } from './host-calls.js';
import { hashCacheFile, readIndexCache, sha256, writeIndexCache, type IndexCache } from './client-cache.js';
import { uploadStream, worthCompressing, type UploadPlan } from './upload-stream.js';
import { indexHeadLine, indexText, parseIndexText, planIndex, scanSiteCached, trustedIndex, type IndexPlan, type LocalFile, type SiteIndex } from './site-index.js';

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

/** Exit code of releases_publish when the index it built does not hash to the client's. */
const INDEX_MISMATCH = 78;

const exitOf = (exit: ExecExit) => `exit ${exit.exitCode ?? exit.signal}`;

/** The id a `live <id>` line names (null: nothing is live); anything but a release id is refused. */
function liveId(line: string): string | null {
  const id = line.slice('live '.length);
  if (id !== '' && !RELEASE_ID.test(id)) throw new PublishError(`the live site points at ${JSON.stringify(id)}, which is not a release of this publisher`);
  return id === '' ? null : id;
}

/** The UTC time part of a release id; the host picks the sequence (one past its newest release). */
function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------
// The session with the host.

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

/**
 * Reads the host's state report: `cleaned`, `live`, `new` lines, then `index-none`,
 * `index-cached <sha256>` or `index-follows <bytes>` and that many bytes of index. Every line
 * after it goes to `lines` (and `onLine`).
 */
class StateReader {
  readonly lines: string[] = [];
  readonly state: Promise<HostState>;
  private resolve!: (s: HostState) => void;
  private reject!: (e: Error) => void;
  private buf: Buffer = Buffer.alloc(0);
  private received = 0;
  private phase: 'state' | 'index' | 'after' = 'state';
  private need = 0;
  private live: string | null = null;
  private newId = '';

  constructor(
    private readonly cache: IndexCache | null,
    private readonly onLine: (line: string) => void,
  ) {
    this.state = new Promise<HostState>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.state.catch(() => undefined);
  }

  fail(error: Error): void {
    this.reject(error);
  }

  data(chunk: Buffer): void {
    this.received += chunk.length;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.phase === 'index') {
        if (this.buf.length < this.need) return;
        const text = this.buf.subarray(0, this.need).toString('utf8');
        this.buf = this.buf.subarray(this.need);
        this.finish(text, false);
        continue;
      }
      const nl = this.buf.indexOf(10);
      if (nl < 0) return;
      const line = this.buf.subarray(0, nl).toString('utf8');
      this.buf = this.buf.subarray(nl + 1);
      if (this.phase === 'state') this.stateLine(line);
      else this.after(line);
    }
  }

  private after(line: string): void {
    this.lines.push(line);
    this.onLine(line);
  }

  private stateLine(line: string): void {
    const unexpected = () => this.reject(new PublishError(`unexpected answer from the reports host: ${line}`));
    const [word = '', arg = ''] = line.split(/ (.*)/s);
    try {
      if (word === 'cleaned') this.after(line);
      else if (word === 'live') this.live = liveId(line);
      else if (word === 'new') this.newId = arg;
      else if (line === 'index-none') this.finish(null, false);
      else if (word === 'index-cached') {
        if (!this.cache || arg !== this.cache.sha256) return unexpected();
        this.finish(this.cache.text, true);
      } else if (word === 'index-follows') {
        this.need = Number(arg.trim().split(/\s+/)[0]);
        if (!Number.isSafeInteger(this.need) || this.need < 0) return unexpected();
        this.phase = 'index';
      }
    } catch (error) {
      this.reject(error as Error);
    }
  }

  private finish(text: string | null, cached: boolean): void {
    this.phase = 'after';
    if (!RELEASE_ID.test(this.newId)) return this.reject(new PublishError(`unexpected answer from the reports host: no new release id`));
    const base: HostState = { live: this.live, newId: this.newId, cached: false, index: null, canonical: false, bytes: this.received - this.buf.length };
    if (!this.live) return this.resolve(base);
    if (cached) return this.resolve({ ...base, cached: true, canonical: true });
    if (text === null) return this.resolve({ ...base, indexProblem: 'the live release has no index' });
    const parsed = parseIndexText(text);
    this.resolve('problem' in parsed ? { ...base, indexProblem: parsed.problem } : { ...base, index: parsed.index, canonical: parsed.canonical });
  }
}

/** Starts releases_publish and reads its state report (lines, and the live index when it follows). */
async function startSession(reports: ReportsHost, cache: IndexCache | null, keep: number, onLine: (line: string) => void): Promise<Session> {
  const channel = await reports.connector.exec(await hostCommand('publish', [reports.root, cache?.releaseId ?? '', cache?.sha256 ?? '', keep, stamp(new Date())]));
  let stderr = '';
  channel.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 65536) stderr += chunk.toString('utf8');
  });
  const reader = new StateReader(cache, onLine);
  channel.stdout.on('data', (chunk: Buffer) => reader.data(chunk));
  void channel.done.then(
    () => reader.fail(new PublishError(`the reports host ended the session before reporting its state: ${stderr.trim()}`)),
    (error: unknown) => reader.fail(error as Error),
  );
  return { state: reader.state, lines: reader.lines, stderr: () => stderr, channel };
}

interface AttemptResult extends ExecExit {
  state: HostState;
  plan: UploadPlan;
  diff: IndexPlan['diff'];
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

/** The upload against the state the host reported: what changed, and the index whole or as a delta. */
async function uploadPlan(state: HostState, local: LocalFile[], prepared: Prepared, forceFullIndex: boolean): Promise<{ plan: UploadPlan; ip: IndexPlan; text: string }> {
  const hasBase = state.cached || state.index !== null;
  const ip = state.cached && prepared.plan ? prepared.plan : planIndex(local, state.index);
  const text = indexText(indexHeadLine(state.newId, new Date().toISOString()), ip.lines);
  const useDelta = !forceFullIndex && hasBase && state.canonical;
  const plan: UploadPlan = {
    releaseId: state.newId,
    upload: ip.diff.upload,
    remove: ip.diff.remove,
    base: hasBase ? 'link' : 'empty',
    index: useDelta ? { mode: 'delta', head: text.slice(0, text.indexOf('\n')), add: ip.add, drop: ip.drop } : { mode: 'full', text },
    indexSha256: sha256(text),
    compress: await worthCompressing(ip.diff.upload),
  };
  return { plan, ip, text };
}

async function attempt(reports: ReportsHost, local: LocalFile[], prepared: Prepared, keep: number, forceFullIndex: boolean, log: (line: string) => void, signal?: AbortSignal): Promise<AttemptResult> {
  signal?.throwIfAborted();
  const session = await startSession(reports, prepared.cache, keep, log);
  const { channel } = session;
  const onAbort = () => channel.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  let input: Readable | undefined;
  try {
    const state = await session.state.catch(async (error: unknown) => {
      channel.close();
      const exit = await channel.done.catch(() => ({ exitCode: null }) as ExecExit);
      signal?.throwIfAborted();
      if (exit.exitCode !== null && exit.exitCode !== 0) throw new PublishError(`${reports.host.name}: cannot read the published site state (${exitOf(exit)}): ${session.stderr().trim()}`);
      throw error;
    });
    if (state.indexProblem) log(`${state.indexProblem}: uploading every file`);
    const { plan, ip, text } = await uploadPlan(state, local, prepared, forceFullIndex);
    const { diff } = ip;
    log(
      `release ${state.newId} on ${reports.host.name}:${reports.target.path}: ${diff.upload.length} file(s) to upload (${diff.upload.reduce((n, f) => n + f.size, 0)} bytes), ${diff.remove.length} to remove, ` +
        `${diff.unchanged.length} unchanged${plan.base === 'link' ? ` (hard links from ${state.live})` : ''}; index ${plan.index.mode === 'delta' ? `delta (${ip.add.length} added/changed, ${ip.drop.length} dropped)` : 'whole'}${plan.compress ? ', gzip' : ''}`,
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
    return { ...exit, state, plan, diff, lines: session.lines, stderr: session.stderr(), sent, indexText: text };
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
  const preparing = Promise.all([scanning, readIndexCache(options.inventory)]).then(
    ([scan, cache]): Prepared => ({ cache, plan: cache ? planIndex(scan.files, trustedIndex(cache.text)) : null }),
    (): Prepared => ({ cache: null, plan: null }),
  );
  let scanError: unknown;
  scanning.catch((error: unknown) => (scanError = error));
  return withReportsHost(options.inventory, options, async (reports) => {
    const scan = await scanning;
    const prepared = await preparing;
    const savingHashes = scan.saveCache();
    try {
      const totalBytes = scan.files.reduce((n, f) => n + f.size, 0);
      log(`site ${options.siteDir}: ${scan.files.length} file(s), ${totalBytes} byte(s), ${scan.hashed} hashed`);
      let r = await attempt(reports, scan.files, prepared, keep, false, log, options.signal);
      let fallback: string | undefined;
      if (r.exitCode === INDEX_MISMATCH && r.plan.index.mode === 'delta') {
        fallback = r.stderr.trim() || 'the index delta did not apply';
        log(`${fallback}: publishing again with the whole index`);
        r = await attempt(reports, scan.files, { cache: null, plan: null }, keep, true, log, options.signal);
      }
      const releaseId = r.state.newId;
      const live = r.lines.includes(`live ${releaseId}`);
      if (r.exitCode !== 0 || !live || r.lines.at(-1) !== 'done') {
        const detail = r.stderr.trim() || r.lines.at(-1) || '';
        throw new PublishError(`${reports.host.name}: publishing release ${releaseId} failed (${exitOf(r)})${live ? ' after it went live' : `; ${r.state.live ?? 'nothing'} stays live`}: ${detail}`);
      }
      await writeIndexCache(options.inventory, { releaseId, text: r.indexText, sha256: r.plan.indexSha256 });
      const after = (word: string) => r.lines.filter((l) => l.startsWith(`${word} `)).map((l) => l.slice(word.length + 1));
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
        totalFiles: scan.files.length,
        totalBytes,
        prunedReleases: after('pruned'),
        cleaned: after('cleaned'),
        ...(reports.target.url ? { url: reports.target.url } : {}),
        ms: Date.now() - started,
      };
    } finally {
      await savingHashes;
    }
  }).catch(async (error: unknown) => {
    // A site that cannot be scanned is the first thing to report, whatever the connection did.
    await scanning.catch(() => undefined);
    throw scanError ?? error;
  });
}

/** Runs a releases.sh call (no stdin) on the reports host; a failure names the host and what it said. */
async function releasesCall(reports: ReportsHost, call: 'list' | 'rollback', args: string[], what: string): Promise<string> {
  const result = await runScript(reports.connector, await hostCommand(call, [reports.root, ...args]));
  if (result.exitCode !== 0) throw new PublishError(`${reports.host.name}: ${what} (${exitOf(result)}): ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}

export async function rollback(options: { inventory: Inventory; acceptNewHostKeys?: boolean; to?: string }): Promise<{ from: string; to: string }> {
  if (options.to !== undefined && !RELEASE_ID.test(options.to)) throw new PublishError(`${JSON.stringify(options.to)} is not a release id (like r000003-20261122T051637Z)`);
  return withReportsHost(options.inventory, options, async (reports) => {
    const stdout = await releasesCall(reports, 'rollback', [options.to ?? ''], 'rollback failed');
    const from = /^from (\S+)$/m.exec(stdout)?.[1];
    const to = /^to (\S+)$/m.exec(stdout)?.[1];
    if (!from || !to) throw new PublishError(`${reports.host.name}: rollback failed (exit 0): ${stdout.trim()}`);
    return { from, to };
  });
}

export async function listReleases(options: { inventory: Inventory; acceptNewHostKeys?: boolean }): Promise<ReleaseList> {
  return withReportsHost(options.inventory, options, async (reports) => {
    const stdout = await releasesCall(reports, 'list', [], 'cannot read the published site state');
    let live: string | null = null;
    const releases: string[] = [];
    for (const line of stdout.split('\n')) {
      if (line.startsWith('live ')) live = liveId(line);
      else if (line.startsWith('release ') && RELEASE_ID.test(line.slice(8))) releases.push(line.slice(8));
    }
    return { live, releases: releases.sort() };
  });
}
