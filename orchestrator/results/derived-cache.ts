// A file of what was derived from a results store, kept outside it (the site's caches, beside
// the site: .site-scan.json, .site-history.json): one JSON object naming its kind and version
// (`schema`) and the results directory (absolute) it was derived from. Never the only copy of
// anything: missing, damaged, of another kind or version, or derived from another store, it
// reads as undefined and the caller reads the store instead; one that cannot be written only
// makes the next read slower.
//
// The rest of the file is checked by the cache's own `check` (a hand check of its shape: these
// files are megabytes of small records the site's build reads every night, where a schema
// library's parse costs as much again as JSON.parse; only what came from the store in the
// store's own format, such as a sweep manifest, is worth checking with the store's schema).
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-write.js';
import { isRecord } from './json-shape.js';

export interface DerivedCacheFile<T extends { resultsDir: string }> {
  /** The file's name in the directory it is kept in. */
  readonly name: string;
  /** The cache in `dir` derived from `resultsDir` (absolute), or undefined. */
  read(dir: string, resultsDir: string): T | undefined;
  /** Written atomically (the directory made when missing); a failure is swallowed. */
  write(dir: string, cache: T): Promise<void>;
}

/**
 * The file's shape past its `schema` and `resultsDir` (checked before it): `check` gives the cache
 * (the object it was given, or one made from it), or undefined when the file is not of its shape.
 */
export type CacheCheck<T> = (parsed: Record<string, unknown>) => T | undefined;

/** A file of kind `kind` (its `schema` field) named `name`, whose other fields `check` checks. */
export function derivedCacheFile<T extends { resultsDir: string }>(name: string, kind: string, check: CacheCheck<T>): DerivedCacheFile<T> {
  return {
    name,
    read(dir, resultsDir) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(join(dir, name), 'utf8'));
        if (!isRecord(parsed) || parsed['schema'] !== kind || parsed['resultsDir'] !== resultsDir) return undefined;
        return check(parsed);
      } catch {
        return undefined;
      }
    },
    async write(dir, cache) {
      try {
        await mkdir(dir, { recursive: true });
        await writeFileAtomically(join(dir, name), JSON.stringify({ ...cache, schema: kind }));
      } catch {
        // the next read derives it from the store again
      }
    },
  };
}

