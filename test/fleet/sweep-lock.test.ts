// The sweep lock: staleness by liveness on this machine, by timer for a holder elsewhere,
// and one lock per results directory whatever path or inventory leads there.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processStartTime, probeProcess, type ProcessProbe } from '../../orchestrator/local-process.js';
import {
  acquireSweepLock,
  judgeLock,
  sweepLockPath,
  SweepLockedError,
  thisMachine,
  type LockHolder,
  type Machine,
} from '../../orchestrator/fleet/sweep-lock.js';

const here: Machine = { hostname: 'perf-ctl', bootId: 'boot-1', pidNamespace: 'pid:[1]' };
const holder = (over: Partial<LockHolder> = {}): LockHolder => ({
  token: 't',
  pid: 4242,
  hostname: 'perf-ctl',
  bootId: 'boot-1',
  pidNamespace: 'pid:[1]',
  processStart: '1000',
  inventory: '/etc/perf/lab.yaml',
  resultsDir: '/srv/results',
  since: '2026-01-01T00:00:00.000Z',
  ...over,
});
const NOW = 1_800_000_000_000;
const dead: ProcessProbe = () => ({ alive: false });
const alive = (start: string | null): ProcessProbe => () => ({ alive: true, start });

const judge = suite('judgeLock: when a held lock may be taken over');

judge('a holder on this machine whose process is gone: stale at once, however fresh the lock', () => {
  const verdict = judgeLock(holder(), NOW - 1_000, NOW, here, dead);
  assert.equal(verdict, { stale: true, reason: 'holder pid 4242 is gone' });
});

judge('a live holder on this machine: held, however old the lock (a busy sweep is not stale)', () => {
  assert.is(judgeLock(holder(), NOW - 3_600_000, NOW, here, alive('1000')).stale, false);
});

judge('the holder PID now belongs to a process started later (PID reuse): stale', () => {
  const verdict = judgeLock(holder(), NOW - 1_000, NOW, here, alive('2000'));
  assert.equal(verdict, { stale: true, reason: 'pid 4242 is now another process' });
});

judge('start time unknown (no /proc): a live PID counts as the holder', () => {
  assert.is(judgeLock(holder({ processStart: null }), NOW, NOW, here, alive(null)).stale, false);
  assert.is(judgeLock(holder(), NOW, NOW, here, alive(null)).stale, false);
});

judge('a holder on another machine (NFS): by timer, whatever its PID does here', () => {
  const elsewhere = holder({ hostname: 'perf-ctl-2', bootId: 'boot-9' });
  const probe: ProcessProbe = () => {
    throw new Error('a PID of another machine is never probed here');
  };
  assert.is(judgeLock(elsewhere, NOW - 60_000, NOW, here, probe, 120_000).stale, false);
  const old = judgeLock(elsewhere, NOW - 121_000, NOW, here, probe, 120_000);
  assert.equal(old, { stale: true, reason: 'holder pid 4242 on perf-ctl-2, another machine or boot; not refreshed for 121 s' });
});

judge('same host name but another boot or another PID namespace (a container): by timer, never by PID', () => {
  const probe: ProcessProbe = () => {
    throw new Error('not probed');
  };
  assert.is(judgeLock(holder({ bootId: 'boot-0' }), NOW - 5_000, NOW, here, probe).stale, false);
  assert.is(judgeLock(holder({ pidNamespace: 'pid:[2]' }), NOW - 5_000, NOW, here, probe).stale, false);
  assert.is(judgeLock(holder({ bootId: null }), NOW - 5_000, NOW, here, probe).stale, false);
  assert.is(judgeLock(holder({ pidNamespace: 'pid:[2]' }), NOW - 200_000, NOW, here, probe).stale, true);
});

judge('an unreadable holder record: by timer', () => {
  assert.is(judgeLock(undefined, NOW - 5_000, NOW, here, dead).stale, false);
  assert.is(judgeLock(undefined, NOW - 200_000, NOW, here, dead).stale, true);
});

judge('this process, probed for real: alive with its own start time; an exited child: gone', () => {
  const me = probeProcess(process.pid);
  assert.equal(me, { alive: true, start: processStartTime(process.pid) });
  assert.match(String(processStartTime(process.pid)), /^\d+$/);
  const child = spawnSync('true');
  assert.equal(probeProcess(child.pid!), { alive: false });
  const machine = thisMachine();
  assert.ok(machine.bootId && machine.pidNamespace, JSON.stringify(machine));
});

judge.run();

const lock = suite('acquireSweepLock on disk');
let work: string;
lock.before.each(async () => {
  work = await mkdtemp(join(tmpdir(), 'sweep-lock-'));
});
lock.after.each(async () => {
  await rm(work, { recursive: true, force: true });
});

async function refused(results: string, inventory: string): Promise<SweepLockedError> {
  try {
    const taken = await acquireSweepLock(results, inventory);
    await taken.release();
  } catch (error) {
    if (error instanceof SweepLockedError) return error;
    throw error;
  }
  throw new Error('the lock was taken twice');
}

