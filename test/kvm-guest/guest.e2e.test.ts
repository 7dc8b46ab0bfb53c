// End to end, WITHOUT the orchestrator: the lab's Debian 12 systemd guest (lab-guest.ts, from the
// cached Debian tree) booted under QEMU's software emulation (domain type qemu) through libvirt
// qemu:///system, with the orchestrator's buildDomainXml and on_reboot=restart. Each test copies
// the golden image, writes QASET's inputs into the copy with debugfs (run list, config,
// control/PREPARED, the symlinks `systemctl enable qaperf.service` makes) plus the test harness
// unit (e2e-harness/: powers the guest off once QASET is idle), boots it on a fresh test disk
// (/dev/vdb1), and proves from the disk afterwards what QASET's stand-in did: started by
// qaperf.service, one reboot between two cases (journal boots, console), a failed case in
// list.failed, NEXT_RUN/DONE/RUN_ID/SYSTEM_DIRTY as the real ones write them, tarballs named and laid
// out as QASET's holding real benchmark output; a golden copy with a stale DONE finishes at once
// (so whoever boots it must reset it first); qaset=off disables it. Domains are destroyed and undefined by UUID, images removed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { hypervisorMissing } from '../lab/hypervisor.js';
import { guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';
import { bootUntilOff, definedDomains, destroyDomain, dumpImageDir, injectQaset, makeTestDisk, readImageFile, debugfs, type QasetInputs } from './guest-run.js';
import { CACHE_ROOT, labGuest, type LabGuest } from './lab-guest.js';
import { startLibvirtd, type Libvirtd } from './libvirtd.js';

const run = promisify(execFile);
const t = suite('lab guest end to end');
const missing = await missingRequirement(needsRoot, hypervisorMissing);
const e2e = guardedSuite(t, missing, 'the lab guest end-to-end tests');

let guest: LabGuest;
let libvirtd: Libvirtd | null = null;
let work = '';

t.before(async () => {
  if (missing) return;
  const t0 = Date.now();
  guest = await labGuest();
  libvirtd = await startLibvirtd();
  await fsp.mkdir(path.join(CACHE_ROOT, 'runs'), { recursive: true });
  work = await fsp.mkdtemp(path.join(CACHE_ROOT, 'runs', 'guest-e2e-'));
  await fsp.chmod(work, 0o755);
  console.log(`  lab guest ${guest.imageHash} (${guest.cached ? 'cached' : 'assembled'}) and libvirtd in ${Date.now() - t0} ms`);
});

t.after(async () => {
  for (const uuid of [...definedDomains]) await destroyDomain(uuid);
  if (libvirtd) await libvirtd.stop();
  if (work && !process.env['KVM_GUEST_KEEP']) await fsp.rm(work, { recursive: true, force: true });
});

/** Small settings: every case takes seconds (the defaults are QASET's sizes). */
const SMALL = {
  SQ_TEST_RUN_SET: 'performance',
  SQ_ABUILD_PARTITION: '/dev/vdb1',
  STANDIN_SYSBENCH_THREADS: '1 2',
  STANDIN_SYSBENCH_TIME: 1,
  STANDIN_SYSBENCH_MUTEX_LOCKS: 2000,
  STANDIN_DBENCH_CLIENTS: '1 2',
  STANDIN_DBENCH_TIME: 2,
  STANDIN_PGBENCH_SCALE_SMALL: 1,
  STANDIN_PGBENCH_CLIENTS: '1 2',
  STANDIN_PGBENCH_TIME: 2,
};
const PREPARED = { PREPARED: 'prepared by the e2e test\n' };

interface Point {
  dir: string;
  image: string;
  testImage: string;
  serial: string;
}

async function newPoint(label: string): Promise<Point> {
  const dir = path.join(work, label);
  await fsp.mkdir(dir, { recursive: true });
  const image = path.join(dir, 'root.img');
  await run('cp', ['--sparse=always', guest.image, image]);
  const testImage = path.join(dir, 'test.img');
  await makeTestDisk(testImage, 640 << 20);
  return { dir, image, testImage, serial: path.join(dir, 'serial.log') };
}

async function boot(p: Point, label: string, extraCmdline = '') {
  const r = await bootUntilOff({
    label,
    kernel: guest.kernel,
    initrd: guest.initrd,
    cmdline: `${guest.cmdline}${extraCmdline}`,
    image: p.image,
    testImage: p.testImage,
    serialLog: p.serial,
    topology: { vcpus: 2, sockets: 1, cores: 2, threads: 1 },
    memoryMib: 768,
    timeoutMs: 15 * 60_000,
  });
  console.log(`  ${label}: ${r.seconds.toFixed(0)} s start to shut off; multi-user at ${r.multiUserSeconds.map((s) => `${s.toFixed(0)} s`).join(', ')} after start`);
  return r;
}

/** The guest's journal, read on the host. */
async function journal(p: Point, args: string[]): Promise<string> {
  const dir = path.join(p.dir, 'journal-out');
  await fsp.rm(dir, { recursive: true, force: true });
  const j = await dumpImageDir(p.image, '/var/log/journal', dir);
  return (await run('journalctl', ['-D', j, '--no-pager', ...args], { maxBuffer: 64 << 20 })).stdout;
}

async function ls(p: Point, dir: string): Promise<string[]> {
  const out = await debugfs(p.image, [`ls -p ${dir}`]);
  // -p: /inode/mode/uid/gid/name/size/ per entry
  return out
    .split('\n')
    .map((l) => l.split('/')[5] ?? '')
    .filter((n) => n !== '' && n !== '.' && n !== '..');
}

async function untar(tarball: string, into: string): Promise<string[]> {
  await fsp.mkdir(into, { recursive: true });
  await run('tar', ['-xjf', tarball, '-C', into]);
  return fsp.readdir(into);
}

const SYSINFO = [
  'syslog-journalctl.txt', 'installed-pattern.txt', 'lsscsi.txt', 'lspci-k.txt', 'lsmod.txt', 'lscpu.txt', 'cpu-frequency-info.txt',
  'partition-mount.txt', 'cmdline.txt', 'meminfo.txt', 'zoneinfo.txt', 'systemctl-list-units.txt', 'tenv.txt', 'messages.shortlog',
];

e2e('started by qaperf.service, QASET runs the list across one reboot: a failed case, DONE, tarballs of real benchmark output', async () => {
  const p = await newPoint('run');
  const cases = ['sysbench_sys', 'nosuch_case', '_reboot_off', 'dbench4_async_xfs', 'dbench4_osync_ext4', 'pgbench_small_ro_btrfs'];
  const inputs: QasetInputs = { list: cases, config: SMALL, control: PREPARED, enableQaperf: true, harness: true };
  await injectQaset(p.image, path.join(p.dir, 'in'), inputs);
  const r = await boot(p, 'run');

  // one reboot, between sysbench_sys and the next case; QASET was started by its service each boot
  assert.is(r.serial.match(/reboot: Restarting system/g)?.length ?? 0, 1, r.serial.slice(-3000));
  assert.is(r.multiUserSeconds.length, 2, 'the harness saw multi-user twice');
  const boots = (await journal(p, ['--list-boots'])).split('\n').filter((l) => /^\s*-?\d+\s+[0-9a-f]{32}\s/.test(l));
  assert.is(boots.length, 2, boots.join('\n'));
  for (const b of ['-1', '0']) {
    const q = await journal(p, ['-b', b, '-u', 'qaperf.service', '-o', 'cat']);
    assert.match(q, /\[GLOBAL\] Start at/, `boot ${b}: qaset-service ran qaset`);
  }
  const first = await journal(p, ['-b', '-1', '-t', 'root', '-o', 'cat']);
  assert.match(first, /\[QA_SET\] starting sysbench_sys/);
  assert.not.match(first, /\[QA_SET\] starting dbench4_async_xfs/);
  const second = await journal(p, ['-b', '0', '-t', 'root', '-o', 'cat']);
  assert.equal([...second.matchAll(/\[QA_SET\] starting (\S+)/g)].map((m) => m[1]), ['dbench4_async_xfs', 'dbench4_osync_ext4', 'pgbench_small_ro_btrfs']);

  // control files, written as the real QASET writes them
  const ctl = (name: string) => readImageFile(p.image, `/var/log/qaset/control/${name}`);
  const done = await ctl('DONE');
  assert.match(done ?? '', /^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\n$/);
  assert.is(await ctl('NEXT_RUN'), ' \n', 'blank NEXT_RUN ("echo "" """) after the last case');
  const runId = done!.slice(0, 10).replace(/-/g, '');
  assert.is(await ctl('RUN_ID'), `SQ_TEST_RUN_ID=${runId}\n`);
  assert.match((await ctl('SYSTEM_DIRTY')) ?? '', /^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\n$/, 'the last case succeeded: SYSTEM_DIRTY stays (DONE stops the reboot)');
  assert.is(await ctl('STOP'), null);
  assert.not.ok((await ls(p, '/var/log/qaset')).includes('lock.d'), 'lock.d released');
  assert.is(await readImageFile(p.image, '/root/qaset/list.failed'), ' nosuch_case\n', 'QASET\'s `date %Y...` (no +) leaves the date empty');
  assert.not.ok((await ls(p, '/etc/systemd/system/multi-user.target.wants')).includes('qaperf.service'), 'qaperf.service disabled after DONE');
  assert.equal(await ls(p, '/var/log/qa/ctcs2'), [], 'ctcs2 emptied after each case');

  // QASET's layout: runs/ calls/ log/ submission/
  const out = await dumpImageDir(p.image, '/var/log/qaset', path.join(p.dir, 'out'));
  const logs = (await fsp.readdir(path.join(out, 'log'))).sort();
  const realCases = cases.filter((c) => !c.startsWith('_'));
  assert.is(logs.length, realCases.length, logs.join(' '));
  const tarball = (c: string) => {
    const found = logs.find((l) => new RegExp(`^${c}-ACAP2-${runId}-\\d{8}T\\d{6}\\.tar\\.bz2$`).test(l));
    assert.ok(found, `${c}'s tarball in ${logs.join(' ')}`);
    return path.join(out, 'log', found!);
  };
  const screens = await fsp.readdir(path.join(out, 'runs'));
  for (const c of realCases.filter((x) => x !== 'nosuch_case')) assert.ok(screens.some((s) => new RegExp(`^${c}-\\d{4}T\\d{4}\\.screenlog$`).test(s)), `${c} screenlog in ${screens.join(' ')}`);
  assert.not.ok(screens.some((s) => s.startsWith('nosuch_case')), 'a case without a run script never reaches screen');
  const calls = (await fsp.readdir(path.join(out, 'calls'))).filter((f) => f.endsWith('.screenlog'));
  // One call log per boot, named by the minute (as QASET names them): two boots within one
  // minute share one name, and screen appends the second boot's log to it.
  assert.ok(calls.length >= 1 && calls.length <= 2, calls.join(' '));
  for (const c of calls) assert.match(c, new RegExp(`^DEB12-performance-${runId}-\\d{4}T\\d{4}\\.screenlog$`));
  for (const c of realCases) assert.ok(await fsp.stat(path.join(out, 'submission', `submission-${c}.log`)), c);
  // the filesystem cases made /dev/vdb1 into their filesystem and mounted it on /abuild (QASET's log)
  const callLogs = (await Promise.all(calls.map((c) => fsp.readFile(path.join(out, 'calls', c), 'utf8')))).join('\n');
  for (const fs of ['xfs', 'ext4', 'btrfs']) {
    assert.match(callLogs, new RegExp(`format /dev/vdb1 to ${fs} successfully[\\s\\S]*mount /dev/vdb1 /abuild successfully`));
  }

  // the failed case: an empty tarball (tar of an empty ctcs2 fails, as the real one's does)
  assert.equal(await untar(tarball('nosuch_case'), path.join(p.dir, 'x-nosuch')), []);

  // sysbench_sys: four files, one run per thread count (1, 2), real numbers
  const [sbDir, ...sbMore] = await untar(tarball('sysbench_sys'), path.join(p.dir, 'x-sysbench'));
  assert.is(sbMore.length, 0);
  assert.match(sbDir!, /^qa_sysbench-sys-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
  const sb = path.join(p.dir, 'x-sysbench', sbDir!);
  for (const f of SYSINFO) assert.ok(await fsp.stat(path.join(sb, f)), `${f} in ${sbDir}`);
  assert.match(await fsp.readFile(path.join(sb, 'cmdline.txt'), 'utf8'), /root=\/dev\/vda/);
  assert.is(await fsp.readFile(path.join(sb, 'test_results'), 'utf8').then((s) => s.split('\n').filter((l, i) => i % 2 === 1 && l).every((l) => /^0 1 1 \d+ 0 0$/.test(l))), true);
  for (const f of ['sysbench-cpu', 'sysbench-threads', 'sysbench-memory', 'sysbench-mutex']) {
    const text = await fsp.readFile(path.join(sb, f), 'utf8');
    assert.is(text.match(/^sysbench 1\.0\.\d+/gm)?.length, 2, `${f}: one banner per run`);
    assert.equal([...text.matchAll(/^Number of threads: (\d+)$/gm)].map((m) => m[1]), ['1', '2'], f);
  }
  const eps = [...(await fsp.readFile(path.join(sb, 'sysbench-cpu'), 'utf8')).matchAll(/events per second:\s+([\d.]+)/g)].map((m) => Number(m[1]));
  assert.is(eps.length, 2);
  for (const v of eps) assert.ok(v > 0, `events/s ${v}`);

  // dbench on xfs: one "Throughput" line per client count; /abuild was the test disk's xfs
  const [dbDir] = await untar(tarball('dbench4_async_xfs'), path.join(p.dir, 'x-dbench'));
  const db = path.join(p.dir, 'x-dbench', dbDir!);
  const thr = [...(await fsp.readFile(path.join(db, 'dbench4-async'), 'utf8')).matchAll(/^Throughput ([\d.]+) MB\/sec\s+(\d+) clients/gm)];
  assert.equal(thr.map((m) => m[2]), ['1', '2']);
  for (const m of thr) assert.ok(Number(m[1]) > 0, m[0]);

  // dbench with O_SYNC on ext4: the same, from the osync run script (dbench marks it "(sync open)")
  const [osDir] = await untar(tarball('dbench4_osync_ext4'), path.join(p.dir, 'x-osync'));
  assert.match(osDir!, /^qa_dbench-4_0_osync-/);
  const osync = [...(await fsp.readFile(path.join(p.dir, 'x-osync', osDir!, 'dbench4-osync'), 'utf8')).matchAll(/^Throughput ([\d.]+) MB\/sec \(sync open\)\s+(\d+) clients/gm)];
  assert.equal(osync.map((m) => m[2]), ['1', '2']);

  // pgbench read-only on btrfs: its own server, one run per client count, stopped by PID
  const [pgDir] = await untar(tarball('pgbench_small_ro_btrfs'), path.join(p.dir, 'x-pgbench'));
  const pg = path.join(p.dir, 'x-pgbench', pgDir!);
  const runs = await fsp.readFile(path.join(pg, 'pgbench-small-ro'), 'utf8');
  assert.equal([...runs.matchAll(/^number of clients: (\d+)$/gm)].map((m) => m[1]), ['1', '2']);
  assert.match(runs, /^transaction type: <builtin: select only>$/m);
  const tps = [...runs.matchAll(/^tps = ([\d.]+)/gm)].map((m) => Number(m[1]));
  assert.is(tps.length, 2, runs);
  for (const v of tps) assert.ok(v > 0, `tps ${v}`);
  const screen = await fsp.readFile(path.join(out, 'runs', screens.find((s) => s.startsWith('pgbench_small_ro_btrfs-'))!), 'utf8');
  assert.match(screen, /pgbench \(qaset stand-in\): server \d+ stopped/);
});

e2e('a golden copy with a stale DONE finishes at once: nothing runs (the orchestrator must reset it)', async () => {
  const p = await newPoint('stale');
  const stale = '2026-01-01-00-00-00\n';
  await injectQaset(p.image, path.join(p.dir, 'in1'), {
    list: ['sysbench_sys'],
    config: SMALL,
    control: { ...PREPARED, DONE: stale, NEXT_RUN: ' \n', RUN_ID: 'SQ_TEST_RUN_ID=20260101\n' },
    enableQaperf: true,
    harness: true,
  });
  await boot(p, 'stale');
  assert.is(await readImageFile(p.image, '/var/log/qaset/control/DONE'), stale, 'the stale DONE is untouched');
  assert.equal(await ls(p, '/var/log/qaset/log'), [], 'no case ran');
  assert.equal((await ls(p, '/var/log/qaset/runs')).filter((f) => f.endsWith('.screenlog')), []);
  assert.match(await journal(p, ['-u', 'qaperf.service', '-o', 'cat']), /\[GLOBAL\] Start at/, 'qaperf.service started qaset');
  const calls = await dumpImageDir(p.image, '/var/log/qaset/calls', path.join(p.dir, 'calls-out'));
  const callLogs = await Promise.all((await fsp.readdir(calls)).filter((f) => f.endsWith('.screenlog')).map((f) => fsp.readFile(path.join(calls, f), 'utf8')));
  assert.is(callLogs.length, 1);
  assert.match(callLogs[0]!, /This round of runs was already finished at 2026-01-01-00-00-00/);

  assert.is(await readImageFile(p.image, '/var/log/qaset/control/NEXT_RUN'), ' \n');
  assert.ok((await ls(p, '/etc/systemd/system/multi-user.target.wants')).includes('qaperf.service'), 'still enabled: the next boot would end at once again');
  // (that the list runs after `qaset reset` is the protocol test's and the orchestrator's e2e's to show)
});

e2e('qaset=off on the kernel command line: qaperf.service starts and QASET does nothing', async () => {
  const p = await newPoint('off');
  await injectQaset(p.image, path.join(p.dir, 'in'), { list: ['sysbench_sys'], config: SMALL, control: PREPARED, enableQaperf: true, harness: true });
  await boot(p, 'off', ' qaset=off');
  const q = await journal(p, ['-u', 'qaperf.service', '-o', 'cat']);
  assert.match(q, /qaset=off on the kernel command line: not running/);
  assert.not.match(q, /\[GLOBAL\] Start at/);
  assert.is(await readImageFile(p.image, '/var/log/qaset/control/RUN_ID'), null, 'qaset never ran (it writes RUN_ID first)');
  assert.equal((await ls(p, '/var/log/qaset/calls')).filter((f) => f.endsWith('.screenlog')), []);
});

t.run();
