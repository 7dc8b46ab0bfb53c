// A cheap identity of what the results store holds, for "has anything changed since?" without
// reading it: the sweeps there are, and per sweep the identity (inode, size, mtime) of its
// sweep.json, findings.json and jobs directory, per job of its directory (every file the store
// writes into it is renamed into place, which changes it: manifest, metrics, pruned.json, raw/
// set aside) and of its orchestrator.log (appended in place), and the paging record. Two
// stamps are equal when none of these changed. What it does not see: a file under raw/ edited
// in place after its job ended (the store never does that).
import { readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isSweepId, jobDirIn, jobFiles, pagedStatePath, sweepPaths, sweepsDir } from './store-layout.js';

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
  hash.update(`paged ${identity(pagedStatePath(resultsDir))}\n`);
  for (const sweepId of names(sweepsDir(resultsDir)).filter(isSweepId)) {
    const sweep = sweepPaths(resultsDir, sweepId);
    hash.update(`sweep ${sweepId} ${identity(sweep.manifest)} ${identity(sweep.findings)} ${identity(sweep.jobs)}\n`);
    for (const jobId of names(sweep.jobs)) {
      const job = jobFiles(jobDirIn(sweep.dir, jobId));
      hash.update(`job ${jobId} ${identity(job.dir)} ${identity(job.log)}\n`);
    }
  }
  return hash.digest('hex').slice(0, 32);
}