lock('one lock per results directory: a symlinked inventory, a copy, a symlinked results path all share it', async () => {
  const results = join(work, 'results');
  await mkdir(results);
  const inventory = join(work, 'lab.yaml');
  await writeFile(inventory, 'hosts: {}\n');
  await symlink(inventory, join(work, 'link.yaml'));
  await writeFile(join(work, 'copy.yaml'), 'hosts: {}\n');
  await symlink(results, join(work, 'results-link'));

  const held = await acquireSweepLock(results, inventory);
  assert.is(held.path, join(results, 'locks', 'sweep.lock'));
  const viaLink = await refused(results, join(work, 'link.yaml'));
  assert.match(viaLink.message, new RegExp(`^another sweep of ${inventory.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is running \\(pid ${process.pid} on `));
  assert.match(viaLink.message, /; lock .*locks\/sweep\.lock\. Not starting\.$/);
  await refused(results, join(work, 'copy.yaml'));
  await refused(join(work, 'results-link'), join(work, 'copy.yaml'));
  await held.release();
  const again = await acquireSweepLock(join(work, 'results-link'), join(work, 'link.yaml'));
  const record = JSON.parse(await readFile(again.path, 'utf8')) as LockHolder;
  assert.is(record.inventory, inventory, 'the holder record names the real path');
  assert.is(record.resultsDir, results);
  await again.release();
  assert.equal(await readdir(join(results, 'locks')), [], 'released: nothing left, no temp file');
});

lock('a holder killed with SIGKILL: the next sweep takes the lock at once', async () => {
  const results = join(work, 'results');
  const inventory = join(work, 'lab.yaml');
  await writeFile(inventory, 'hosts: {}\n');
  const module = fileURLToPath(new URL('../../orchestrator/fleet/sweep-lock.ts', import.meta.url));
  const script = join(work, 'hold.mts');
  await writeFile(
    script,
    `import { acquireSweepLock } from ${JSON.stringify(module)};\nawait acquireSweepLock(${JSON.stringify(results)}, ${JSON.stringify(inventory)});\nconsole.log('held');\nsetInterval(() => {}, 1000);\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
    });
    await refused(results, inventory);
    const gone = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  const started = Date.now();
  const taken = await acquireSweepLock(results, inventory);
  assert.ok(Date.now() - started < 2_000, 'no waiting for a timer');
  const record = JSON.parse(await readFile(taken.path, 'utf8')) as LockHolder;
  assert.is(record.pid, process.pid);
  await taken.release();
  assert.equal((await readdir(join(results, 'locks'))).sort(), [], 'the stale lock was removed, not left aside');
});

lock('a lock whose PID was reused by another process is taken over; one held elsewhere waits for its timer', async () => {
  const results = join(work, 'results');
  await mkdir(join(results, 'locks'), { recursive: true });
  const path = sweepLockPath(results);
  const machine = thisMachine();
  const reused: LockHolder = { ...holder(), ...machine, pid: process.pid, processStart: '1' };
  await writeFile(path, `${JSON.stringify(reused)}\n`);
  const taken = await acquireSweepLock(results, join(work, 'lab.yaml'));
  await taken.release();

  const remote: LockHolder = { ...holder(), hostname: 'other-host', bootId: 'another-boot' };
  await writeFile(path, `${JSON.stringify(remote)}\n`);
  const error = await refused(results, join(work, 'lab.yaml'));
  assert.match(error.message, /another sweep of \/etc\/perf\/lab\.yaml is running \(pid 4242 on other-host since /);
  const past = new Date(Date.now() - 10 * 60_000);
  await utimes(path, past, past);
  const afterTimer = await acquireSweepLock(results, join(work, 'lab.yaml'));
  await afterTimer.release();
});

lock('refreshed while held; a lock taken over by another process is reported and never removed by the old holder', async () => {
  const results = join(work, 'results');
  const compromised: Error[] = [];
  const held = await acquireSweepLock(results, join(work, 'lab.yaml'), { refreshMs: 50, onCompromised: (e) => compromised.push(e) });
  const past = new Date(Date.now() - 60_000);
  await utimes(held.path, past, past);
  await new Promise((r) => setTimeout(r, 300));
  const { mtimeMs } = await stat(held.path);
  assert.ok(mtimeMs > Date.now() - 10_000, 'mtime refreshed');
  const other = `${JSON.stringify({ ...holder(), token: 'other' })}\n`;
  await writeFile(held.path, other);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(compromised.length, 1);
  await held.release();
  held.releaseSync();
  assert.is(await readFile(held.path, 'utf8'), other, 'not removed: it is not ours any more');
});

lock('releaseSync removes the lock at once (for the third Ctrl-C)', async () => {
  const results = join(work, 'results');
  const held = await acquireSweepLock(results, join(work, 'lab.yaml'));
  held.releaseSync();
  assert.equal(await readdir(join(results, 'locks')), []);
});

lock.run();
