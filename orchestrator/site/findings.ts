// What a sweep found, as the sweep wrote it (`<sweep dir>/findings.json`, FindingsSchema of
// analysis/findings.ts): the site's "last night at a glance" reads it. Sweeps written before
// there were findings have none; the index then shows what the site computes itself.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FindingsSchema, type Findings } from '../analysis/findings.js';
import type { Problem } from './load.js';

export const FINDINGS_FILE = 'findings.json';

export type LoadedFindings =
  | { state: 'found'; path: string; findings: Findings }
  /** No findings.json: a sweep from before findings were written (or one whose analysis never ran). */
  | { state: 'missing'; path: string }
  /** There is one, but it is not JSON, not a findings file, or another sweep's. */
  | { state: 'invalid'; path: string; problem: Problem };

export function findingsPath(resultsDir: string, sweepId: string): string {
  return join(resultsDir, 'sweeps', sweepId, FINDINGS_FILE);
}

/** Reads and validates a sweep's findings.json. Never throws: a problem is returned as such. */
export async function loadFindings(resultsDir: string, sweepId: string): Promise<LoadedFindings> {
  const path = findingsPath(resultsDir, sweepId);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing', path };
    return { state: 'invalid', path, problem: { path, message: (error as Error).message } };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { state: 'invalid', path, problem: { path, message: `not valid JSON (${(error as Error).message})` } };
  }
  const parsed = FindingsSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    return { state: 'invalid', path, problem: { path, message: `not a findings file: ${issues.join('; ')}` } };
  }
  if (parsed.data.sweepId !== sweepId) {
    return { state: 'invalid', path, problem: { path, message: `the findings of sweep ${parsed.data.sweepId}, not of ${sweepId}` } };
  }
  return { state: 'found', path, findings: parsed.data };
}
