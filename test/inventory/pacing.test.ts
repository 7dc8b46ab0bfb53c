// Loading hands the event loop a turn every few milliseconds, so an abort (options.signal)
// stops it at once, and the CLI honours SIGTERM/SIGINT while it loads: exit 130, at once,
// even in the middle of parsing a huge inventory.

import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadInventory } from '../../orchestrator/inventory/load.js';
import { Pacer } from '../../orchestrator/inventory/pacing.js';
import { startCli } from '../e2e/cli-helpers.js';
import { bigInventoryText } from './big-inventory.js';
import { ENV, SCENARIOS } from './helpers.js';

let dir: string;
let fleet: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inventory-pacing-'));
  fleet = join(dir, 'fleet.yaml');
  await writeFile(fleet, bigInventoryText({ hosts: 20_000 }));
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a Pacer says a pause is due once its slice is used up, and pause() lets timers run', async () => {
  const pacer = new Pacer(undefined, 5);
  let calls = 0;
  const started = performance.now();
  while (!pacer.due()) calls++;
  assert.ok(performance.now() - started >= 5);
  assert.ok(calls > 0);
  let timerRan = false;
  setTimeout(() => (timerRan = true), 0);
  await sleep(1); // let the timer's due time pass
  await pacer.pause();
  assert.ok(timerRan);
});

test('pause() throws the reason of an aborted signal', async () => {
  const controller = new AbortController();
  const pacer = new Pacer(controller.signal);
  controller.abort(new Error('stop now'));
  assert.ok(pacer.due() || true);
  await pacer.pause().then(
    () => assert.unreachable('pause() resolved'),
    (error: Error) => assert.is(error.message, 'stop now'),
  );
});

test('loadInventory with an aborted signal rejects with its reason', async () => {
  const controller = new AbortController();
  controller.abort();
  const error = await loadInventory(fleet, { scenarios: SCENARIOS, env: ENV, signal: controller.signal }).then(
    () => undefined,
    (failure: Error) => failure,
  );
  assert.is(error?.name, 'AbortError');
});

test('an abort in the middle of loading 20,000 hosts stops it within a few hundred milliseconds', async () => {
  const controller = new AbortController();
  const loading = loadInventory(fleet, { scenarios: SCENARIOS, env: ENV, signal: controller.signal });
  await sleep(100);
  const aborted = performance.now();
  controller.abort(new Error('enough'));
  const error = await loading.then(
    () => undefined,
    (failure: Error) => failure,
  );
  const took = performance.now() - aborted;
  assert.is(error?.message, 'enough');
  assert.ok(took < 1000, `stopped ${took.toFixed(0)} ms after the abort`);
});

test('the CLI exits 130 at once on SIGTERM in the middle of parsing a 7 MB inventory', async () => {
  // The inventory comes through a FIFO: once our write end is open, the CLI is loading; once
  // the write completes, it has read the whole file and is parsing it (several seconds' work).
  const fifo = join(dir, 'fleet.fifo');
  execFileSync('mkfifo', [fifo]);
  const run = startCli(['--inventory', fifo, '--plan']);
  const writer = await open(fifo, 'w');
  await writer.writeFile(bigInventoryText({ hosts: 20_000, padding: 300 }));
  await writer.close();
  await sleep(200);
  const signalled = performance.now();
  run.child.kill('SIGTERM');
  const code = await run.exit;
  const took = performance.now() - signalled;
  assert.is(code, 130, run.stderr());
  assert.is(run.stdout(), '');
  assert.is(run.stderr(), '\nSIGTERM: stopped while loading the inventory; nothing was contacted.\n');
  assert.ok(took < 2500, `exited ${took.toFixed(0)} ms after SIGTERM`);
});

test('the CLI exits 130 on SIGINT while it waits for the inventory to arrive', async () => {
  const fifo = join(dir, 'slow.fifo');
  execFileSync('mkfifo', [fifo]);
  const run = startCli(['--inventory', fifo, '--plan']);
  const writer = await open(fifo, 'w');
  await writer.write('hosts:\n');
  await sleep(200);
  run.child.kill('SIGINT');
  const code = await run.exit;
  await writer.close();
  assert.is(code, 130, run.stderr());
  assert.is(run.stderr(), '\nSIGINT: stopped while loading the inventory; nothing was contacted.\n');
});

test.run();
