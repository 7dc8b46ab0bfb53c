// Walks what QASET left behind and parses every benchmark output in it. Accepts:
//  - a collected /var/log/qaset tree (control/, runs/, calls/, log/<case>-ACAP2-<RUNID>-<stamp>.tar.bz2,
//    submission/, set/): control/ is read, the bookkeeping directories are skipped, the rest parsed;
//  - a collected /var/log/qa tree (ctcs2/ with unpacked result directories, oldlogs/);
//  - a collection directory holding any of: qaset/ (= /var/log/qaset), qa/ (= /var/log/qa),
//    list.failed and list (= /root/qaset/list.failed and list); nothing else in it is read;
//  - a single QASET log tarball (.tar.bz2, .tar.gz/.tgz or .tar) of /var/log/qa/ctcs2/*;
//  - one raw benchmark output file, or any directory (a ctcs2 result directory...).
// Tarballs are hostile input: they go through extractArchive into a temporary directory.
// An output no parser understands is reported in `unparsed` (path + reason), never dropped; the
// system-information files QASET writes into each ctcs2 result directory are listed in `sysinfo`.
//
// One ctcs2 result directory, one reading: the same <tcf>-<YYYY-MM-DD-HH-MM-SS> directory can be
// present twice (packed in a log tarball and unpacked under /var/log/qa, or in two tarballs when
// QASET could not empty /var/log/qa/ctcs2 after packing). The copy in a QASET log tarball wins
// (it is the record QASET made of the case, and its name says which case and run it belongs to),
// the earliest tarball by the time in its name first; the others are listed in `duplicates`.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MetricSample } from '../results/metrics.js';
import { extractArchive } from '../results/safe-extract.js';
import { parseListFailed, parseRunList, type FailedCase, type ListProblem } from './case-lists.js';
import { currentCase, readControl, type QasetControl, type RunListEntry } from './control.js';
import { readHostText } from './host-text.js';
import { parseTestResults, type CtcsTestResult } from './parsers/ctcs2.js';
import { CTCS2_METADATA_FILES, QASET_BOOKKEEPING_DIRS, QASET_SYSINFO_FILES, isTcfDirName, parseTarballName } from './qaset-layout.js';
import { parseOutput } from './registry.js';

export { parseDoneStamp } from './control.js';

export interface QasetTestResult extends CtcsTestResult {
  /** ctcs2 directory name (<tcf>-YYYY-MM-DD-HH-MM-SS). */
  tcf: string;
  /** test_results path as reported. */
  source: string;
  /** The QASET case whose results these are, when known (from the log tarball's name). */
  case?: string;
  /** Which run of that case, from the second on (a run list can name a case twice). */
  occurrence?: number;
}

export interface QasetParseResult {
  samples: MetricSample[];
  /** Outputs no parser understands (path + reason). */
  unparsed: { path: string; reason: string }[];
  /** Files parsed into samples, with the benchmark that understood them. */
  parsed: { path: string; benchmark: string; samples: number; notes?: string[] }[];
  /** Tarball entries refused by the safe extractor (path traversal, devices...). */
  rejected: { archive: string; path: string; reason: string }[];
  tests: QasetTestResult[];
  /**
   * Known files of ctcs2 result directories that are not benchmark output: QASET's
   * system-information files (lscpu.txt, meminfo.txt, syslog-journalctl.txt...) and ctcs2's run
   * metadata (done, environment). Listed so nobody loses them, not parsed.
   */
  sysinfo: { path: string; file: string }[];
  /** ctcs2 result directories seen more than once: read once, from `kept` (see the header). */
  duplicates: { tcf: string; path: string; kept: string }[];
  /** Control and list files that were there but could not be (fully) read. */
  problems: { path: string; reason: string }[];
  /** SQ_TEST_RUN_ID: from control/RUN_ID, else from a log tarball's name. */
  runId: string | null;
  runIdSource: 'control/RUN_ID' | 'tarball-name' | null;
  /** control/DONE timestamp as "YYYY-MM-DDTHH:MM:SS" (guest local time), null when not done. */
  done: string | null;
  /**
   * control/NEXT_RUN: the case QASET runs NEXT (not the one running now), null when NEXT_RUN is
   * absent or blank (the last case running, a reset run not yet begun, or done). Kept for callers
   * of the first version; `control.next` is the same, `control.current` the case running.
   */
  nextRun: RunListEntry | null;
  /** The control directory, with the case running now when the run list is known; null when no control/ was read. */
  control: (QasetControl & { current: RunListEntry | null }) | null;
  /** The run list QASET was given (the `runList` option, or a collection's `list`); null when unknown. */
  runList: string[] | null;
  /** /root/qaset/list.failed, one entry per failed case; null when no list.failed was given or collected. */
  failedCases: FailedCase[] | null;
}

