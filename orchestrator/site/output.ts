// The output side: every page is a unit with an input fingerprint. A unit whose fingerprint
// matches the last build's (kept in <outDir>/.site-build.json) and whose files are all still
// there (each of them, not only its first: SiteWriter.unchanged) is skipped without rendering;
// a rendered file whose content did not change is not rewritten; a written file goes to a temp
// name beside it and is renamed into place.
import { statSync } from 'node:fs';
import { open, readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { commitStagedSync, discardStagedSync, stageFileSync, tempWriterPid, writeFileAtomically, type StagedFile } from '../results/atomic-write.js';
import { dirIdentity, readBuildState, statsIdentity, type KeptPages, type RecordedPageDirs } from './build-state.js';
import { sha } from './names.js';
import { probeProcess } from '../local-process.js';

/** The directories above a site-relative path, nearest first (`a/b/c.html` -> `a/b`, `a`). */
function* parentDirs(path: string): Generator<string> {
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) yield path.slice(0, slash);
}

export const BUILD_MANIFEST = '.site-build.json';
/**
 * 3: still one JSON object, its units a list with a line per unit (RecordedUnit), so that a unit
 * kept is carried over as the text it was read as, never parsed or serialised; 2: `units` an
 * object of flat arrays (StoredUnit), still read (the first build after an upgrade draws nothing
 * again for it).
 */
const MANIFEST_SCHEMA = 'orchestrate/site-build@3';
const MANIFEST_HEAD = `{"schema":${JSON.stringify(MANIFEST_SCHEMA)},"units":[\n`;
const MANIFEST_TAIL = '\n]}\n';
const MANIFEST_SCHEMA_2 = 'orchestrate/site-build@2';

export interface OutFile {
  /** Posix path relative to the site root. */
  path: string;
  data: string | Buffer;
}

/**
 * A unit as the manifest keeps it: [fingerprint, directory, name, hash, name, hash, ...], each
 * file's path being the directory (the files' longest common one, '' or ending in '/') followed
 * by its name, in the unit's order (its first file stands for it). At 15,000 units this reads in
 * about a third of the time of an object per unit with a path -> hash map (12.6 MB), and a unit
 * kept from the last build is carried over as it was read.
 */
type StoredUnit = string[];

/** The manifest of version 2: one JSON object. */
interface BuildManifest2 {
  schema: typeof MANIFEST_SCHEMA_2;
  units: Record<string, StoredUnit>;
}

/**
 * A unit as the manifest (version 3) keeps it: a line `["<id>","<fingerprint>","<first file>",<the
 * StoredUnit>]`, the lines joined by commas (the file stays one JSON document). The three texts
 * are read by where their quotes are, so they are written only when JSON needs no escape in them
 * (a unit with a quote, a backslash or a control character there is not recorded: it is drawn
 * again next time). What a kept unit needs (its fingerprint, and its first file to check that it
 * is there) is at hand; the rest is parsed when the unit is asked for (to check that its other
 * files are there too) or no longer made (`body`: the JSON text until then).
 */
interface RecordedUnit {
  fp: string;
  /** Its first file ('' for a unit without files). */
  first: string;
  /** The StoredUnit, or its JSON text as read (not yet parsed), or null once found damaged. */
  body: StoredUnit | string | null;
  /** Its whole line as read: what a kept unit is written back as. */
  line?: string;
  /** The directories of its files (bodyDirs), once a kept unit was looked at by them. */
  dirs?: string[];
}

function recorded(fp: string, unit: StoredUnit): RecordedUnit {
  return { fp, first: unit.length > 2 ? unit[1]! + unit[2]! : '', body: unit };
}

/**
 * A recorded unit's StoredUnit, parsed from its line the first time it is asked for; undefined
 * when the line is damaged (not a StoredUnit, or not the fingerprint and first file before it):
 * its files are then unknown (a renderer writes them all; none is removed as stale).
 * `markDamaged`: a damaged line found is marked (body null: not written back); without it (the
 * look at a kept unit's files), a kept unit's line stays as read and is carried over as it was.
 */
function storedUnitOf(unit: RecordedUnit, markDamaged = true): StoredUnit | undefined {
  if (typeof unit.body === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(unit.body);
    } catch {
      parsed = undefined;
    }
    if (isStoredUnit(parsed) && recorded(unit.fp, parsed).first === unit.first && parsed[0] === unit.fp) unit.body = parsed;
    else if (markDamaged) unit.body = null;
    else return undefined;
  }
  return unit.body ?? undefined;
}

