// The QASET watcher (remote-scripts/guest/qaset-watch, run by real bash on a fake guest tree: its
// /proc, /var/log/qaset and list.failed are directories of this test, its port a plain file) and
// the host's side of it (remote-scripts/lib/kvm-guest.sh, sourced by real bash): the lines it
// takes and refuses, reboots counted, which case runs by QASET's NEXT_RUN, the cases finished,
// passed and failed, and how a point ends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../remote-scripts/', import.meta.url));
const WATCH = join(SCRIPTS, 'guest/qaset-watch');

/** Runs SCRIPT in bash with the kvm helpers' libraries sourced; events go to stderr. */
async function sh(script: string, env: Record<string, string> = {}): Promise<string> {
  const prelude = ['common.sh', 'json.sh', 'events.sh', 'kvm-guest.sh'].map((f) => `. ${JSON.stringify(join(SCRIPTS, 'lib', f))}`).join('\n');
  const { stdout } = await exec('bash', ['-c', `set -euo pipefail\n${prelude}\n${script}`], { env: { PATH: process.env.PATH!, ...env } });
  return stdout;
}

/** A fake guest: /proc bits, QASET's directories, and the environment pointing the watcher at them. */
async function fakeGuest(dir: string) {
  await mkdir(join(dir, 'proc/sys/kernel/random'), { recursive: true });
  await mkdir(join(dir, 'proc/net'), { recursive: true });
  await mkdir(join(dir, 'qaset/control'), { recursive: true });
  await mkdir(join(dir, 'qaset/log'), { recursive: true });
  await mkdir(join(dir, 'qaset/runs'), { recursive: true });
  await writeFile(join(dir, 'proc/sys/kernel/random/boot_id'), '6c1d2f5e-0b5a-4d8e-9d55-3f1b1e8f2a10\n');
  await writeFile(join(dir, 'proc/uptime'), '35.71 20.02\n');
  await writeFile(join(dir, 'proc/net/route'), 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n');
  await writeFile(join(dir, 'port'), '');
  return {
    QASET_WATCH_PORT: join(dir, 'port'),
    QASET_WATCH_PORT_WAIT: '0',
    QASET_WATCH_LOG: join(dir, 'watch.jsonl'),
    QASET_WATCH_QASET_DIR: join(dir, 'qaset'),
    QASET_WATCH_FAILED_LIST: join(dir, 'list.failed'),
    QASET_WATCH_DEPLOY_STATE: join(dir, 'deploy.state'),
    QASET_WATCH_PROC: join(dir, 'proc'),
    QASET_WATCH_SERVICE: 'orchestrate-test-no-such.service',
  };
}

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvm-watch-'));
});
test.after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the watcher reports QASET\'s control files, failures, tarballs, screenlog, a running qaset, the route; the host takes its line', async () => {
  const g = join(dir, 'g1');
  const env = await fakeGuest(g);
  await writeFile(join(g, 'qaset/control/NEXT_RUN'), '3 bonniepp_async_xfs\n');
  await writeFile(join(g, 'qaset/control/RUN_ID'), 'SQ_TEST_RUN_ID=20261206\n');
  await writeFile(join(g, 'qaset/control/SYSTEM_DIRTY'), '2026-12-06-03-10-00\n');
  await mkdir(join(g, 'qaset/lock.d'));
  // real QASET's list.failed lines: the date(1) format lacks its '+', so the date part is empty
  await writeFile(join(g, 'list.failed'), ' sysbench_sys\n20261206T031000 dbench4_async_xfs\n"; rm -rf / #\n');
  await writeFile(join(g, 'qaset/log/sysbench_sys-ACAP2-20261206-20261206T030500.tar.bz2'), 'x');
  await writeFile(join(g, 'qaset/runs/dbench4_async_xfs-1206T0306.screenlog'), 'dbench output so far\n');
  await mkdir(join(g, 'proc/4242'));
  await writeFile(join(g, 'proc/4242/cmdline'), '/bin/bash\0/usr/share/qa/qaset/qaset\0-t\0SLE12\0run\0');
  await writeFile(join(g, 'proc/net/route'), 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\nqa0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\n', { flag: 'w' });
  await exec('bash', [WATCH], { env: { PATH: process.env.PATH!, ...env, QASET_WATCH_ONCE: '1' } });
  const port = await readFile(join(g, 'port'), 'utf8');
  const lines = port.trim().split('\n');
  assert.is(lines.length, 1);
  const line = JSON.parse(lines[0]!);
  assert.equal(
    { ...line, service: undefined },
    {
      v: 1, boot: '6c1d2f5e-0b5a-4d8e-9d55-3f1b1e8f2a10', seq: 1, uptime: 35.71, event: 'start',
      next_run: '3 bonniepp_async_xfs', done: '', stop: false, dirty: true, lock: true, run_id: 'SQ_TEST_RUN_ID=20261206', prepared: false,
      failed: 'sysbench_sys dbench4_async_xfs _', failed_count: 3, tarballs: 1, screenlog: 'dbench4_async_xfs-1206T0306.screenlog', screenlog_bytes: 21,
      qaset_running: true, service: undefined, service_exit: 0, deploy: '', route: true,
    },
  );
  assert.is(await readFile(join(g, 'watch.jsonl'), 'utf8'), port, 'the same line in the guest\'s own log');
  // the host takes it
  const out = await sh(`kvm_watch_line "$LINE" 1000 && printf '%s|%s|%s|%s|%s|%s' "$KVM_W_BOOTS" "$KVM_W_NEXT_RUN" "$KVM_W_FAILED" "$KVM_W_RUNNING" "$KVM_W_DIRTY" "$KVM_W_REJECTED"`, { LINE: lines[0]! });
  assert.is(out, '1|3 bonniepp_async_xfs|sysbench_sys dbench4_async_xfs _|true|true|0');
});

