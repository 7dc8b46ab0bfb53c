// What the last build of a site saw (<outDir>/.site-state.json, small, beside the build manifest
// .site-build.json): the fingerprint of its inputs, the keys whose thresholds it used, the first
// file of each page, what it reported, and the identity of each directory holding pages. A build
// whose inputs have the same fingerprint, with every page still there, has nothing to do.
// Missing, damaged or of another version, it is as if there were none.
//
// "Every page still there" without a stat per page: a page added, removed or renamed in a
// directory changes that directory's mtime (and a directory replaced, its inode), so the state
// keeps the identity (inode, mtime) of every directory holding pages, taken after the build's
// last write there, and the pages directly in the site's root (a handful, beside this file whose
// own writes change the root) are looked at one by one. What this does not see: a page's content
// edited or truncated in place (its directory does not change; nor did a stat per page see
// that), and a page removed within the filesystem's timestamp tick after the build recorded its
// directory (Linux stamps directories with a coarse clock, a few ms).
import { readFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { WriteFileFn } from './output.js';

export const BUILD_STATE = '.site-state.json';
const BUILD_STATE_SCHEMA = 'orchestrate/site-state@2' as const; // 2: directory identities of the pages

const BuildStateSchema = z.object({
  schema: z.literal(BUILD_STATE_SCHEMA),
  inputs: z.string(),
  probes: z.array(z.object({ host: z.string(), scenario: z.string(), metric: z.string(), labels: z.record(z.string(), z.string()) })),
  /** How many pages the build made. */
  pageCount: z.number().int().nonnegative(),
  /** The pages directly in the site's root. */
  rootPages: z.array(z.string()),
  regressions: z.number().int().nonnegative(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })),
  /** Site-relative directory -> identity (inode:mtime) of each directory holding pages, the root excepted ('-': none). */
  dirs: z.record(z.string(), z.string()),
});

export type RecordedBuildState = Omit<z.infer<typeof BuildStateSchema>, 'schema'>;
/** What a build records: its pages by their first file (their directories' identities are taken when it is written). */
export type BuildState = Omit<RecordedBuildState, 'pageCount' | 'rootPages' | 'dirs'> & { pages: string[] };

export async function readBuildState(outDir: string): Promise<RecordedBuildState | undefined> {
  try {
    const parsed = BuildStateSchema.safeParse(JSON.parse(await readFile(join(outDir, BUILD_STATE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function dirIdentity(path: string): string {
  const s = statSync(path, { throwIfNoEntry: false });
  return s?.isDirectory() ? `${s.ino}:${s.mtimeMs}` : '-';
}

/** Written after the build's last page write and removal: the directories are as the build left them. */
export async function writeBuildState(outDir: string, state: BuildState, writeFile: WriteFileFn): Promise<void> {
  const { pages, ...rest } = state;
  const dirs: Record<string, string> = {};
  const rootPages: string[] = [];
  for (const page of pages) {
    const dir = dirname(page);
    if (dir === '.') rootPages.push(page);
    else dirs[dir] ??= dirIdentity(join(outDir, dir));
  }
  const record: RecordedBuildState & { schema: string } = { schema: BUILD_STATE_SCHEMA, ...rest, pageCount: pages.length, rootPages, dirs };
  await writeFile(join(outDir, BUILD_STATE), JSON.stringify(record));
}

/**
 * Are the pages of the last build all still there? Each directory holding pages unchanged since
 * the build (see the header for what that does not see), and each page of the root there.
 */
export function pagesPresent(outDir: string, state: RecordedBuildState): boolean {
  for (const dir in state.dirs) {
    const recorded = state.dirs[dir]!;
    if (recorded === '-' || dirIdentity(`${outDir}/${dir}`) !== recorded) return false;
  }
  return state.rootPages.every((page) => statSync(join(outDir, page), { throwIfNoEntry: false }) !== undefined);
}
