// A sweep's event log (fleet/sweep-event-log.ts): events land in events.jsonl, sweep.log and their
// job's log in the order they came, a re-run's marks only in the JSON line, and written() waits
// for every event appended before it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepEventLog } from '../../orchestrator/fleet/sweep-event-log.js';
import { jobFiles, SweepStore, sweepFiles } from '../../orchestrator/results/store.js';
import { sweepIdOf } from './confirm-fixtures.js';

test('events in order in events.jsonl and sweep.log, a job event in its job log too, marks in the JSON only', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sweep-event-log-'));
  try {
    const store = new SweepStore(join(dir, 'results'), sweepIdOf(1));
    await store.init();
    const log = sweepEventLog(store);
    const at = Date.parse('2026-01-02T03:04:05.000Z');
    log.append({ kind: 'host-connect', at, host: 'lab-01' });
    log.append({ kind: 'job-start', at, host: 'lab-01', jobId: 'lab-01--sysinfo', scenario: 'sysinfo' }, { rerun: true });
    log.append({ kind: 'analysis-note', at, message: 'note' });
    await log.written();
    const events = (await readFile(sweepFiles(store.dir).events, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(events.map((e) => [e.kind, e.rerun]), [['host-connect', undefined], ['job-start', true], ['analysis-note', undefined]]);
    const sweepLog = (await readFile(sweepFiles(store.dir).log, 'utf8')).trimEnd().split('\n');
    assert.equal(sweepLog, [
      '2026-01-02T03:04:05.000Z lab-01: connecting',
      '2026-01-02T03:04:05.000Z lab-01: job lab-01--sysinfo (sysinfo) started',
      '2026-01-02T03:04:05.000Z note',
    ]);
    const jobLog = await readFile(jobFiles(store.jobDir('lab-01--sysinfo')).log, 'utf8');
    assert.is(jobLog, '2026-01-02T03:04:05.000Z lab-01: job lab-01--sysinfo (sysinfo) started\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('events that come while a write is on its way are appended together: one append per file and batch, each file in event order', async () => {
  const calls: string[] = [];
  const files = new Map<string, string>();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const add = (file: string) => async (text: string) => {
    calls.push(file);
    // The first write waits: what comes meanwhile is the next batch.
    if (calls.length === 1) await gate;
    files.set(file, `${files.get(file) ?? ''}${text}\n`);
  };
  const store = {
    appendSweepEvent: add('events'),
    appendSweepLog: add('log'),
    appendJobLog: (jobId: string, text: string) => add(`job ${jobId}`)(text),
  };
  const log = sweepEventLog(store);
  const at = Date.parse('2026-01-02T03:04:05.000Z');
  log.append({ kind: 'host-connect', at, host: 'lab-01' });
  // The first batch is taken when its turn comes, after this tick.
  await new Promise((resolve) => setImmediate(resolve));
  for (const n of [1, 2, 3]) log.append({ kind: 'job-start', at: at + n, host: `lab-0${n}`, jobId: `lab-0${n}--sysinfo`, scenario: 'sysinfo' });
  log.append({ kind: 'host-connect', at, host: 'lab-01' });
  log.append({ kind: 'job-end', at, host: 'lab-01', jobId: 'lab-01--sysinfo', status: 'ok', errors: [] });
  release();
  await log.written();
  assert.is(calls.filter((c) => c === 'events').length, 2, `two batches: ${calls.join(', ')}`);
  assert.is(calls.filter((c) => c === 'log').length, 2);
  assert.is(calls.filter((c) => c === 'job lab-01--sysinfo').length, 1, 'one append for the job, both its lines');
  const kinds = files.get('events')!.trimEnd().split('\n').map((line) => (JSON.parse(line) as { kind: string; host: string }).kind);
  assert.equal(kinds, ['host-connect', 'job-start', 'job-start', 'job-start', 'host-connect', 'job-end']);
  assert.is(files.get('log')!.trimEnd().split('\n').length, 6);
  assert.match(files.get('job lab-01--sysinfo')!, /started\n.*lab-01--sysinfo.*\n$/);
});

test('a write that fails does not stop the other files of its batch, nor later events', async () => {
  const written: string[] = [];
  let failNext = true;
  const store = {
    appendSweepEvent: async (text: string) => {
      if (failNext) {
        failNext = false;
        throw new Error('disk full');
      }
      written.push(`events ${text}`);
    },
    appendSweepLog: async (text: string) => void written.push(`log ${text}`),
    appendJobLog: async (_jobId: string, text: string) => void written.push(`job ${text}`),
  };
  const log = sweepEventLog(store);
  const at = Date.parse('2026-01-02T03:04:05.000Z');
  log.append({ kind: 'host-connect', at, host: 'lab-01' });
  await log.written();
  log.append({ kind: 'host-connect', at, host: 'lab-02' });
  await log.written();
  assert.equal(written.map((w) => w.split(' ')[0]), ['log', 'events', 'log']);
  assert.match(written[1]!, /lab-02/);
});

test.run();
