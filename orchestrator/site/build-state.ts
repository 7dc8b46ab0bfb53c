// What the last build of a site saw (<outDir>/.site-state.json, small, beside the build manifest
// .site-build.json): the fingerprint of its inputs, the keys whose thresholds it used, how many
// pages it made, what it reported, and the identity of each directory holding a file of its pages.
// A build whose inputs have the same fingerprint, with every file of its pages still there, has
// nothing to do. Missing, damaged or of another version, it is as if there were none.
//
// "Every file still there" without a stat per file: a file added, removed or renamed in a
// directory changes that directory's mtime (and a directory replaced, its inode), so the state
// keeps the identity (inode, mtime) of every directory holding a file of a page (of every file,
// not only a page's first one: a job's page has files in its own directory, its logs directory,
// its sweep's directory and data/jobs/<sweep>/), taken after the build's last write there, and
// the files directly in the site's root (a handful, beside this file whose own writes change the
// root) are looked at one by one. What this does not see: a file's content edited or truncated in
// place (its directory does not change; nor did a stat per file see that), and a file removed
// within the filesystem's timestamp tick after the build recorded its directory (Linux stamps
// directories with a coarse clock, a few ms).
//
// The next build with something to draw uses the same evidence for its kept pages (SiteWriter,
// site/output.ts): a file of a page kept from the last build, in a directory whose identity is the
// one recorded here, is there without a stat of its own. Only when this record is the one written
// after the manifest it is read with (the state keeps the manifest's identity): a manifest and a
// state of different builds are checked file by file. And a directory that build saw unchanged
// and did not write or remove anything in keeps the identity it was seen with (KeptPages):
// recorded from an earlier look, an identity can only be older than the directory, which a later
// build sees as changed and checks file by file (never as a file there that is not).
import { readFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { SeriesKey } from '../analysis/history.js';
import { isPathProblem, isRecord, isStrings, isTextRecord } from '../results/json-shape.js';
import type { WriteFileFn } from './output.js';

export const BUILD_STATE = '.site-state.json';
// 4: the directories of every file of every page, and every file of the root (3 had those of each page's first file only: read
// as 4, a page file removed from another directory would be "nothing new"); 3: the manifest's identity; 2: directory identities of the pages
const BUILD_STATE_SCHEMA = 'orchestrate/site-state@4' as const;

export interface RecordedBuildState {
  inputs: string;
  probes: SeriesKey[];
  /** How many pages the build made. */
  pageCount: number;
  /** The files of pages directly in the site's root. */
  rootFiles: string[];
  regressions: number;
  problems: { path: string; message: string }[];
  /** Site-relative directory -> identity (inode:mtime) of each directory holding a file of a page, the root excepted ('-': none). */
  dirs: Record<string, string>;
  /** Identity (inode:size:mtime) of the build manifest (.site-build.json) the build wrote just before ('-': none). */
  manifest: string;
}

// Checked by hand, not with a schema library: read before every build, "nothing new" included,
// with a field per directory of pages (thousands), where a zod parse cost more than JSON.parse.

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;

function isProbe(value: unknown): value is SeriesKey {
  return isRecord(value) && typeof value['host'] === 'string' && typeof value['scenario'] === 'string' && typeof value['metric'] === 'string' && isTextRecord(value['labels']);
}

/** The state as written, or undefined when it is not of its version's shape. */
function checkedState(value: unknown): RecordedBuildState | undefined {
  if (!isRecord(value) || value['schema'] !== BUILD_STATE_SCHEMA) return undefined;
  const { inputs, probes, pageCount, rootFiles, regressions, problems, dirs, manifest } = value;
  if (typeof inputs !== 'string' || !Array.isArray(probes) || !probes.every(isProbe) || !isCount(pageCount) || !isStrings(rootFiles)) return undefined;
  if (!isCount(regressions) || !Array.isArray(problems) || !problems.every(isPathProblem) || !isTextRecord(dirs) || typeof manifest !== 'string') return undefined;
  return { inputs, probes, pageCount, rootFiles, regressions, problems, dirs, manifest };
}

/** The pages of a build (SiteWriter.pages), as the state records them. */
export interface KeptPages {
  /** How many pages (units with files) the build made. */
  pageCount: number;
  /** Every directory holding a file of a page, once each, the root excepted. */
  dirs: Iterable<string>;
  /** Every file of a page directly in the site's root. */
  rootFiles: string[];
  /** Directories the build saw with their recorded identity and then wrote and removed nothing in: dir -> that identity. */
  unchangedDirs: ReadonlyMap<string, string>;
  /** The identity of the manifest the build wrote (fileIdentity), '-' when unknown. */
  manifest: string;
}

/** What a build records: its pages (the directories' identities not known from KeptPages are taken when it is written). */
export type BuildState = Omit<RecordedBuildState, 'pageCount' | 'rootFiles' | 'dirs' | 'manifest'> & { pages: KeptPages };

export async function readBuildState(outDir: string): Promise<RecordedBuildState | undefined> {
  try {
    return checkedState(JSON.parse(await readFile(join(outDir, BUILD_STATE), 'utf8')));
  } catch {
    return undefined;
  }
}

/** inode:mtime of a directory, '-' when there is none. */
export function dirIdentity(path: string): string {
  const s = statSync(path, { throwIfNoEntry: false });
  return s?.isDirectory() ? `${s.ino}:${s.mtimeMs}` : '-';
}

/** inode:size:mtime of a file's stats. */
export function statsIdentity(s: { ino: number; size: number; mtimeMs: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

/** What the SiteWriter takes from the last state: the page directories' identities, and the manifest they go with. */
export interface RecordedPageDirs {
  manifest: string;
  dirs: Readonly<Record<string, string>>;
}

/** Written after the build's last page write and removal: the directories are as the build left them. */
export async function writeBuildState(outDir: string, state: BuildState, writeFile: WriteFileFn): Promise<void> {
  const { pages, ...rest } = state;
  const dirs: Record<string, string> = {};
  for (const dir of pages.dirs) dirs[dir] ??= pages.unchangedDirs.get(dir) ?? dirIdentity(join(outDir, dir));
  const record: RecordedBuildState & { schema: string } = { schema: BUILD_STATE_SCHEMA, ...rest, pageCount: pages.pageCount, rootFiles: pages.rootFiles, dirs, manifest: pages.manifest };
  await writeFile(join(outDir, BUILD_STATE), JSON.stringify(record));
}

/**
 * Are the files of the last build's pages all still there? Each directory holding one unchanged
 * since the build (see the header for what that does not see), and each file of the root there.
 */
export function pagesPresent(outDir: string, state: RecordedBuildState): boolean {
  for (const dir in state.dirs) {
    const recorded = state.dirs[dir]!;
    if (recorded === '-' || dirIdentity(`${outDir}/${dir}`) !== recorded) return false;
  }
  return state.rootFiles.every((file) => statSync(join(outDir, file), { throwIfNoEntry: false }) !== undefined);
}