/** A text JSON writes as it is, between quotes (no quote, backslash, control character or surrogate). */
const PLAIN_TEXT = /^[^"\\\u0000-\u001f\u2028\u2029\ud800-\udfff]*$/;

/** A unit's line in the manifest, or undefined when one of its texts cannot be written as it is. */
function unitLine(id: string, unit: RecordedUnit): string | undefined {
  if (unit.body === null) return undefined;
  if (unit.line !== undefined) return unit.line;
  if (id === '' || !PLAIN_TEXT.test(id) || !PLAIN_TEXT.test(unit.fp) || !PLAIN_TEXT.test(unit.first)) return undefined;
  return `["${id}","${unit.fp}","${unit.first}",${typeof unit.body === 'string' ? unit.body : JSON.stringify(unit.body)}]`;
}

/** The units of a version 3 manifest's text (between its head and tail); a line that is not a unit's is left out (that unit is drawn again). */
function parseUnitLines(text: string): Map<string, RecordedUnit> {
  const units = new Map<string, RecordedUnit>();
  const stop = text.length - MANIFEST_TAIL.length;
  for (let start = MANIFEST_HEAD.length; start < stop; ) {
    let end = text.indexOf('\n', start);
    if (end < 0 || end > stop) end = stop;
    const close = text[end - 1] === ',' ? end - 1 : end;
    // ["id","fp","first",[...]]: the texts hold no quote (unitLine), so their ends are where the quotes are
    const a = text.indexOf('","', start + 2);
    const b = a < 0 ? -1 : text.indexOf('","', a + 3);
    const c = b < 0 ? -1 : text.indexOf('",[', b + 2);
    if (text.startsWith('["', start) && a > start + 2 && b > a + 3 && c >= b + 2 && c < close && text.startsWith(']]', close - 2)) {
      const unit = { fp: text.slice(a + 3, b), first: c === b + 2 ? '' : text.slice(b + 3, c), body: text.slice(c + 2, close - 1), line: text.slice(start, close) };
      units.set(text.slice(start + 2, a), unit);
    }
    start = end + 1;
  }
  return units;
}

function storedUnit(fp: string, files: Readonly<Record<string, string>>): StoredUnit {
  const paths = Object.keys(files);
  let dir = paths[0] === undefined ? '' : paths[0].slice(0, paths[0].lastIndexOf('/') + 1);
  for (const path of paths) while (!path.startsWith(dir)) dir = dir.slice(0, dir.lastIndexOf('/', dir.length - 2) + 1);
  const unit = [fp, dir];
  for (const path of paths) unit.push(path.slice(dir.length), files[path]!);
  return unit;
}

/** path -> hash of a stored unit's files, in its order. */
function storedFiles(unit: StoredUnit): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 2; i + 1 < unit.length; i += 2) files[unit[1] + unit[i]!] = unit[i + 1]!;
  return files;
}

function storedPaths(unit: StoredUnit): string[] {
  const paths: string[] = [];
  for (let i = 2; i + 1 < unit.length; i += 2) paths.push(unit[1] + unit[i]!);
  return paths;
}

/** The directory of a stored unit's i-th name ('' for the site's root), as SiteWriter looks at it. */
function storedDir(unit: StoredUnit, i: number): string {
  const name = unit[i]!;
  const slash = name.lastIndexOf('/');
  return slash < 0 ? unit[1]!.slice(0, -1) : unit[1]! + name.slice(0, slash);
}

/**
 * The directories of a recorded unit's files, once each ('' for the site's root), read from the
 * text of its StoredUnit as the manifest holds it (JSON.stringify's: `["fp","dir","name","hash",
 * ...]`) without parsing it: a kept unit is looked at by directory, and its parsed lists (at
 * 15,000 units, ~20 MiB of strings, and the parse) are not needed. Undefined when the text has an
 * escape, is not of that shape or not of the unit's fingerprint (it is parsed instead).
 */
