// A file of what was derived from a results store, kept outside it (the site's caches, beside
// the site: .site-scan.json, .site-history.json): one JSON object naming its kind and version
// (`schema`) and the results directory (absolute) it was derived from. Never the only copy of
// anything: missing, damaged, of another kind or version, or derived from another store, it
// reads as undefined and the caller reads the store instead; one that cannot be written only
// makes the next read slower.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { writeFileAtomically } from './atomic-write.js';

export interface DerivedCacheFile<T extends { resultsDir: string }> {
  /** The file's name in the directory it is kept in. */
  readonly name: string;
  /** The cache in `dir` derived from `resultsDir` (absolute), or undefined. */
  read(dir: string, resultsDir: string): T | undefined;
  /** Written atomically (the directory made when missing); a failure is swallowed. */
  write(dir: string, cache: T): Promise<void>;
}

/** `schema` validates the whole file, its `schema` field included (the literal `kind`). */
export function derivedCacheFile<T extends { resultsDir: string }>(name: string, kind: string, schema: z.ZodType<T & { schema: string }>): DerivedCacheFile<T> {
  return {
    name,
    read(dir, resultsDir) {
      try {
        const parsed = schema.safeParse(JSON.parse(readFileSync(join(dir, name), 'utf8')));
        return parsed.success && parsed.data.resultsDir === resultsDir ? parsed.data : undefined;
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
