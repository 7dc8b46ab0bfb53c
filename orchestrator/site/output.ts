// The output side: every page is a unit with an input fingerprint. A unit whose fingerprint
// matches the last build's (kept in <outDir>/.site-build.json) and whose files are all still
// there is skipped without rendering; a rendered file whose content did not change is not
// rewritten; a written file goes to a temp name beside it and is renamed into place.
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../results/atomic-write.js';
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
  async unit(id: string, fp: string, render: () => Promise<OutFile[]> | OutFile[]): Promise<boolean> {
    const before = this.previous[id];
    if (before && before.fp === fp) {
      // the unit's first file (its page) stands for the rest: one stat per unchanged page
      const first = Object.keys(before.files)[0];
      if (first === undefined || (await this.exists(first))) {
        this.current[id] = before;
        this.unitsUnchanged++;
        return false;
      }
    }
    const files = await render();
    const record: UnitRecord = { fp, files: {} };
    let wrote = false;
    for (const file of files) {
      const hash = sha(file.data, 24);
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