function bodyDirs(unit: RecordedUnit): string[] | undefined {
  const body = unit.body;
  if (typeof body !== 'string' || !body.startsWith('["') || !body.endsWith('"]') || body.includes('\\')) return undefined;
  const fpEnd = 2 + unit.fp.length;
  if (!body.startsWith(unit.fp, 2) || !body.startsWith('","', fpEnd)) return undefined;
  const commonEnd = body.indexOf('"', fpEnd + 3);
  if (commonEnd < 0) return undefined;
  const common = body.slice(fpEnd + 3, commonEnd);
  const commonDir = common.slice(0, -1);
  const dirs: string[] = [];
  // at: the closing quote of the string before the next name
  for (let at = commonEnd; at < body.length - 2; ) {
    if (!body.startsWith('","', at)) return undefined;
    const nameEnd = body.indexOf('"', at + 3);
    const hashEnd = nameEnd < 0 || !body.startsWith('","', nameEnd) ? -1 : body.indexOf('"', nameEnd + 3);
    if (hashEnd < 0) return undefined;
    const slash = body.lastIndexOf('/', nameEnd);
    const dir = slash < at + 3 ? commonDir : common + body.slice(at + 3, slash);
    if (!dirs.includes(dir)) dirs.push(dir);
    at = hashEnd;
  }
  return dirs;
}

function isStoredUnit(value: unknown): value is StoredUnit {
  return Array.isArray(value) && value.length >= 2 && value.length % 2 === 0 && value.every((v) => typeof v === 'string');
}

/**
 * The units the manifest in `outDir` records; none for a first build or a manifest of another
 * version, a damaged unit left out (it is drawn again). With the identity (statsIdentity) of the
 * file they were read from, '-' when there was none.
 */
async function readStoredUnits(outDir: string): Promise<{ units: Map<string, RecordedUnit>; identity: string }> {
  const units = new Map<string, RecordedUnit>();
  let identity = '-';
  try {
    const file = await open(join(outDir, BUILD_MANIFEST), 'r');
    let text: string;
    try {
      identity = statsIdentity(await file.stat());
      text = await file.readFile('utf8');
    } finally {
      await file.close();
    }
    if (text.startsWith(MANIFEST_HEAD) && text.endsWith(MANIFEST_TAIL)) return { units: parseUnitLines(text), identity };
    const parsed = JSON.parse(text) as Partial<BuildManifest2> | null;
    if (parsed?.schema !== MANIFEST_SCHEMA_2 || typeof parsed.units !== 'object' || parsed.units === null) return { units, identity };
    for (const [id, unit] of Object.entries(parsed.units)) if (isStoredUnit(unit)) units.set(id, recorded(unit[0]!, unit));
  } catch {
    // first build, or a damaged manifest: everything is rendered
  }
  return { units, identity };
}

/** The units of a site's last build (id -> fingerprint and path -> hash), for tests and tools; {} when there is no readable manifest. */
export async function readBuildManifest(outDir: string): Promise<Record<string, { fp: string; files: Record<string, string> }>> {
  const manifest: Record<string, { fp: string; files: Record<string, string> }> = {};
  for (const [id, unit] of (await readStoredUnits(outDir)).units) {
    const stored = storedUnitOf(unit);
    if (stored !== undefined) manifest[id] = { fp: unit.fp, files: storedFiles(stored) };
  }
  return manifest;
}

export type WriteFileFn = (path: string, data: string | Buffer) => Promise<void>;

/** A unit's file as its writer (a render worker) wrote it: what the manifest keeps, without the bytes. */
export interface WrittenFile {
  path: string;
  hash: string;
  bytes: number;
  /** False when the file on disk already had this content (and was left alone). */
  written: boolean;
}

/** A unit whose files were written where it was rendered (writeUnitFiles). */
export interface WrittenUnit {
  files: WrittenFile[];
}

/** What a unit's render gives the SiteWriter: its files to write, or the files it has written itself. */
export type UnitOutput = OutFile[] | WrittenUnit;

/** The content hash a manifest keeps for a file. */
export function fileHash(data: string | Buffer): string {
  return sha(data, 24);
}

/**
 * Writes a unit's files under `outDir`, as SiteWriter.unit would, where they were rendered (a
 * render worker): a file whose hash matches `before` (the last build's record of the unit) and
 * that is still there is left alone; the rest are all written to temp files first and only then
 * renamed into place, in the unit's order (the page after its assets), so a unit that fails while
 * writing changes no file of its page set. Synchronous: a worker has nothing else to do meanwhile.
 */
