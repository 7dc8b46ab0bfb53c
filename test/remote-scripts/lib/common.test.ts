// remote-scripts/lib/common.sh, sourced by real bash: orch_start_time, the one reader of a
// process's start time (a PID plus its start time names one process; the agent, the kvm peers,
// the OVS daemons and the midolman collectors signal a process only while both match). Checked
// against /proc read here, on real processes: one whose command name holds spaces and
// parentheses (the field is counted after the last ')'), a zombie (counts as gone), a PID that is
// gone, and text that is no PID. It never fails under set -e: callers test REPLY.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sourcedOk } from '../sourced-bash.js';

const LIBS = ['lib/common.sh'];

/** Field 22 (starttime) and field 3 (state) of /proc/PID/stat, read here. */
async function procStat(pid: number): Promise<{ state: string; start: string }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  return { state: fields[0]!, start: fields[19]! };
}

const startTime = (pid: string) => sourcedOk(LIBS, 'orch_start_time "$1"; printf "[%s]" "$REPLY"', { args: [pid] });

function ended(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

test('a live process: its start time, also when its command name holds spaces and parentheses', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'start-time-'));
  const odd = join(dir, 'odd) R 1 2 (x');
  await copyFile('/bin/sleep', odd);
  await chmod(odd, 0o755);
  const child = spawn(odd, ['30'], { stdio: 'ignore' });
  try {
    await sleep(100);
    const pid = child.pid!;
    assert.match(await readFile(`/proc/${pid}/stat`, 'utf8'), /\(odd\) R 1 2 \(x\) /, 'the name as the kernel shows it');
    const { start } = await procStat(pid);
    assert.ok(/^[0-9]+$/.test(start), start);
    assert.is(await startTime(String(pid)), `[${start}]`);
  } finally {
    child.kill('SIGKILL');
    await ended(child);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a zombie counts as gone: REPLY is empty', async () => {
  // the parent execs sleep, which never reaps the child: the child stays a zombie
  const parent = spawn('bash', ['-c', 'sleep 0.1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const zombie = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    let state = '';
    for (let i = 0; i < 50 && state !== 'Z'; i++) {
      await sleep(100);
      state = (await procStat(zombie)).state;
    }
    assert.is(state, 'Z', 'the child became a zombie');
    assert.is(await startTime(String(zombie)), '[]');
  } finally {
    parent.kill('SIGKILL');
    await ended(parent);
  }
});

test('a PID that is gone, or text that is no PID: REPLY is empty and the call succeeds under set -e', async () => {
  const child = spawn('true', { stdio: 'ignore' });
  await ended(child);
  assert.is(await startTime(String(child.pid)), '[]');
  for (const text of ['', 'abc', '12abc', '-1', '1 2', '../1', 'self']) {
    assert.is(await startTime(text), '[]', JSON.stringify(text));
  }
});

test.run();