export interface WalkOptions {
  /** Limit on extracted bytes per archive (default 2 GiB). */
  maxArchiveBytes?: number;
  /** Limit on one text file read for parsing (default 64 MiB). */
  maxFileBytes?: number;
  /** Keep extracted archives here (default: a temp dir removed afterwards). */
  extractTo?: string;
  /** A collected /var/log/qa tree to read after a /var/log/qaset target; its paths start with "qa/". */
  qaDir?: string;
  /** A collected /root/qaset/list.failed. */
  listFailed?: string;
  /** The run list QASET was given (to tell the case running); else a collection's `list` file. */
  runList?: readonly string[];
}

const ARCHIVE = /\.(tar\.bz2|tbz2?|tar\.gz|tgz|tar)$/i;

function emptyResult(): QasetParseResult {
  return {
    samples: [],
    unparsed: [],
    parsed: [],
    rejected: [],
    tests: [],
    sysinfo: [],
    duplicates: [],
    problems: [],
    runId: null,
    runIdSource: null,
    done: null,
    nextRun: null,
    control: null,
    runList: null,
    failedCases: null,
  };
}

/**
 * Where a file or directory sits: how deep in archives, in which ctcs2 result directory, for which
 * case, and which run of that case (a run list may name a case twice: its second tarball's samples
 * get `occurrence: 2`, so that they never merge with the first's once timestamps are set aside).
 */
interface Place {
  depth: number;
  tcf: string | null;
  caseName: string | null;
  occurrence: number;
}

const TOP: Place = { depth: 0, tcf: null, caseName: null, occurrence: 1 };

async function isDir(p: string): Promise<boolean> {
  return fsp.lstat(p).then((s) => s.isDirectory(), () => false);
}

/** Directory entries in reading order: by name, log tarballs by the time in their names. */
async function entriesOf(abs: string) {
  const key = (n: string) => `${parseTarballName(n)?.stamp ?? ''}\u0000${n}`;
  return (await fsp.readdir(abs, { withFileTypes: true })).sort((a, b) => (key(a.name) < key(b.name) ? -1 : key(a.name) > key(b.name) ? 1 : 0));
}

class Walk {
  readonly r = emptyResult();
  private readonly temps: string[] = [];
  /** ctcs2 result directory name -> where it was read. */
  private readonly tcfSeen = new Map<string, string>();
  private tarballRunId: string | null = null;
  /** How many log tarballs of each case were read so far. */
  private readonly caseTarballs = new Map<string, number>();
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
        if (code !== 0 && code !== null) throw new Error(`bzip2 -dc exited ${code}: ${stderr.trim().slice(0, 200)}`);
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

  private labelled(samples: MetricSample[], place: Place, test: string | null): void {
    for (const smp of samples) {
      if (test !== null) smp.labels['test'] ??= test;
      if (place.tcf !== null) smp.labels['tcf'] ??= place.tcf;
      if (place.caseName !== null) smp.labels['case'] ??= place.caseName;
      if (place.occurrence > 1) smp.labels['occurrence'] ??= String(place.occurrence);
    }
  }

