// Walks what QASET left behind and parses every benchmark output in it. Accepts:
//  - a collected /var/log/qaset tree (control/DONE, control/NEXT_RUN, control/RUN_ID, runs/, calls/,
//    log/<case>[-ACAP2-<RUNID>]-<stamp>.tar.bz2, submission/),
//  - a single QASET log tarball (.tar.bz2, .tar.gz/.tgz or .tar) of /var/log/qa/ctcs2/*,
//  - one raw benchmark output file, or a ctcs2 directory.
// Tarballs are hostile input: they go through extractArchive into a temporary directory.
// An output no parser understands is reported in `unparsed` (path + reason), never dropped.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MetricSample } from '../results/metrics.js';
import { extractArchive } from '../results/safe-extract.js';
import { parseTestResults, type CtcsTestResult } from './parsers/ctcs2.js';
import { parseOutput } from './registry.js';

export interface QasetTestResult extends CtcsTestResult {
  /** ctcs2 directory name (<tcf>-YYYY-MM-DD-HH-MM-SS). */
  tcf: string;
  /** test_results path as reported. */
  source: string;
}

export interface QasetParseResult {
  samples: MetricSample[];
  unparsed: { path: string; reason: string }[];
  /** Files parsed into samples, with the benchmark that understood them. */
  parsed: { path: string; benchmark: string; samples: number; notes?: string[] }[];
  /** Tarball entries refused by the safe extractor (path traversal, devices...). */
  rejected: { archive: string; path: string; reason: string }[];
  tests: QasetTestResult[];
  runId: string | null;
  /** control/DONE timestamp as "YYYY-MM-DDTHH:MM:SS" (guest local time), null when not done. */
  done: string | null;
  nextRun: { index: number; name: string } | null;
}

export interface WalkOptions {
  /** Limit on extracted bytes per archive (default 2 GiB). */
  maxArchiveBytes?: number;
  /** Limit on one text file read for parsing (default 64 MiB). */
  maxFileBytes?: number;
  /** Keep extracted archives here (default: a temp dir removed afterwards). */
  extractTo?: string;
}

const ARCHIVE = /\.(tar\.bz2|tbz2?|tar\.gz|tgz|tar)$/i;
/** Files of a ctcs2 directory that are run metadata, not benchmark output. */
const CTCS2_META = new Set(['done', 'environment', 'tenv.txt', 'lscpu.txt', 'meminfo.txt', 'cmdline.txt', 'rpmlist', 'hwinfo', 'kernel', 'uname.txt']);
/** QASET bookkeeping directories of /var/log/qaset whose files are not benchmark output. */
const QASET_BOOKKEEPING = new Set(['control', 'runs', 'calls', 'submission']);

function emptyResult(): QasetParseResult {
  return { samples: [], unparsed: [], parsed: [], rejected: [], tests: [], runId: null, done: null, nextRun: null };
}

