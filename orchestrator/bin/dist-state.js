// Is the compiled CLI (dist/, built by `npm run build` from orchestrator/**/*.ts) there and
// current? Plain JavaScript without dependencies: the bin and the build script read it before
// anything is compiled. "Current" means the build stamp (dist/.build-stamp, written by a build
// that succeeded, dated when that build started) is at least as new as every source file and the
// two tsconfig files. An installed copy without the sources has nothing to compare: it is current.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SOURCE_DIR = join(PACKAGE_ROOT, 'orchestrator');
export const DIST_DIR = join(PACKAGE_ROOT, 'dist');
export const BUILD_STAMP = join(DIST_DIR, '.build-stamp');
export const DIST_ENTRY = join(DIST_DIR, 'cli.js');
const BUILD_INPUTS = ['tsconfig.json', 'package.json', 'package-lock.json', 'orchestrator/bin/build.js'].map((name) => join(PACKAGE_ROOT, name));

/** The newest file the build reads: `{ file, mtimeMs }`, or undefined without sources. */
export function newestSource() {
  let newest;
  const consider = (file) => {
    const mtimeMs = statSync(file).mtimeMs;
    if (newest === undefined || mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) consider(path);
    }
  };
  if (!existsSync(join(SOURCE_DIR, 'cli.ts'))) return undefined;
  walk(SOURCE_DIR);
  for (const file of BUILD_INPUTS) if (existsSync(file)) consider(file);
  return newest;
}

/**
 * { state: 'current' } | { state: 'missing' } | { state: 'stale', newer, builtAt }:
 * missing when dist/ has no finished build, stale when a source changed after the build began.
 */
export function distState() {
  if (!existsSync(DIST_ENTRY)) return { state: 'missing' };
  const newest = newestSource();
  if (newest === undefined) return { state: 'current' };
  let stampMs;
  try {
    stampMs = statSync(BUILD_STAMP).mtimeMs;
  } catch {
    return { state: 'missing' };
  }
  if (newest.mtimeMs <= stampMs) return { state: 'current' };
  return { state: 'stale', newer: relative(PACKAGE_ROOT, newest.file), builtAt: new Date(stampMs) };
}