export function writeUnitFiles(outDir: string, files: readonly OutFile[], before: Readonly<Record<string, string>> | undefined): WrittenUnit {
  const out: WrittenFile[] = [];
  const staged: StagedFile[] = [];
  try {
    for (const file of files) {
      // text encoded once, for its hash, its size and the write alike
      const data = typeof file.data === 'string' ? Buffer.from(file.data) : file.data;
      const hash = fileHash(data);
      const target = join(outDir, file.path);
      const unchanged = before?.[file.path] === hash && statSync(target, { throwIfNoEntry: false }) !== undefined;
      if (!unchanged) staged.push(stageFileSync(target, data));
      out.push({ path: file.path, hash, bytes: data.length, written: !unchanged });
    }
  } catch (error) {
    discardStagedSync(staged);
    throw error;
  }
  commitStagedSync(staged);
  return { files: out };
}

/**
 * The store's atomic write without fsync: a reader never sees half a page, and a page lost to a
 * crash is rewritten by the next build (the store, not the site, is the record).
 */
export function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  return writeFileAtomically(path, data, { durable: false });
}

export class SiteWriter {
  private previous = new Map<string, RecordedUnit>();
  private readonly current = new Map<string, RecordedUnit>();
  /** The page directories' identities the last build recorded (.site-state.json), when its record goes with the manifest read. */
  private pageDirs: RecordedPageDirs | undefined;
  /** Page directories looked at: whether each had the identity the last build recorded, when first looked at. */
  private readonly dirsSeen = new Map<string, boolean>();
  /** Directories this build wrote or removed a file in (every directory above such a file). */
  private readonly touched = new Set<string>();
  /** Identity of the manifest finish() wrote. */
  private manifestIdentity = '-';
  readonly written = new Set<string>();
  /** The directories of the files of every page drawn, when finish() is to look there for a killed build's temp files. */
  private readonly drawnDirs = new Set<string>(['.']);
  /** Temp files a killed build had left, removed by finish(). */
  deadTempsRemoved = 0;
  readonly writtenFiles: string[] = [];
  unitsWritten = 0;
  unitsUnchanged = 0;
  bytes = 0;

  /**
   * `removeDeadTemps`: finish() removes the temp files a killed build left in the root and the
   * drawn pages' directories (build-marker.ts: only after a build was killed).
   */
  constructor(
    readonly outDir: string,
    private readonly writeFile: WriteFileFn = writeFileAtomic,
    private readonly options: { removeDeadTemps?: boolean } = {},
  ) {}

  /**
   * Reads the last build's manifest. `last`: the last build's state when the caller has read it
   * already (`recorded` undefined: there is none); without it, it is read here.
   */
  async open(last?: { recorded: RecordedPageDirs | undefined }): Promise<void> {
    const [stored, pageDirs] = await Promise.all([readStoredUnits(this.outDir), last ? last.recorded : readBuildState(this.outDir)]);
    this.previous = stored.units;
    // a state written after another manifest than this one may not describe its pages: checked one by one
    this.pageDirs = pageDirs !== undefined && stored.identity !== '-' && pageDirs.manifest === stored.identity ? pageDirs : undefined;
  }

  /**
   * Synchronous: at 15,000 unchanged units, a promise per stat cost the build's thread 7 times the
   * stat itself (550 against 70 ms), and nothing waits on this thread while it looks.
   */
  private exists(path: string): boolean {
    return statSync(join(this.outDir, path), { throwIfNoEntry: false }) !== undefined;
  }

  /**
   * Does a directory have the identity the last build recorded after its last write there
   * (site/build-state.ts: a file added, removed or renamed in a directory changes it)? Taken once
   * per directory: files are only removed at the end of a build (finish), so a file there when
   * its directory was looked at is there until then. Never for the site's root ('').
   */
  private dirAsRecorded(dir: string): boolean {
    if (this.pageDirs === undefined || dir === '') return false;
    let same = this.dirsSeen.get(dir);
    if (same === undefined) {
      const recorded = Object.hasOwn(this.pageDirs.dirs, dir) ? this.pageDirs.dirs[dir] : undefined;
      same = recorded !== undefined && recorded !== '-' && dirIdentity(`${this.outDir}/${dir}`) === recorded;
      this.dirsSeen.set(dir, same);
    }
    return same;
  }

