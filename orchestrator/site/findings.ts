// What a sweep found, as the sweep wrote it (`<sweep dir>/findings.json`, FindingsSchema of
// analysis/findings.ts): the site's "last night at a glance" reads it. Sweeps written before
// there were findings have none; the index then shows what the site computes itself.
import type { Findings } from '../analysis/findings.js';
import { StoreReadError, findingsPath, isSweepId, readFindings } from '../results/store.js';
import { sweepsDir } from '../results/store-layout.js';
import type { Problem } from './load.js';

export type LoadedFindings =
  | { state: 'found'; path: string; findings: Findings }
  /** No findings.json: a sweep from before findings were written (or one whose analysis never ran). */
  | { state: 'missing'; path: string }
  /** There is one, but it is not JSON, not a findings file, or another sweep's. */
  | { state: 'invalid'; path: string; problem: Problem };

/** Reads and validates a sweep's findings.json through the store. Never throws: a problem is returned as such. */
export async function loadFindings(resultsDir: string, sweepId: string): Promise<LoadedFindings> {
  // Only a sweep id names a sweep of the store: anything else has no findings to read.
  if (!isSweepId(sweepId)) return { state: 'missing', path: sweepsDir(resultsDir) };
  const path = findingsPath(resultsDir, sweepId);
  try {
    const findings = await readFindings(resultsDir, sweepId);
    return findings ? { state: 'found', path, findings } : { state: 'missing', path };
  } catch (error) {
    const message = error instanceof StoreReadError ? error.detail : (error as Error).message;
    return { state: 'invalid', path, problem: { path, message } };
  }
}
