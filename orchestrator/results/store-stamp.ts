// A cheap identity of what the results store holds, for "has anything changed since?" without
// reading it: the sweeps there are, and per sweep the identity (inode, size, mtime) of its
// sweep.json, findings.json and jobs directory, per job of its directory (every file the store
// writes into it is renamed into place, which changes it: manifest, metrics, pruned.json, raw/
// set aside) and of its orchestrator.log (appended in place), and the paging record. Two
// stamps are equal when none of these changed. What it does not see: a file under raw/ edited
// in place after its job ended (the store never does that).
import { readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { isSweepId, jobFiles, pagedStatePath, sweepPaths, sweepsDir } from './store-layout.js';

const JOB_LOG = basename(jobFiles('/job').log);

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

/** The identities of a job's directory and of its orchestrator.log, as a stamp saw them. */
export interface JobIdentity {
  dir: string;
  log: string;
}

/** About 2 stats per job and a directory listing per sweep: paths are joined as plain strings (no checks per job). */
export function storeStamp(resultsDir: string): string {
  return stampStore(resultsDir).stamp;
}

/**
 * The stamp, and the identities it was made of per job (by `<sweepId>/<jobId>`), for a scan that
 * follows it to use instead of taking them again (site/load.ts).
 */
export function stampStore(resultsDir: string): { stamp: string; jobs: Map<string, JobIdentity> } {
  const jobs = new Map<string, JobIdentity>();
  const lines = [`paged ${identity(pagedStatePath(resultsDir))}`];
  for (const sweepId of names(sweepsDir(resultsDir)).filter(isSweepId)) {
    const sweep = sweepPaths(resultsDir, sweepId);
    lines.push(`sweep ${sweepId} ${identity(sweep.manifest)} ${identity(sweep.findings)} ${identity(sweep.jobs)}`);
    // names a directory listing gives are single path components (never '.', '..' or with a slash)
    for (const jobId of names(sweep.jobs)) {
      const dir = `${sweep.jobs}/${jobId}`;
      const job = { dir: identity(dir), log: identity(`${dir}/${JOB_LOG}`) };
      jobs.set(`${sweepId}/${jobId}`, job);
      lines.push(`job ${jobId} ${job.dir} ${job.log}`);
    }
  }
  return { stamp: createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 32), jobs };
}