  /**
   * Are the files of a unit of the last build all still there? Each without a stat of its own
   * when its directory is as recorded (dirAsRecorded); the files of the site's root, or of a
   * directory that changed, are looked at. A unit whose record is damaged (its files unknown) is
   * there when its first file is.
   */
  private keptFilesThere(unit: RecordedUnit): boolean {
    // read as its directories first: each as recorded (the root never is), no file needs a look
    const dirs = bodyDirs(unit);
    if (dirs !== undefined && dirs.every((dir) => this.dirAsRecorded(dir))) {
      unit.dirs = dirs;
      return true;
    }
    const stored = storedUnitOf(unit, false);
    if (stored === undefined) {
      const slash = unit.first.lastIndexOf('/');
      return (slash > 0 && this.dirAsRecorded(unit.first.slice(0, slash))) || this.exists(unit.first);
    }
    let dir: string | undefined;
    let same = false;
    for (let i = 2; i + 1 < stored.length; i += 2) {
      const at = storedDir(stored, i);
      if (at !== dir) {
        dir = at;
        same = this.dirAsRecorded(dir);
      }
      if (!same && !this.exists(stored[1]! + stored[i]!)) return false;
    }
    return true;
  }

  /** Marks every directory above a file this build wrote or removed as changed. */
  private touch(path: string): void {
    for (const dir of parentDirs(path)) {
      if (this.touched.has(dir)) return;
      this.touched.add(dir);
    }
  }

  /** The last build's record of a unit's files (path -> hash), for a renderer that writes them itself. */
  before(id: string): Record<string, string> | undefined {
    const unit = this.previous.get(id);
    const stored = unit && storedUnitOf(unit);
    return stored && storedFiles(stored);
  }


  /**
   * Whether a unit can be skipped: its fingerprint is the last build's and every file of it is
   * still there (keptFilesThere: a stat per directory of pages, or per file where the directory
   * changed). A unit with a file missing is drawn again, which writes that file. A skipped unit
   * is recorded as kept.
   */
  unchanged(id: string, fp: string): boolean {
    const before = this.previous.get(id);
    if (!before || before.fp !== fp) return false;
    if (before.first !== '' && !this.keptFilesThere(before)) return false;
    this.current.set(id, before);
    this.unitsUnchanged++;
    return true;
  }

  /** Renders and writes a unit unless its fingerprint is unchanged. Returns whether anything was written. */
  async unit(id: string, fp: string, render: () => Promise<UnitOutput> | UnitOutput): Promise<boolean> {
    if (this.unchanged(id, fp)) return false;
    return this.record(id, fp, await render());
  }

  /** Records a rendered unit: writes its files (those that changed), or takes the record of the files its renderer wrote. */
  async record(id: string, fp: string, output: UnitOutput): Promise<boolean> {
    const files: Record<string, string> = {};
    let wrote = false;
    if (this.options.removeDeadTemps) for (const file of Array.isArray(output) ? output : output.files) this.drawnDirs.add(dirname(file.path));
    if (!Array.isArray(output)) {
      for (const file of output.files) {
        files[file.path] = file.hash;
        if (!file.written) continue;
        this.bytes += file.bytes;
        this.writtenFiles.push(file.path);
        this.touch(file.path);
        wrote = true;
      }
    }
    // files this thread writes: each compared with the last build's record of the unit
    const beforeFiles = Array.isArray(output) ? this.before(id) : undefined;
    for (const file of Array.isArray(output) ? output : []) {
      const hash = fileHash(file.data);
      files[file.path] = hash;
      if (beforeFiles?.[file.path] === hash && this.exists(file.path)) continue;
      this.touch(file.path);
      await this.writeFile(join(this.outDir, file.path), file.data);
      this.bytes += typeof file.data === 'string' ? Buffer.byteLength(file.data) : file.data.length;
      this.writtenFiles.push(file.path);
      wrote = true;
    }
    this.current.set(id, recorded(fp, storedUnit(fp, files)));
    if (wrote) {
      this.written.add(id);
      this.unitsWritten++;
    } else {
      this.unitsUnchanged++;
    }
    return wrote;
  }

