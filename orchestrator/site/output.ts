// The output side: every page is a unit with an input fingerprint. A unit whose fingerprint
// matches the last build's (kept in <outDir>/.site-build.json) and whose files are all still
// there is skipped without rendering; a rendered file whose content did not change is not
// rewritten; a written file goes to a temp name beside it and is renamed into place.
import { statSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { commitStagedSync, discardStagedSync, stageFileSync, writeFileAtomically, type StagedFile } from '../results/atomic-write.js';
import { sha } from './names.js';

export const BUILD_MANIFEST = '.site-build.json';
const MANIFEST_SCHEMA = 'orchestrate/site-build@1';

export interface OutFile {
  /** Posix path relative to the site root. */
  path: string;
  data: string | Buffer;
}

interface UnitRecord {
  fp: string;
  files: Record<string, string>;
}

interface BuildManifest {
  schema: typeof MANIFEST_SCHEMA;
  units: Record<string, UnitRecord>;
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
  private previous: Record<string, UnitRecord> = {};
  private readonly current: Record<string, UnitRecord> = {};
  readonly written = new Set<string>();
  readonly writtenFiles: string[] = [];
  unitsWritten = 0;
  unitsUnchanged = 0;
  bytes = 0;

  constructor(readonly outDir: string, private readonly writeFile: WriteFileFn = writeFileAtomic) {}

  async open(): Promise<void> {
    try {
      const parsed = JSON.parse(await readFile(join(this.outDir, BUILD_MANIFEST), 'utf8')) as BuildManifest;
      if (parsed.schema === MANIFEST_SCHEMA && parsed.units) this.previous = parsed.units;
    } catch {
      // first build, or a damaged manifest: everything is rendered
    }
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await stat(join(this.outDir, path));
      return true;
    } catch {
      return false;
    }
  }

  /** Renders and writes a unit unless its fingerprint is unchanged. Returns whether anything was written. */
  /** The last build's record of a unit's files (path -> hash), for a renderer that writes them itself. */
  before(id: string): Record<string, string> | undefined {
    return this.previous[id]?.files;
  }

  /**
   * Whether a unit can be skipped: its fingerprint is the last build's and its first file (its
   * page, standing for the rest: one stat per unchanged page) is still there. A skipped unit is
   * recorded as kept.
   */
  async unchanged(id: string, fp: string): Promise<boolean> {
    const before = this.previous[id];
    if (!before || before.fp !== fp) return false;
    const first = Object.keys(before.files)[0];
    if (first !== undefined && !(await this.exists(first))) return false;
    this.current[id] = before;
    this.unitsUnchanged++;
    return true;
  }

  /** Renders and writes a unit unless its fingerprint is unchanged. Returns whether anything was written. */
  async unit(id: string, fp: string, render: () => Promise<UnitOutput> | UnitOutput): Promise<boolean> {
    if (await this.unchanged(id, fp)) return false;
    return this.record(id, fp, await render());
  }

  /** Records a rendered unit: writes its files (those that changed), or takes the record of the files its renderer wrote. */
  async record(id: string, fp: string, output: UnitOutput): Promise<boolean> {
    const before = this.previous[id];
    const record: UnitRecord = { fp, files: {} };
    let wrote = false;
    if (!Array.isArray(output)) {
      for (const file of output.files) {
        record.files[file.path] = file.hash;
        if (!file.written) continue;
        this.bytes += file.bytes;
        this.writtenFiles.push(file.path);
        wrote = true;
      }
    }
    const files = Array.isArray(output) ? output : [];
    for (const file of files) {
      const hash = fileHash(file.data);
      record.files[file.path] = hash;
      if (before?.files[file.path] === hash && (await this.exists(file.path))) continue;
      await this.writeFile(join(this.outDir, file.path), file.data);
      this.bytes += typeof file.data === 'string' ? Buffer.byteLength(file.data) : file.data.length;
      this.writtenFiles.push(file.path);
      wrote = true;
    }
    this.current[id] = record;
    if (wrote) {
      this.written.add(id);
      this.unitsWritten++;
    } else {
      this.unitsUnchanged++;
    }
    return wrote;
  }

  /** The first file of every unit of this build (its page): what a build with nothing new checks is still there. */
  pages(): string[] {
    return Object.values(this.current).flatMap((u) => Object.keys(u.files).slice(0, 1));
  }

  /** Removes the files of units (or unit files) the build no longer produces, then saves the manifest. */
  async finish(): Promise<string[]> {
    const keep = new Set(Object.values(this.current).flatMap((u) => Object.keys(u.files)));
    const removed: string[] = [];
    for (const unit of Object.values(this.previous)) {
      for (const path of Object.keys(unit.files)) {
        if (!keep.has(path)) {
          await rm(join(this.outDir, path), { force: true });
          removed.push(path);
        }
      }
    }
    const manifest: BuildManifest = { schema: MANIFEST_SCHEMA, units: this.current };
    await this.writeFile(join(this.outDir, BUILD_MANIFEST), JSON.stringify(manifest));
    return removed;
  }
}