  async file(abs: string, shown: string, place: Place): Promise<void> {
    const base = path.basename(abs);
    if (ARCHIVE.test(base)) {
      if (place.depth > 3) {
        this.r.unparsed.push({ path: shown, reason: 'archive nested too deep, not extracted' });
        return;
      }
      const dir = await this.extract(abs, shown);
      if (dir === null) return;
      const name = parseTarballName(base);
      if (name?.runId) this.tarballRunId ??= name.runId;
      let occurrence = place.occurrence;
      if (name) {
        occurrence = (this.caseTarballs.get(name.case) ?? 0) + 1;
        this.caseTarballs.set(name.case, occurrence);
      }
      await this.dir(dir, `${shown}!`, base, { depth: place.depth + 1, tcf: place.tcf, caseName: name?.case ?? place.caseName, occurrence });
      return;
    }
    if (place.tcf !== null && (QASET_SYSINFO_FILES.has(base) || CTCS2_METADATA_FILES.has(base))) {
      this.r.sysinfo.push({ path: shown, file: base });
      return;
    }
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
    const text = buf.toString('utf8');
    if (base === 'test_results') {
      const tcf = place.tcf ?? path.basename(path.dirname(abs));
      for (const t of parseTestResults(text).tests) {
        const entry: QasetTestResult = { ...t, tcf, source: shown };
        if (place.caseName !== null) entry.case = place.caseName;
        if (place.occurrence > 1) entry.occurrence = place.occurrence;
        this.r.tests.push(entry);
      }
      const res = parseOutput(text, shown, 'test_results');
      this.labelled(res.samples, place, null);
      this.record(shown, res);
      return;
    }
    const res = parseOutput(text, shown, base);
    this.labelled(res.samples, place, place.tcf !== null ? base : null);
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

  /** Walks a directory; `name` is its real name (an archive's name for the root of its contents). */
  async dir(abs: string, shown: string, name: string, place: Place): Promise<void> {
    const entries = await entriesOf(abs);
    let here = place;
    if (place.tcf === null && (isTcfDirName(name) || entries.some((e) => e.isFile() && e.name === 'test_results'))) {
      const kept = this.tcfSeen.get(name);
      if (kept !== undefined) {
        this.r.duplicates.push({ tcf: name, path: shown, kept });
        return;
      }
      this.tcfSeen.set(name, shown);
      here = { ...place, tcf: name };
    }
    const join = (n: string) => (shown === '' ? n : shown.endsWith('!') ? `${shown}${n}` : `${shown}/${n}`);
    for (const e of entries) {
      const child = path.join(abs, e.name);
      if (e.isDirectory()) await this.dir(child, join(e.name), e.name, here);
      else if (e.isFile()) await this.file(child, join(e.name), here);
      // symlinks and specials are never followed
    }
  }

  /** A /var/log/qaset tree: bookkeeping directories skipped, the rest (log/ tarballs) parsed. */
  async qasetTree(root: string, shown: string): Promise<void> {
    for (const e of await entriesOf(root)) {
      if (QASET_BOOKKEEPING_DIRS.has(e.name)) continue;
      const child = path.join(root, e.name);
      const childShown = shown === '' ? e.name : `${shown}/${e.name}`;
      if (e.isDirectory()) await this.dir(child, childShown, e.name, TOP);
      else if (e.isFile()) await this.file(child, childShown, TOP);
    }
  }

  /**
   * A /var/log/qa tree. QASET empties ctcs2/ after packing each case, so what is left unpacked in
   * ctcs2/ belongs to the case running when the logs were collected (`running`, when known).
   */
  async qaTree(root: string, shown: string, running: string | null): Promise<void> {
    for (const e of await entriesOf(root)) {
      const child = path.join(root, e.name);
      const childShown = shown === '' ? e.name : `${shown}/${e.name}`;
      const leftover = e.name === 'ctcs2' && running !== null;
      const place: Place = leftover ? { ...TOP, caseName: running, occurrence: (this.caseTarballs.get(running) ?? 0) + 1 } : TOP;
      if (e.isDirectory()) await this.dir(child, childShown, e.name, place);
      else if (e.isFile()) await this.file(child, childShown, place);
    }
  }

  problem(shown: string, reason: string): void {
    this.r.problems.push({ path: shown, reason });
  }

  listProblems(shown: string, problems: ListProblem[]): void {
    for (const p of problems) this.problem(`${shown}:${p.line}`, `${p.reason}: ${JSON.stringify(p.text)}`);
  }

  /** A small text file the host wrote; a file that cannot be read is a problem, an absent one null. */
  async hostText(file: string, shown: string): Promise<string | null> {
    try {
      return await readHostText(file);
    } catch (err) {
      this.problem(shown, (err as Error).message);
      return null;
    }
  }

  async listFailed(file: string, shown: string): Promise<void> {
    const text = await this.hostText(file, shown);
    if (text === null) return;
    const { failed, problems } = parseListFailed(text);
    this.r.failedCases = failed;
    this.listProblems(shown, problems);
  }

  async runListFile(file: string, shown: string): Promise<void> {
    const text = await this.hostText(file, shown);
    if (text === null) return;
    const parsed = parseRunList(text);
    if (parsed === null) {
      this.problem(shown, 'no SQ_TEST_RUN_LIST=( ... ) assignment');
      return;
    }
    this.r.runList = parsed.cases;
    this.listProblems(shown, parsed.problems);
  }

  /** Reads control/ of a /var/log/qaset tree; the case running is told once the run list is known. */
  async control(qasetRoot: string, shown: string): Promise<void> {
    const c = await readControl(qasetRoot);
    for (const p of c.problems) this.problem(shown === '' ? 'control' : `${shown}/control`, p);
    this.r.control = { ...c, current: null };
    this.r.done = c.done;
    this.r.nextRun = c.next;
    if (c.runId !== null) [this.r.runId, this.r.runIdSource] = [c.runId, 'control/RUN_ID'];
  }

  /** The case running, from control/ and the run list; evidence of a start is a screen log of the last case. */
  async tellCurrent(qasetRoot: string, shown: string): Promise<void> {
    const c = this.r.control;
    const list = this.r.runList;
    if (c === null || list === null || list.length === 0) return;
    const last = list[list.length - 1]!;
    const runs = await fsp.readdir(path.join(qasetRoot, 'runs')).catch(() => [] as string[]);
    const started = runs.some((n) => n.startsWith(`${last}-`) && n.endsWith('.screenlog'));
    const { current, problem } = currentCase(c, list, started);
    c.current = current;
    if (problem) this.problem(shown === '' ? 'control/NEXT_RUN' : `${shown}/control/NEXT_RUN`, problem);
  }

  finish(): QasetParseResult {
    if (this.r.runId === null && this.tarballRunId !== null) [this.r.runId, this.r.runIdSource] = [this.tarballRunId, 'tarball-name'];
    return this.r;
  }
}

type Layout = 'qaset-tree' | 'qa-tree' | 'collection' | 'directory';

async function layoutOf(dir: string): Promise<Layout> {
  const has = async (n: string) => isDir(path.join(dir, n));
  if ((await has('control')) || (await has('log'))) return 'qaset-tree';
  if ((await has('qaset')) || (await has('qa'))) return 'collection';
  if ((await has('ctcs2')) || (await has('oldlogs'))) return 'qa-tree';
  return 'directory';
}

/**
 * Parses a QASET tree, a /var/log/qa tree, a collection of both, a QASET log tarball or one raw
 * output file (see the header for what each is). Throws if the target is unreadable.
 */
export async function parseQasetPath(target: string, opts: WalkOptions = {}): Promise<QasetParseResult> {
  const st = await fsp.stat(target);
  const w = new Walk(opts);
  if (opts.runList) w.r.runList = [...opts.runList];
  try {
    if (opts.listFailed) await w.listFailed(opts.listFailed, opts.listFailed);
    if (!st.isDirectory()) {
      await fsp.access(target, fsp.constants.R_OK);
      await w.file(target, path.basename(target), TOP);
      return w.finish();
    }
    const layout = await layoutOf(target);
    if (layout === 'directory') {
      await w.dir(target, '', path.basename(target), TOP);
      return w.finish();
    }
    if (layout === 'qa-tree') {
      await w.qaTree(target, '', null);
      return w.finish();
    }
    const inCollection = layout === 'collection';
    const qasetRoot = inCollection ? path.join(target, 'qaset') : target;
    const qasetShown = inCollection ? 'qaset' : '';
    if (inCollection && !opts.listFailed) await w.listFailed(path.join(target, 'list.failed'), 'list.failed');
    if (w.r.runList === null && inCollection) await w.runListFile(path.join(target, 'list'), 'list');
    const hasQaset = !inCollection || (await isDir(qasetRoot));
    if (hasQaset) {
      await w.control(qasetRoot, qasetShown);
      await w.tellCurrent(qasetRoot, qasetShown);
      await w.qasetTree(qasetRoot, qasetShown);
    }
    const running = w.r.control?.current?.name ?? null;
    if (inCollection && (await isDir(path.join(target, 'qa')))) await w.qaTree(path.join(target, 'qa'), 'qa', running);
    if (opts.qaDir) await w.qaTree(opts.qaDir, 'qa', running);
    return w.finish();
  } finally {
    await w.cleanup();
  }
}
