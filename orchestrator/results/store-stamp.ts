// A cheap identity of what the results store holds, for "has anything changed since?" without
// reading it: the sweeps there are, and per sweep the identity (inode, size, mtime) of its
// sweep.json, findings.json and jobs directory, per job of its directory (every file the store
// writes into it is renamed into place, which changes it: manifest, metrics, pruned.json, raw/
// set aside) and of its orchestrator.log (appended in place), and the paging record. Two
// stamps are equal when none of these changed. What it does not see: a file under raw/ edited
// in place after its job ended (the store never does that).
//
// Taken before every `orchestrate report`, "nothing new" included: two stats per job, thousands
// of them. The identities are kept as the stats' numbers (one Float64Array per sweep) and hashed
// as they are, not as a line of text per job joined into one string; the text identities the
// scan compares (`ino:size:mtimeMs`, site/scan-cache.ts fileIdentity) are made from those numbers
// only when a scan asks for them (jobIdentities).
import { readdirSync, statSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { basename } from 'node:path';
import { isSweepId, jobFiles, pagedStatePath, sweepPaths, sweepsDir } from './store-layout.js';

const JOB_LOG = basename(jobFiles('/job').log);
const OPTIONAL = { throwIfNoEntry: false } as const;
/** Numbers per identity: inode (-1: nothing there), size, mtime in ms. */
const PER_ID = 3;
/** Identities per job: its directory, its orchestrator.log. */
const PER_JOB = 2 * PER_ID;

/** Puts the identity of `path` at `at` in `into`: inode, size, mtimeMs; -1, 0, 0 when nothing is there. */
function takeIdentity(path: string, into: Float64Array, at: number): void {
  const s = statSync(path, OPTIONAL);
  into[at] = s ? s.ino : -1;
  into[at + 1] = s ? s.size : 0;
  into[at + 2] = s ? s.mtimeMs : 0;
}

/** The text of an identity taken by takeIdentity: what fileIdentity (site/scan-cache.ts) gives for the same stats. */
function identityText(ids: Float64Array, at: number): string {
  return ids[at]! < 0 ? '-' : `${ids[at]}:${ids[at + 1]}:${ids[at + 2]}`;
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function hashNumbers(hash: Hash, numbers: Float64Array): void {
  hash.update(new Uint8Array(numbers.buffer, numbers.byteOffset, numbers.byteLength));
}

/** The identities of a job's directory and of its orchestrator.log, as a stamp saw them. */
export interface JobIdentity {
  dir: string;
  log: string;
}

/** What a stamp saw of one sweep's jobs: their names, and per job PER_JOB numbers in `ids`. */
interface SweepJobs {
  sweepId: string;
  jobIds: string[];
  ids: Float64Array;
}

export interface StoreStamp {
  stamp: string;
  /**
   * The identities the stamp was made of per job (by `<sweepId>/<jobId>`), for a scan that
   * follows it to use instead of taking them again (site/load.ts). Made at the first call.
   */
  jobIdentities(): Map<string, JobIdentity>;
}

/**
 * The stamp (about 2 stats per job and a directory listing per sweep: paths are joined as plain
 * strings, no checks per job), and the identities it was made of. Hashed: the paging record's identity, then per
 * sweep its id, the identities of its sweep.json, findings.json and jobs directory, how many jobs
 * it has, their names (each followed by a '/', which no name holds) and their identities.
 */
export function stampStore(resultsDir: string): StoreStamp {
  const hash = createHash('sha256');
  const own = new Float64Array(3 * PER_ID);
  takeIdentity(pagedStatePath(resultsDir), own, 0);
  hashNumbers(hash, own.subarray(0, PER_ID));
  const sweeps: SweepJobs[] = [];
  for (const sweepId of names(sweepsDir(resultsDir)).filter(isSweepId)) {
    const sweep = sweepPaths(resultsDir, sweepId);
    takeIdentity(sweep.manifest, own, 0);
    takeIdentity(sweep.findings, own, PER_ID);
    takeIdentity(sweep.jobs, own, 2 * PER_ID);
    // names a directory listing gives are single path components (never '.', '..' or with a slash)
    const jobIds = names(sweep.jobs);
    const ids = new Float64Array(jobIds.length * PER_JOB);
    for (let i = 0; i < jobIds.length; i++) {
      const dir = `${sweep.jobs}/${jobIds[i]}`;
      takeIdentity(dir, ids, i * PER_JOB);
      takeIdentity(`${dir}/${JOB_LOG}`, ids, i * PER_JOB + PER_ID);
    }
    hash.update(`${sweepId}\n`);
    hashNumbers(hash, own);
    hash.update(jobIds.length === 0 ? '0\n' : `${jobIds.length}\n${jobIds.join('/')}/`);
    hashNumbers(hash, ids);
    sweeps.push({ sweepId, jobIds, ids });
  }
  let jobs: Map<string, JobIdentity> | undefined;
  return {
    stamp: hash.digest('hex').slice(0, 32),
    jobIdentities: () => (jobs ??= jobIdentities(sweeps)),
  };
}

function jobIdentities(sweeps: readonly SweepJobs[]): Map<string, JobIdentity> {
  const jobs = new Map<string, JobIdentity>();
  for (const { sweepId, jobIds, ids } of sweeps) {
    for (let i = 0; i < jobIds.length; i++) jobs.set(`${sweepId}/${jobIds[i]}`, { dir: identityText(ids, i * PER_JOB), log: identityText(ids, i * PER_JOB + PER_ID) });
  }
  return jobs;
}
