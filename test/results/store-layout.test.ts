// The store's layout: every path of the store comes from store-layout.ts, and only an id names a
// sweep or a job (anything else is refused before a path is made).
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  attemptsDir,
  historyShardPath,
  isJobDirName,
  jobDirIn,
  jobFiles,
  jobPaths,
  sweepFiles,
  pagedStatePath,
  phasePaths,
  sweepLockPath,
  sweepPaths,
  spaceReservePath,
  defaultSiteDir,
} from '../../orchestrator/results/store-layout.js';
import { StoreReadError } from '../../orchestrator/results/store-errors.js';

const R = '/srv/results';
const S = '20261122T051637Z-c155';

test('a sweep and a job: the files README.md lists, where it lists them', () => {
  assert.equal(sweepPaths(R, S), {
    dir: `${R}/sweeps/${S}`,
    manifest: `${R}/sweeps/${S}/sweep.json`,
    events: `${R}/sweeps/${S}/events.jsonl`,
    log: `${R}/sweeps/${S}/sweep.log`,
    findings: `${R}/sweeps/${S}/findings.json`,
    jobs: `${R}/sweeps/${S}/jobs`,
    attempts: `${R}/sweeps/${S}/attempts`,
  });
  const job = `${R}/sweeps/${S}/jobs/lab-01--sysinfo`;
  assert.equal(jobPaths(R, S, 'lab-01--sysinfo'), {
    dir: job,
    manifest: `${job}/manifest.json`,
    metrics: `${job}/metrics.json`,
    log: `${job}/orchestrator.log`,
    pruned: `${job}/pruned.json`,
    raw: `${job}/raw`,
    rawArtifacts: `${job}/raw/artifacts`,
    rawPhases: `${job}/raw/phases`,
    rawPruning: `${job}/.raw.pruning`,
  });
  assert.equal(phasePaths(`${job}/raw/phases`, 'run'), { dir: `${job}/raw/phases/run`, events: `${job}/raw/phases/run/events.jsonl`, output: `${job}/raw/phases/run/output.log`, rc: `${job}/raw/phases/run/rc` });
  assert.is(attemptsDir(`${R}/sweeps/${S}`, 'lab-01--sysinfo'), `${R}/sweeps/${S}/attempts/lab-01--sysinfo`);
  assert.is(jobDirIn(`${R}/sweeps/${S}`, 'lab-01--sysinfo~rerun1'), `${R}/sweeps/${S}/jobs/lab-01--sysinfo~rerun1`);
});

test('every path is the string path.join makes, whatever shape the directory it starts from has', () => {
  for (const dir of ['/srv/results', 'results', './results', 'results/', '/srv//results/./x/..', '../r', '.', '/']) {
    assert.is(sweepPaths(dir, S).manifest, join(dir, 'sweeps', S, 'sweep.json'), dir);
    assert.is(jobPaths(dir, S, 'h--s').rawArtifacts, join(dir, 'sweeps', S, 'jobs', 'h--s', 'raw', 'artifacts'), dir);
    assert.is(jobFiles(dir).metrics, join(dir, 'metrics.json'), dir);
    assert.is(sweepFiles(dir).jobs, join(dir, 'jobs'), dir);
    assert.is(jobDirIn(dir, 'h--s'), join(dir, 'jobs', 'h--s'), dir);
    assert.is(attemptsDir(dir, 'h--s'), join(dir, 'attempts', 'h--s'), dir);
  }
});

test('the store-wide files', () => {
  assert.is(sweepLockPath(R), `${R}/locks/sweep.lock`);
  assert.is(spaceReservePath(R), `${R}/locks/space.reserve`);
  assert.is(pagedStatePath(R), `${R}/alerts/paged.json`);
  assert.is(historyShardPath(R, S), `${R}/index/history/${S}.jsonl`);
  assert.is(defaultSiteDir(R), `${R}/site`);
});

test('a sweep id or job id that is not one is refused, never joined into a path', () => {
  for (const id of ['../../etc', '', '20261122T051637Z-c155/..', '20261122T051637Z-C155', 'latest']) {
    assert.throws(() => sweepPaths(R, id), (e: unknown) => e instanceof StoreReadError && e.reason === 'not-an-id', id);
    assert.throws(() => historyShardPath(R, id), (e: unknown) => e instanceof StoreReadError, id);
  }
  for (const id of ['', '.', '..', '../x', 'a/b', 'a\\b', 'a\0b']) {
    assert.not.ok(isJobDirName(id), id);
    assert.throws(() => jobPaths(R, S, id), (e: unknown) => e instanceof StoreReadError && /not a job id/.test(e.message), id);
  }
  assert.ok(isJobDirName('lab-01--kvm~rerun2'));
});

test.run();