test('hostile text in QASET\'s files cannot break the watcher\'s JSON: quotes, backslashes and control characters become "?"', async () => {
  const g = join(dir, 'g2');
  const env = await fakeGuest(g);
  await writeFile(join(g, 'qaset/control/NEXT_RUN'), '1 a"b\\c\x1b[31m\n');
  await writeFile(join(g, 'qaset/control/DONE'), `${'9'.repeat(500)}\n`);
  await exec('bash', [WATCH], { env: { PATH: process.env.PATH!, ...env, QASET_WATCH_ONCE: '1' } });
  const line = (await readFile(join(g, 'port'), 'utf8')).trim();
  const parsed = JSON.parse(line);
  assert.is(parsed.next_run, '1 a?b?c?[31m');
  assert.is(parsed.done, '9'.repeat(64));
  assert.is(await sh('kvm_watch_line "$LINE" 1 && printf ok', { LINE: line }), 'ok');
});

test('the watcher writes a line when something changes, and a last one when systemd stops it', async () => {
  const g = join(dir, 'g3');
  const env = await fakeGuest(g);
  const child = spawn('bash', [WATCH], { env: { PATH: process.env.PATH!, ...env, QASET_WATCH_INTERVAL: '0.2', QASET_WATCH_HEARTBEAT: '3600' }, stdio: 'ignore' });
  const lines = async () => (await readFile(join(g, 'port'), 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const until = async (n: number) => {
    for (let i = 0; i < 300 && (await lines()).length < n; i++) await new Promise((r) => setTimeout(r, 100));
  };
  try {
    await until(1);
    await writeFile(join(g, 'qaset/control/NEXT_RUN'), '1 sysbench_sys\n');
    await until(2);
    await writeFile(join(g, 'qaset/control/STOP'), '\n');
    await until(3);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
  }
  const got = await lines();
  assert.equal(got.map((l) => [l.seq, l.event, l.next_run, l.stop]), [
    [1, 'start', '', false],
    [2, 'change', '1 sysbench_sys', false],
    [3, 'change', '1 sysbench_sys', true],
    [4, 'stop', '1 sysbench_sys', true],
  ]);
});

test('when QASET\'s run ends (DONE, or STOP with no qaset left) the watcher syncs the guest\'s filesystems once, before reporting it', async () => {
  const g = join(dir, 'g4');
  const env = await fakeGuest(g);
  const bin = join(g, 'bin');
  await mkdir(bin);
  // sync is the boundary: a stand-in that records each call
  await writeFile(join(bin, 'sync'), `#!/bin/sh\necho synced >>'${join(g, 'sync-calls')}'\n`, { mode: 0o755 });
  const child = spawn('bash', [WATCH], { env: { PATH: `${bin}:${process.env.PATH!}`, ...env, QASET_WATCH_INTERVAL: '0.2', QASET_WATCH_HEARTBEAT: '3600' }, stdio: 'ignore' });
  const calls = async () => (await readFile(join(g, 'sync-calls'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  const lines = async () => (await readFile(join(g, 'port'), 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  // the watcher syncs before it reports: once a line shows a state, its sync (if any) has run
  const reported = async (want: (l: Record<string, unknown>) => boolean) => {
    for (let i = 0; i < 300; i++) {
      if ((await lines()).some(want)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.unreachable('the watcher did not report the expected state within 30 s');
  };
  try {
    await reported((l) => l['event'] === 'start');
    await mkdir(join(g, 'proc/777'));
    await writeFile(join(g, 'proc/777/cmdline'), '/bin/bash\0/usr/share/qa/qaset/qaset\0run\0');
    await reported((l) => l['qaset_running'] === true);
    assert.is(await calls(), 0, 'nothing ended yet');
    await writeFile(join(g, 'qaset/control/STOP'), '\n');
    await reported((l) => l['stop'] === true);
    assert.is(await calls(), 0, 'STOP while a case still runs: not yet');
    await rm(join(g, 'proc/777'), { recursive: true });
    await reported((l) => l['stop'] === true && l['qaset_running'] === false);
    assert.is(await calls(), 1);
    await writeFile(join(g, 'qaset/control/DONE'), '2026-12-06-05-00-00\n');
    await reported((l) => l['done'] === '2026-12-06-05-00-00');
    assert.is(await calls(), 1, 'once per boot');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
  }
  const stopLine = (await lines()).find((l) => l.stop === true && l.qaset_running === false);
  assert.ok(stopLine, 'the end was reported');
});

test('the final state: the watcher\'s last line wins over a destroyed guest\'s disk, but DONE, STOP and failures the disk holds are kept', async () => {
  const c = join(dir, 'final');
  await mkdir(join(c, 'control'), { recursive: true });
  await writeFile(join(c, 'control/NEXT_RUN'), '1 sysbench_sys\n');
  await writeFile(join(c, 'control/DONE'), '2026-12-06-05-00-00\n');
  await writeFile(join(c, 'list.failed'), ' nosuch_case\n dbench4_async_xfs\n');
  // kvm_point_final_state lives in the helper: sourced, it runs no verb
  const out = await sh(
    `. ${JSON.stringify(join(SCRIPTS, 'kvm'))}
     kvm_watch_line "$L" 1
     kvm_point_final_state "$C/control" "$C/list.failed"
     printf '%s|%s|%s|%s|%s' "$KVM_W_DONE" "$KVM_W_STOP" "$KVM_W_DIRTY" "$KVM_W_NEXT_RUN" "$KVM_W_FAILED"`,
    { L: line({ next_run: ' ', dirty: true, stop: true, failed: 'nosuch_case', failed_count: 1 }), C: c, ORCH_JOB_DIR: c, ORCH_ARTIFACTS: c },
  );
  assert.is(out, '2026-12-06-05-00-00|true|true| |nosuch_case dbench4_async_xfs');
});

const line = (o: Record<string, unknown> = {}) =>
  JSON.stringify({
    v: 1, boot: 'b-1', seq: 1, uptime: 10.5, event: 'change', next_run: '', done: '', stop: false, dirty: false, lock: false, run_id: '', prepared: true,
    failed: '', failed_count: 0, tarballs: 0, screenlog: '', screenlog_bytes: 0, qaset_running: false, service: 'loaded/active/exited', service_exit: 0, deploy: '', route: true,
    ...o,
  });

test('the channel file is read in complete lines from where the last read stopped; a partial last line waits; foreign lines are counted, not taken', async () => {
  const file = join(dir, 'channel.jsonl');
  await writeFile(file, `${line({ seq: 1, event: 'start' })}\n${line({ seq: 2, next_run: '1 sysbench_sys', qaset_running: true })}\nnot json at all\n${line({ seq: 3 }).replace('"v":1', '"v":1,"extra":"x"')}\n{"v":1,"boot":"b-1","seq":4,"uptime":1,"event":"change","next_run":"x\\"}"\n${line({ seq: 5, next_run: '2 dbench4_async_xfs' }).slice(0, 40)}`);
  const out = await sh(
    `kvm_watch_read "$F" 1000; printf '%s|%s|%s|%s\\n' "$KVM_W_LINES" "$KVM_W_REJECTED" "$KVM_W_NEXT_RUN" "$KVM_W_OFFSET"
     printf '%s\\n' "$REST" >>"$F"
     kvm_watch_read "$F" 2000; printf '%s|%s|%s|%s\\n' "$KVM_W_LINES" "$KVM_W_REJECTED" "$KVM_W_NEXT_RUN" "$KVM_W_PROGRESS_MS"
     kvm_watch_read "$F" 3000; printf '%s|%s\\n' "$KVM_W_LINES" "$KVM_W_REJECTED"`,
    { F: file, REST: line({ seq: 5, next_run: '2 dbench4_async_xfs' }).slice(40) },
  );
  const [first, second, third] = out.trim().split('\n');
  assert.equal(first!.split('|').slice(0, 3), ['2', '3', '1 sysbench_sys']);
  const before = (await readFile(file, 'utf8')).slice(0, -(line({ seq: 5, next_run: '2 dbench4_async_xfs' }).length - 40) - 1);
  assert.is(Number(first!.split('|')[3]), before.lastIndexOf('\n') + 1, 'read up to the end of the last complete line');
  assert.is(second, '3|3|2 dbench4_async_xfs|2000');
  assert.is(third, '3|3', 'nothing new, nothing read twice');
});

test('NUL bytes and a 64 KiB line without an end are skipped, and the file is not read past its limit', async () => {
  const file = join(dir, 'hostile.jsonl');
  await writeFile(file, Buffer.concat([Buffer.from('\0\0\0garbage\n'), Buffer.from(`${line({ seq: 1 })}\n`), Buffer.alloc(70_000, 'A'), Buffer.from(`\n${line({ seq: 2, tarballs: 1 })}\n`)]));
  const out = await sh(`for i in 1 2 3 4; do kvm_watch_read "$F" $i; done; printf '%s|%s|%s' "$KVM_W_LINES" "$KVM_W_TARBALLS" "$KVM_W_REJECTED"`, { F: file });
  assert.is(out, '2|1|3');
  const capped = await sh(`kvm_watch_read "$F" 1 2>/dev/null; printf '%s|%s' "$KVM_W_LINES" "$KVM_W_FULL"`, { F: file, KVM_WATCH_MAX_BYTES: '1000' });
  assert.is(capped, '0|1');
});

test('a new boot id is a reboot: boots counted, each reboot timed from the last line of the boot before', async () => {
  const out = await sh(
    `kvm_watch_line "$A1" 1000; kvm_watch_line "$A2" 5000; kvm_watch_line "$B1" 12000; kvm_watch_line "$B2" 13000; kvm_watch_line "$C1" 20500
     printf '%s|%s|%s' "$KVM_W_BOOTS" "\${KVM_W_REBOOTS_MS[*]}" "$KVM_W_PROGRESS_MS"`,
    {
      A1: line({ boot: 'aaaa', event: 'start' }),
      A2: line({ boot: 'aaaa', event: 'stop', dirty: true, next_run: '2 dbench4_async_xfs' }),
      B1: line({ boot: 'bbbb', event: 'start', dirty: true, next_run: '2 dbench4_async_xfs' }),
      B2: line({ boot: 'bbbb', event: 'heartbeat', dirty: true, next_run: '2 dbench4_async_xfs' }),
      C1: line({ boot: 'cccc', event: 'start', next_run: ' ' }),
    },
  );
  assert.is(out, '3|7000 7500|20500', 'a heartbeat is no progress; a boot is');
});

test('the case running now is the entry before the one NEXT_RUN names, the last one while NEXT_RUN is blank, none after a reset', async () => {
  const cur = (next: string) => sh('kvm_qaset_current "$N" 4', { N: next });
  assert.is(await cur(''), '', 'reset (`echo > NEXT_RUN`): nothing started');
  assert.is(await cur('1 sysbench_sys'), '0');
  assert.is(await cur('3 bonniepp_async_xfs'), '2');
  assert.is(await cur(' '), '3', 'QASET writes `echo "" ""` while the last case runs');
  assert.is(await cur('0 x'), '', 'index 0 names no case before it');
  assert.is(await cur('junk'), '');
});

test('cases finished, passed and failed: SYSTEM_DIRTY or a list.failed entry marks the current case as ended; specials are no cases', async () => {
  const cases = (done: string, dirty: string, next: string, failed: string, list = '_reboot_off sysbench_sys dbench4_async_xfs bonniepp_async_xfs') =>
    sh(
      `kvm_qaset_cases "$D" "$Y" "$N" "$F" ${list}
       printf '%s|%s|%s|%s' "\${KVM_Q_FINISHED[*]}" "\${KVM_Q_PASSED[*]}" "\${KVM_Q_FAILED[*]}" "$KVM_Q_UNFINISHED"`,
      { D: done, Y: dirty, N: next, F: failed },
    );
  assert.is(await cases('', 'false', '', ''), '|||');
  // sysbench_sys (index 1) runs: NEXT_RUN names index 2
  assert.is(await cases('', 'false', '2 dbench4_async_xfs', ''), '|||sysbench_sys');
  // reboots on: it ended well (SYSTEM_DIRTY), the guest reboots before the next (whose qaset removes SYSTEM_DIRTY)
  assert.is(await cases('', 'true', '1 dbench4_async_xfs', '', 'sysbench_sys dbench4_async_xfs bonniepp_async_xfs'), 'sysbench_sys|sysbench_sys||');
  // _reboot_off: QASET goes on in the same process and an earlier case's SYSTEM_DIRTY stays: it says nothing of this one
  assert.is(await cases('', 'true', '3 bonniepp_async_xfs', ''), 'sysbench_sys|sysbench_sys||dbench4_async_xfs');
  // dbench failed (list.failed), bonnie++ runs (last: NEXT_RUN blank)
  assert.is(await cases('', 'false', ' ', 'dbench4_async_xfs'), 'sysbench_sys dbench4_async_xfs|sysbench_sys|dbench4_async_xfs|bonniepp_async_xfs');
  // DONE: every case ended
  assert.is(await cases('2026-12-06-04-00-00', 'true', ' ', 'dbench4_async_xfs'), 'sysbench_sys dbench4_async_xfs bonniepp_async_xfs|sysbench_sys bonniepp_async_xfs|dbench4_async_xfs|');
});

test('how a point ends: DONE, STOP once QASET stopped (not while its case still runs), the guest down, the time limit, no progress', async () => {
  const decide = (o: Record<string, unknown>, state = 'running (booted)', now = 20_000) =>
    sh(`kvm_watch_line "$L" 10000; kvm_point_decide ${now} "$S" 100000 30000 0`, { L: line(o), S: state });
  assert.is(await decide({ done: '2026-12-06-04-00-00' }, 'shut off (shutdown)'), 'done', 'DONE wins over the guest going down');
  assert.is(await decide({ stop: true, qaset_running: true, next_run: '2 x' }), '', 'QASET checks STOP before the next case');
  assert.is(await decide({ stop: true, qaset_running: false }), 'stopped');
  assert.is(await decide({}, 'shut off (crashed)'), 'guest-down');
  assert.is(await decide({}, 'gone'), 'guest-down');
  assert.is(await decide({}, 'running (booted)', 100_000), 'timed-out');
  assert.is(await decide({}, 'running (booted)', 39_999), '');
  assert.is(await decide({}, 'running (booted)', 40_000), 'stalled');
  // nothing from the guest yet: it is booting; stalled after the longer of the stall time and the boot allowance
  assert.is(await sh('kvm_point_decide 31000 "running" 900000 30000 1000'), '', 'booting: not stalled at the stall time');
  assert.is(await sh('kvm_point_decide 300999 "running" 900000 30000 1000'), '');
  assert.is(await sh('kvm_point_decide 301000 "running" 900000 30000 1000'), 'stalled');
  assert.is(await sh('kvm_point_decide 31000 "running" 900000 30000 1000 20000'), 'stalled', 'a boot allowance shorter than the stall time');
  assert.is(await sh('kvm_point_decide 700000 "running" 900000 600000 1000 20000'), 'stalled');
});

test('a stall says why, from the watcher\'s last line', async () => {
  const why = (o: Record<string, unknown>) => sh('kvm_watch_line "$L" 1; kvm_watch_stall_reason 600', { L: line(o), KVM_RUN_LIST: '_reboot_off sysbench_sys dbench4_async_xfs' });
  assert.is(await why({ route: false }), 'QASET waits for a default route and the guest has none (give the guest a network, or a default route in the image)');
  assert.is(await why({ service: 'not-found/inactive/dead' }), 'qaperf.service is not installed in the guest (QASET did not start)');
  assert.is(await why({ service: 'loaded/failed/failed', service_exit: 1 }), 'qaperf.service failed (exit 1)');
  assert.is(await why({ service: 'loaded/active/exited', service_exit: 5 }), 'qaperf.service exited 5 (QASET is not running)');
  assert.match(await why({}), /^QASET is not running and started no case/);
  assert.is(await why({ next_run: '2 dbench4_async_xfs', qaset_running: true, screenlog: 'sysbench_sys-1206T0301.screenlog' }), 'no progress in case sysbench_sys for 600 s (its screenlog sysbench_sys-1206T0301.screenlog did not grow)');
  assert.is(await why({ deploy: 'exit=2' }), 'the deployment script exited 2 and QASET did not start (see /var/log/orchestrate-deploy.log in the guest)');
  assert.match(await sh('kvm_watch_stall_reason 600'), /^no progress for 600 s and no line from the guest's QASET watcher/);
});

test('after a case that ended well QASET reboots unless it was the last or _reboot_off is in effect', async () => {
  const reboots = async (index: number, ...entries: string[]) =>
    (await sh(`kvm_qaset_reboots_after ${index} "$@" && echo yes || echo no`.replace('"$@"', entries.map((e) => JSON.stringify(e)).join(' ')))).trim();
  assert.is(await reboots(0, 'sysbench_sys', 'dbench4_async_xfs'), 'yes');
  assert.is(await reboots(1, '_reboot_off', 'sysbench_sys', 'dbench4_async_xfs'), 'no');
  assert.is(await reboots(0, 'sysbench_sys', '_reboot_off', 'dbench4_async_xfs'), 'yes', 'the switch is read when QASET reaches it');
  assert.is(await reboots(3, '_reboot_off', 'a', '_reboot_on', 'b', 'c'), 'yes');
});

test.run();
