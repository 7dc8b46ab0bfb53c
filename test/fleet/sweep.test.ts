// The sweep as one engine call (fleet/sweep.ts): results directory, lock, jobs and the steps after
// them, told as typed events and returned as a typed outcome. Hosts here refuse every connection
// (a connector that fails as the SSH one does on a closed port), so nothing leaves this machine;
// the lab's end-to-end tests run the same call through the CLI against real sshd hosts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectError } from '../../orchestrator/connectors/connect-errors.js';
import type { EngineEvent } from '../../orchestrator/fleet/events.js';
import { sweep, type SweepOutcome, type SweepRequest } from '../../orchestrator/fleet/sweep.js';
import { acquireSweepLock, sweepLockPath } from '../../orchestrator/fleet/sweep-lock.js';
import type { Inventory } from '../../orchestrator/inventory/types.js';
import { inventoryOf, sweepRequest } from './confirm-fixtures.js';
import { FakeConnector } from './fake-connector.js';

let dir = '';
let results = '';

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweep-engine-'));
  results = join(dir, 'results');
  await writeFile(join(dir, 'lab.yaml'), 'hosts: {}\n');
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A host whose every connection is refused, as ssh2 reports a closed port (no retries left). */
const refusing = (hostName: string) =>
  new FakeConnector(hostName, () => undefined, {
    connectError: new ConnectError(hostName, `root@127.0.0.1:1`, 'refused', `${hostName}: connection refused (root@127.0.0.1:1)`, 1),
  });

function request(inventory: Inventory, overrides: Partial<SweepRequest> = {}): SweepRequest {
  return sweepRequest(inventory, { run: { connectorFor: (host) => refusing(host.name) }, ...overrides });
}

async function run(inventory: Inventory, overrides: Partial<SweepRequest> = {}): Promise<{ outcome: SweepOutcome; events: EngineEvent[] }> {
  const events: EngineEvent[] = [];
  const outcome = await sweep(request(inventory, overrides), (event) => events.push(event));
  return { outcome, events };
}

const exists = (path: string) => stat(path).then(() => true, () => false);

test('unreachable hosts: the sweep completes failed, its events run from sweep-start to findings, and the lock is released', async () => {
  const { outcome, events } = await run(inventoryOf(results, ['h1', 'h2']));
  assert.is(outcome.kind, 'completed');
  if (outcome.kind !== 'completed') return;
  assert.is(outcome.sweep.status, 'failed');
  assert.equal(outcome.sweep.counts, { ok: 0, failed: 0, unreachable: 2, interrupted: 0, skipped: 0 });
  assert.equal(outcome.sweep.jobs.map((j) => [j.jobId, j.status]), [['h1--sysinfo', 'unreachable'], ['h2--sysinfo', 'unreachable']]);
  assert.equal(outcome.finish.problems, []);
  assert.is(outcome.finish.findings?.comparable, false);
  const kinds = events.map((e) => e.kind);
  assert.is(kinds[0], 'sweep-start');
  assert.is(kinds.filter((k) => k === 'host-unreachable').length, 2);
  assert.ok(kinds.indexOf('sweep-end') < kinds.indexOf('findings'), kinds.join(' '));
  assert.is(kinds.at(-1), 'findings', 'no report, publish or retention asked for: the findings are the last step');
  assert.not.ok(await exists(sweepLockPath(results)), 'the lock is gone');
  // the steps after the jobs are in the sweep's logs too
  const sweepLog = await readFile(join(outcome.sweep.dir, 'sweep.log'), 'utf8');
  assert.match(sweepLog, /findings: 0 confirmed regression\(s\), 0 not reproduced, nothing to compare yet/);
  const logged = (await readFile(join(outcome.sweep.dir, 'events.jsonl'), 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as EngineEvent);
  assert.equal(logged.map((e) => e.kind).filter((k) => k === 'sweep-end' || k === 'findings'), ['sweep-end', 'findings']);
});

test('a sweep already running into the results directory: locked, with its holder, and nothing started', async () => {
  const inventory = inventoryOf(results, ['h1']);
  await mkdir(results, { recursive: true });
  const held = await acquireSweepLock(results, inventory.file);
  try {
    const { outcome, events } = await run(inventory);
    assert.is(outcome.kind, 'locked');
    if (outcome.kind !== 'locked') return;
    assert.is(outcome.holder?.pid, process.pid);
    assert.match(outcome.message, /another sweep of .* is running .*Not starting\./);
    assert.equal(events, []);
    assert.equal(await readdir(join(results, 'sweeps')).catch(() => []), [], 'no sweep directory');
  } finally {
    await held.release();
  }
});

test('a results directory that is a regular file: refused before anything, and no lock taken', async () => {
  await writeFile(results, 'not a directory');
  const { outcome, events } = await run(inventoryOf(results, ['h1']));
  assert.is(outcome.kind, 'refused');
  if (outcome.kind === 'refused') assert.match(outcome.message, /is a regular file, not a directory/);
  assert.equal(events, []);
});

test('interrupted before it started: the outcome says so, no sweep directory is made, the lock is released', async () => {
  const interrupt = new AbortController();
  interrupt.abort(new Error('SIGINT'));
  const { outcome, events } = await run(inventoryOf(results, ['h1']), { interrupt: interrupt.signal });
  assert.equal(outcome, { kind: 'interrupted' });
  assert.equal(events, []);
  assert.not.ok(await exists(sweepLockPath(results)));
});

test('the exit-now hook is handed once the lock is held, and releases it at once (the third Ctrl-C)', async () => {
  const gate = new AbortController();
  const seen: { heldBefore: boolean; heldAfter: boolean; marked: boolean }[] = [];
  const outcome = await sweep(
    request(inventoryOf(results, ['h1']), {
      interrupt: gate.signal,
      onExitNow: (exitNow) => {
        const heldBefore = existsSync(sweepLockPath(results));
        const marked = exitNow('SIGINT a third time');
        seen.push({ heldBefore, heldAfter: existsSync(sweepLockPath(results)), marked });
        gate.abort(new Error('SIGINT'));
      },
    }),
    () => undefined,
  );
  assert.equal(seen, [{ heldBefore: true, heldAfter: false, marked: false }], 'no record to mark yet: the sweep had not started');
  assert.equal(outcome, { kind: 'interrupted' });
});

test.run();
