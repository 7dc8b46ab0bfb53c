// Where everything of the results store lives: the one module that spells the layout out.
// Everything else asks it for a path (or goes through store-read.ts / SweepStore):
//
//   <results_dir>/sweeps/<sweep id>/                 sweepPaths(): sweep.json, events.jsonl, sweep.log,
//                                                    findings.json, attempts/<job>/<n>/, jobs/
//   <results_dir>/sweeps/<sweep id>/jobs/<job id>/   jobPaths(): manifest.json, metrics.json,
//                                                    orchestrator.log, pruned.json, raw/ (artifacts/,
//                                                    phases/<phase>/{events.jsonl,output.log,rc})
//   <results_dir>/locks/                             sweep.lock, space.reserve
//   <results_dir>/alerts/paged.json                  the paging record
//   <results_dir>/index/history/<sweep id>.jsonl     the history index
//   <results_dir>/site/                              the report site (the default output)
//
// Sweeps and jobs are named by id, never by a path: an id that is not one is refused here, so no
// path this module makes reaches outside the store.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { StoreReadError } from './store-errors.js';

/**
 * `name` (one checked directory name, or a fixed one of the layout) inside `dir`: the same string
 * path.join makes, built by concatenation when `dir` is already normal (every path this module
 * makes is), since the site build and its "nothing new" check ask for thousands of them.
 */
function child(dir: string, name: string): string {
  return isNormal(dir) ? `${dir}/${name}` : join(dir, name);
}

/** `child` for many names in one directory, `dir` looked at once. */
function childrenOf(dir: string): (name: string) => string {
  return isNormal(dir) ? (name) => `${dir}/${name}` : (name) => join(dir, name);
}

/** What path.join would leave as it is: no empty, '.' or '..' segment, no trailing slash. */
function isNormal(dir: string): boolean {
  return dir !== '' && dir !== '/' && !dir.endsWith('/') && !dir.includes('//') && !/(^|\/)\.\.?(\/|$)/.test(dir);
}

/** Sweep ids sort by start time: 20261122T043000Z-3fa2 */
export function newSweepId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** What newSweepId makes (any length of hex suffix): a directory name, never a path. */
export const SWEEP_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]+$/;

export function isSweepId(text: string): boolean {
  return SWEEP_ID_PATTERN.test(text);
}

/**
 * A job id is one directory name: `<host>--<scenario>`, `~rerun<n>` for a confirmation re-run.
 * Whatever the inventory allows, never empty, `.`, `..`, nor with a slash or NUL in it.
 */
export function isJobDirName(text: string): boolean {
  return text !== '' && text !== '.' && text !== '..' && !/[/\\\0]/.test(text);
}

function checkedSweepId(sweepId: string): string {
  if (!isSweepId(sweepId)) throw new StoreReadError(sweepId, 'not a sweep id (expected one like 20261122T043000Z-3fa2)', 'not-an-id');
  return sweepId;
}

function checkedJobId(jobId: string): string {
  if (!isJobDirName(jobId)) throw new StoreReadError(jobId, 'not a job id (one directory name, like lab-01--sysinfo)', 'not-an-id');
  return jobId;
}

export function sweepsDir(resultsDir: string): string {
  return join(resultsDir, 'sweeps');
}

export interface SweepPaths {
  dir: string;
  /** orchestrate/sweep@N */
  manifest: string;
  events: string;
  log: string;
  /** orchestrate/findings@N */
  findings: string;
  jobs: string;
  attempts: string;
}

/** The files of a sweep directory (whatever its place). */
export function sweepFiles(dir: string): SweepPaths {
  const c = childrenOf(dir);
  return { dir, manifest: c('sweep.json'), events: c('events.jsonl'), log: c('sweep.log'), findings: c('findings.json'), jobs: c('jobs'), attempts: c('attempts') };
}

/** A sweep of the store, by id (StoreReadError for anything that is not a sweep id). */
export function sweepPaths(resultsDir: string, sweepId: string): SweepPaths {
  return sweepFiles(child(sweepsDir(resultsDir), checkedSweepId(sweepId)));
}

/** Where a resumed sweep sets the earlier attempts of a job aside: attempts/<job>/<n>/. */
export function attemptsDir(sweepDir: string, jobId: string): string {
  return child(sweepDir, `attempts/${checkedJobId(jobId)}`);
}

/** What pruning renames raw/ to before it deletes it (one step: raw/ is whole or gone). */
export const RAW_PRUNING = '.raw.pruning';

export interface JobPaths {
  dir: string;
  /** orchestrate/job@N */
  manifest: string;
  /** orchestrate/metrics@N */
  metrics: string;
  log: string;
  /** orchestrate/pruned@N: what retention removed. */
  pruned: string;
  /** The artifacts exactly as collected. */
  raw: string;
  rawArtifacts: string;
  rawPhases: string;
  /** raw/ while retention removes it. */
  rawPruning: string;
}

/** The file names of a job directory that a job's history is read from. */
export const JOB_MANIFEST_FILE = 'manifest.json';
export const JOB_METRICS_FILE = 'metrics.json';

/** The files of a job directory (whatever its place). */
export function jobFiles(dir: string): JobPaths {
  const c = childrenOf(dir);
  return {
    dir,
    manifest: c(JOB_MANIFEST_FILE),
    metrics: c(JOB_METRICS_FILE),
    log: c('orchestrator.log'),
    pruned: c('pruned.json'),
    raw: c('raw'),
    rawArtifacts: c('raw/artifacts'),
    rawPhases: c('raw/phases'),
    rawPruning: c(RAW_PRUNING),
  };
}

/** A job's raw/artifacts/ from its raw/ directory (what a scenario's build() and normalize() get). */
export function rawArtifactsIn(rawDir: string): string {
  return join(rawDir, 'artifacts');
}

/** A job directory in a sweep directory. */
export function jobDirIn(sweepDir: string, jobId: string): string {
  return child(sweepDir, `jobs/${checkedJobId(jobId)}`);
}

/** A job of the store, by ids. */
export function jobPaths(resultsDir: string, sweepId: string, jobId: string): JobPaths {
  return jobFiles(jobDirIn(child(sweepsDir(resultsDir), checkedSweepId(sweepId)), jobId));
}

/** The host-side record of one phase, as collected: raw/phases/<phase>/. */
export function phasePaths(rawPhasesDir: string, phase: string): { dir: string; events: string; output: string; rc: string } {
  const dir = join(rawPhasesDir, phase);
  return { dir, events: child(dir, 'events.jsonl'), output: child(dir, 'output.log'), rc: child(dir, 'rc') };
}

export function locksDir(resultsDir: string): string {
  return join(resultsDir, 'locks');
}

export function sweepLockPath(resultsDir: string): string {
  return join(locksDir(resultsDir), 'sweep.lock');
}

export function spaceReservePath(resultsDir: string): string {
  return join(locksDir(resultsDir), 'space.reserve');
}

/** `<results_dir>/alerts/paged.json`: every change paged so far, so that none is paged twice. */
export function pagedStatePath(resultsDir: string): string {
  return join(resultsDir, 'alerts', 'paged.json');
}

export function historyIndexDir(resultsDir: string): string {
  return join(resultsDir, 'index', 'history');
}

export function historyShardPath(resultsDir: string, sweepId: string): string {
  return join(historyIndexDir(resultsDir), `${checkedSweepId(sweepId)}.jsonl`);
}

/** Where the report site is built unless told otherwise. */
export function defaultSiteDir(resultsDir: string): string {
  return join(resultsDir, 'site');
}