async function readSmall(p: string): Promise<string | null> {
  try {
    return (await fsp.readFile(p, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** "2026-11-22-06-15-53" -> "2026-11-22T06:15:53"; other text is returned trimmed. */
export function parseDoneStamp(text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})/.exec(t);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}` : t.split('\n')[0]!;
}

function runIdFromTarball(name: string): string | null {
  return /-ACAP2-([^-]+)-\d{8}T\d{6}\.tar/.exec(name)?.[1] ?? null;
}

class Walk {
  readonly r = emptyResult();
  private readonly temps: string[] = [];
  constructor(private readonly opts: WalkOptions) {}

  async cleanup(): Promise<void> {
    for (const t of this.temps) await fsp.rm(t, { recursive: true, force: true });
  }

  private async extract(file: string, shown: string): Promise<string | null> {
    let dest: string;
    if (this.opts.extractTo) {
      dest = path.join(this.opts.extractTo, shown.replace(/[^A-Za-z0-9._-]+/g, '_'));
    } else {
      dest = await fsp.mkdtemp(path.join(os.tmpdir(), 'qaset-'));
      this.temps.push(dest);
    }
    const maxBytes = this.opts.maxArchiveBytes ?? 2 * 1024 ** 3;
    const lower = file.toLowerCase();
    try {
      let res;
      if (/\.(tar\.bz2|tbz2?)$/.test(lower)) {
        const child = spawn('bzip2', ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
        // Read bzip2's output from the start: Node resumes (and so discards) a child's stdout that
        // nobody reads when the child exits, and extractArchive first awaits its destination
        // directory - long enough, for a small archive, to lose all of it.
        const output = child.stdout.pipe(new PassThrough());
        const input = createReadStream(file);
        input.pipe(child.stdin);
        child.stdin.on('error', () => {});
        input.on('error', (e) => output.destroy(e));
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        try {
          res = await extractArchive(output, dest, { maxBytes });
        } finally {
          if (child.exitCode === null) child.kill();
        }
        const code = await exited;
        if (code !== 0 && code !== null) throw new Error(`bzip2 -dc exited ${code}: ${stderr.trim()}`);
      } else {
        res = await extractArchive(createReadStream(file), dest, { maxBytes, gzip: /\.(tar\.gz|tgz)$/.test(lower) });
      }
      for (const rej of res.rejected) this.r.rejected.push({ archive: shown, path: rej.path, reason: rej.reason });
      return dest;
    } catch (err) {
      this.r.unparsed.push({ path: shown, reason: `archive could not be extracted: ${(err as Error).message}` });
      return null;
    }
  }

  async file(abs: string, shown: string, depth: number, inCtcs2: boolean): Promise<void> {
    const base = path.basename(abs);
    if (ARCHIVE.test(base)) {
      if (depth > 3) {
        this.r.unparsed.push({ path: shown, reason: 'archive nested too deep, not extracted' });
        return;
      }
      const dir = await this.extract(abs, shown);
      if (dir === null) return;
      this.r.runId ??= runIdFromTarball(base);
      await this.dir(dir, `${shown}!`, depth + 1, false);
      return;
    }
    if (base === 'test_results') {
      const text = await fsp.readFile(abs, 'utf8');
      const { tests } = parseTestResults(text);
      const tcf = path.basename(path.dirname(abs));
      for (const t of tests) this.r.tests.push({ ...t, tcf, source: shown });
      const res = parseOutput(text, shown, 'test_results');
      this.record(shown, res);
      return;
    }
    if (inCtcs2 && CTCS2_META.has(base)) return;
    const st = await fsp.stat(abs);
    const max = this.opts.maxFileBytes ?? 64 * 1024 * 1024;
    if (st.size > max) {
      this.r.unparsed.push({ path: shown, reason: `file of ${st.size} bytes is larger than the ${max}-byte parse limit` });
      return;
    }
    const buf = await fsp.readFile(abs);
    if (buf.subarray(0, 8192).includes(0)) {
      this.r.unparsed.push({ path: shown, reason: 'binary content' });
      return;
    }
    const res = parseOutput(buf.toString('utf8'), shown, base);
    if (inCtcs2) {
      const tcf = path.basename(path.dirname(abs));
      for (const smp of res.samples) {
        smp.labels['test'] ??= base;
        smp.labels['tcf'] ??= tcf;
      }
    }
    this.record(shown, res);
  }

  private record(shown: string, res: ReturnType<typeof parseOutput>): void {
    if (res.samples.length === 0) {
      this.r.unparsed.push({ path: shown, reason: res.unparsed ?? 'no samples' });
      return;
    }
    this.r.samples.push(...res.samples);
    const entry: QasetParseResult['parsed'][number] = { path: shown, benchmark: res.benchmark, samples: res.samples.length };
    if (res.notes && res.notes.length > 0) entry.notes = res.notes;
    this.r.parsed.push(entry);
  }

  async dir(abs: string, shown: string, depth: number, inCtcs2Parent: boolean): Promise<void> {
    const entries = (await fsp.readdir(abs, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    const isCtcs2 = inCtcs2Parent || entries.some((e) => e.isFile() && e.name === 'test_results');
    const join = (n: string) => (shown === '' ? n : shown.endsWith('!') ? `${shown}${n}` : `${shown}/${n}`);
    for (const e of entries) {
      const child = path.join(abs, e.name);
      if (e.isDirectory()) await this.dir(child, join(e.name), depth, isCtcs2);
      else if (e.isFile()) await this.file(child, join(e.name), depth, isCtcs2);
      // symlinks and specials are never followed
    }
  }

  async control(root: string): Promise<void> {
    const c = path.join(root, 'control');
    const done = await readSmall(path.join(c, 'DONE'));
    this.r.done = done === null ? null : parseDoneStamp(done);
    const next = await readSmall(path.join(c, 'NEXT_RUN'));
    const m = next ? /^(\d+)\s+(\S+)/.exec(next) : null;
    if (m) this.r.nextRun = { index: Number(m[1]), name: m[2]! };
    const runId = await readSmall(path.join(c, 'RUN_ID'));
    const rm = runId ? /SQ_TEST_RUN_ID=\s*"?([^"\s]+)/.exec(runId) : null;
    if (rm) this.r.runId = rm[1]!;
  }

  /** Walks a /var/log/qaset tree: control/ is read, bookkeeping dirs skipped, the rest parsed. */
  async qasetTree(root: string): Promise<void> {
    await this.control(root);
    const entries = (await fsp.readdir(root, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (QASET_BOOKKEEPING.has(e.name)) continue;
      const child = path.join(root, e.name);
      if (e.isDirectory()) await this.dir(child, e.name, 0, false);
      else if (e.isFile()) await this.file(child, e.name, 0, false);
    }
  }
}

/** Parses a QASET tree, a QASET log tarball or one raw output file. Throws if target is unreadable. */
export async function parseQasetPath(target: string, opts: WalkOptions = {}): Promise<QasetParseResult> {
  const st = await fsp.stat(target);
  const w = new Walk(opts);
  try {
    if (st.isDirectory()) {
      const isTree = (await fsp.stat(path.join(target, 'control')).then((s) => s.isDirectory()).catch(() => false)) ||
        (await fsp.stat(path.join(target, 'log')).then((s) => s.isDirectory()).catch(() => false));
      if (isTree) await w.qasetTree(target);
      else await w.dir(target, '', 0, false);
    } else {
      await fsp.access(target, fsp.constants.R_OK);
      await w.file(target, path.basename(target), 0, false);
    }
    return w.r;
  } finally {
    await w.cleanup();
  }
}
