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

test.run();