  /**
   * Where the files of this build's units (its pages) are: what a build with nothing new checks
   * is still there (every directory holding one, and the files of the root); with the
   * directories seen unchanged and not written in since (their identity is known without another
   * stat), and the manifest's identity. After finish().
   */
  pages(): KeptPages {
    let pageCount = 0;
    const dirs = new Set<string>();
    const rootFiles: string[] = [];
    for (const unit of this.current.values()) {
      if (unit.first === '') continue;
      pageCount++;
      const inText = unit.dirs ?? bodyDirs(unit);
      if (inText !== undefined && !inText.includes('')) {
        for (const dir of inText) dirs.add(dir);
        continue;
      }
      const stored = storedUnitOf(unit, false);
      if (stored === undefined) {
        // a kept unit whose record is damaged: only its first file is known
        const slash = unit.first.lastIndexOf('/');
        if (slash < 0) rootFiles.push(unit.first);
        else dirs.add(unit.first.slice(0, slash));
        continue;
      }
      let last: string | undefined;
      for (let i = 2; i + 1 < stored.length; i += 2) {
        const dir = storedDir(stored, i);
        if (dir === '') rootFiles.push(stored[i]!);
        else if (dir !== last) dirs.add(dir);
        last = dir;
      }
    }
    const unchangedDirs = new Map<string, string>();
    for (const [dir, same] of this.dirsSeen) if (same && !this.touched.has(dir)) unchangedDirs.set(dir, this.pageDirs!.dirs[dir]!);
    return { pageCount, dirs, rootFiles, unchangedDirs, manifest: this.manifestIdentity };
  }

  /** Every file of this build's units; undefined when a unit's record is damaged (its files are unknown). */
  private allPaths(): Set<string> | undefined {
    const paths = new Set<string>();
    for (const unit of this.current.values()) {
      const stored = storedUnitOf(unit);
      if (stored === undefined) return undefined;
      for (const path of storedPaths(stored)) paths.add(path);
    }
    return paths;
  }

  /**
   * The directories the removed files leave empty go too, deepest first and up to the site's root
   * (a pruned job's page directory, or one a layout no longer uses): rmdir removes a directory
   * only while it is empty, so one holding anything else, a file put there by hand included, stays.
   */
  private async removeEmptiedDirs(removed: readonly string[]): Promise<void> {
    const dirs = new Set(removed.flatMap((path) => [...parentDirs(path)]));
    // a directory's path is longer than its parent's: longest first empties children before parents
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
      try {
        await rmdir(join(this.outDir, dir));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      }
    }
  }

  /**
   * Temp files of writes that a killed build left behind (their writer's pid runs no more), in the
   * site's root and the directories of the pages this build drew: the build after a killed one
   * draws again the pages that one was writing (it never recorded them), into the same
   * directories, so its leftovers are met there. A temp of this process or of another live one is
   * left alone.
   */
  private async removeDeadTemps(): Promise<number> {
    let removed = 0;
    for (const dir of this.drawnDirs) {
      let names: string[];
      try {
        names = await readdir(join(this.outDir, dir));
      } catch {
        continue; // removed since (an emptied directory), or not a directory any more
      }
      for (const name of names) {
        const pid = tempWriterPid(name);
        if (pid === undefined || pid === process.pid || probeProcess(pid).alive) continue;
        await rm(join(this.outDir, dir, name), { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Removes the files of units (or unit files) the build no longer produces, then saves the manifest. */
  async finish(): Promise<string[]> {
    // Only a unit this build drew again, or no longer makes, can leave a file behind (a unit kept
    // is the very record read); such a file is stale unless another unit of this build has it.
    // A unit whose record is damaged names no candidate (its files are unknown).
    const candidates: string[] = [];
    for (const [id, unit] of this.previous) {
      const now = this.current.get(id);
      if (now === unit) continue;
      const was = storedUnitOf(unit);
      if (was === undefined) continue;
      const nowStored = now && storedUnitOf(now);
      const still = nowStored === undefined ? undefined : new Set(storedPaths(nowStored));
      for (const path of storedPaths(was)) if (!still?.has(path)) candidates.push(path);
    }
    const removed: string[] = [];
    // files no unit makes any more, unless a kept unit's record is damaged (it might be one of its files)
    const keep = candidates.length > 0 ? this.allPaths() : undefined;
    if (keep !== undefined) for (const path of candidates) {
      if (keep.has(path)) continue;
      this.touch(path);
      await rm(join(this.outDir, path), { force: true });
      removed.push(path);
    }
    await this.removeEmptiedDirs(removed);
    if (this.options.removeDeadTemps) this.deadTempsRemoved = await this.removeDeadTemps();
    const lines: string[] = [];
    for (const [id, unit] of this.current) {
      const line = unitLine(id, unit);
      if (line !== undefined) lines.push(line);
    }
    await this.writeFile(join(this.outDir, BUILD_MANIFEST), `${MANIFEST_HEAD}${lines.join(',\n')}${MANIFEST_TAIL}`);
    const written = statSync(join(this.outDir, BUILD_MANIFEST), { throwIfNoEntry: false });
    this.manifestIdentity = written ? statsIdentity(written) : '-';
    return removed;
  }
}
