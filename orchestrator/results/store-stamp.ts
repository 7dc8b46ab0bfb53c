// A cheap identity of what the results store holds, for "has anything changed since?" without
// reading it: the sweeps there are, and per sweep the identity (inode, size, mtime) of its
// sweep.json, findings.json and jobs directory, per job of its directory (every file the store
// writes into it is renamed into place, which changes it: manifest, metrics, pruned.json, raw/
// set aside) and of its orchestrator.log (appended in place), and the paging record. Two
// stamps are equal when none of these changed. What it does not see: a file under raw/ edited
// in place after its job ended (the store never does that).
import { readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isSweepId } from './store.js';

function identity(path: string): string {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : '-';
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export function storeStamp(resultsDir: string): string {
  const hash = createHash('sha256');
  hash.update(`paged ${identity(join(resultsDir, 'alerts', 'paged.json'))}\n`);
  for (const sweepId of names(join(resultsDir, 'sweeps')).filter(isSweepId)) {
    const dir = join(resultsDir, 'sweeps', sweepId);
    const jobs = join(dir, 'jobs');
    hash.update(`sweep ${sweepId} ${identity(join(dir, 'sweep.json'))} ${identity(join(dir, 'findings.json'))} ${identity(jobs)}\n`);
    for (const jobId of names(jobs)) hash.update(`job ${jobId} ${identity(join(jobs, jobId))} ${identity(join(jobs, jobId, 'orchestrator.log'))}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}
