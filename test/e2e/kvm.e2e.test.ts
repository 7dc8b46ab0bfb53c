// The kvm scenario end to end on the local lab, through the real CLI: lab hypervisor hosts (real
// sshd) drive this machine's libvirtd (qemu:///system) to boot task A's Debian systemd test guest
// under TCG, whose QASET stand-in runs the real benchmarks, started by QASET's own boot service.
// One sweep, three hosts at once:
//   lab-01  a GOLDEN image carrying a stale run (DONE, STOP, SYSTEM_DIRTY, NEXT_RUN, RUN_ID,
//           lock.d, list.failed, an old tarball): reset at injection, then sysbench_sys (the guest
//           reboots after it), a case QASET has no script for (fails: list.failed), dbench on xfs;
//           host preparation on a loop device; debugfs; values checked against the raw outputs
//   lab-02  a point libvirt cannot start (vCPU pinned to a CPU this machine lacks), then the
//           operator's `qaset stop` during sysbench_sys (the stand-in's test hook): `stopped`
//   lab-03  QASET disabled on the kernel command line (qaset=off): no progress, `stalled`, with
//           the reason; a qcow2 overlay, inputs in and logs out with guestfish
// Then a SIGTERM while a guest runs. Nothing is left behind (domains, images, mounts, loops).
// Needs root, libvirt, qemu, guestfish and the lab guest (bash test/install-deps.sh): missing, the
// tests fail in CI and are counted as skipped elsewhere.
import { filesUnder } from '../support/file-tree.js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labUp, type Lab } from '../lab/lab.js';
import { hypervisorMissing, hypervisorUp, labGuestParams, smallPointParams, writeKvmInventory, type HypervisorLab } from '../lab/hypervisor.js';
import { MetricsFileSchema, type MetricSample } from '../../orchestrator/results/metrics.js';
import { PointRecordSchema, type PointRecord } from '../../orchestrator/scenarios/kvm/normalize.js';
import { guardedSuite, missingRequirement } from '../support/requirements.js';
import { jobManifest, onlySweep, runCli, startCli } from './cli-helpers.js';

const run = promisify(execFile);
const e2e = suite('kvm scenario end to end (systemd guest, QASET stand-in)');
const missing = await missingRequirement(hypervisorMissing, () =>
  run('sh', ['-c', 'command -v guestfish && command -v losetup']).then(
    () => null,
    () => 'guestfish (libguestfs-tools) not installed (bash test/install-deps.sh)',
  ),
);
const it = guardedSuite(e2e, missing, 'the kvm end-to-end tests');
let lab: Lab | undefined;
let hv: HypervisorLab | undefined;
let work = '';
let loopDevice = '';

const STALE_DONE = '2020-01-01-00-00-00';
/** Small benchmark sizes for the stand-in (its config keys). */
const SMALL = { STANDIN_SYSBENCH_TIME: 1, STANDIN_SYSBENCH_THREADS: '1', STANDIN_DBENCH_TIME: 3, STANDIN_DBENCH_CLIENTS: 1 };

e2e.before(async () => {
  if (missing) return;
  // the images, the lab and the sweeps' results live under /var/tmp: qemu (its own user) must reach them
  work = await mkdtemp('/var/tmp/kvm-e2e-');
  await chmod(work, 0o755);
  const t0 = Date.now();
  hv = await hypervisorUp();
  lab = await labUp({ subnet: 120, hosts: 3, dir: join(work, 'lab'), reports: false });
  const disk = join(work, 'sacrificial.img');
  await writeFile(disk, '');
  await truncate(disk, 1 << 30);
  loopDevice = (await run('losetup', ['--find', '--show', '--partscan', disk])).stdout.trim();
  console.log(`kvm e2e: hypervisor, lab and ${loopDevice} up in ${Date.now() - t0} ms`);
});

e2e.after(async () => {
  if (loopDevice) await run('losetup', ['-d', loopDevice]).catch(() => {});
  await lab?.down();
  await hv?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A copy of the lab's golden image that ran QASET before: the state a point must not inherit. */
async function staleGolden(h: HypervisorLab): Promise<string> {
  const dir = join(work, 'golden');
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  const image = join(dir, 'golden-after-a-run.img');
  await run('cp', ['--sparse=always', h.baseImage, image]);
  const stage = join(dir, 'stage');
  await mkdir(stage, { recursive: true });
  const files: Record<string, string> = {
    DONE: `${STALE_DONE}\n`,
    STOP: '\n',
    SYSTEM_DIRTY: `${STALE_DONE}\n`,
    NEXT_RUN: '7 stale_case\n',
    RUN_ID: 'SQ_TEST_RUN_ID=20200101\n',
    'list.failed': ' stale_case\n',
    'old.tar.bz2': 'not a tarball of this point\n',
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(stage, name), text);
  const cmds = [
    'mkdir /var/log/qaset', 'mkdir /var/log/qaset/control', 'mkdir /var/log/qaset/lock.d', 'mkdir /var/log/qaset/log', 'mkdir /root/qaset',
    ...['DONE', 'STOP', 'SYSTEM_DIRTY', 'NEXT_RUN', 'RUN_ID'].map((f) => `write ${join(stage, f)} /var/log/qaset/control/${f}`),
    `write ${join(stage, 'old.tar.bz2')} /var/log/qaset/log/stale_case-ACAP2-20200101-20200101T000000.tar.bz2`,
    `write ${join(stage, 'list.failed')} /root/qaset/list.failed`,
  ];
  await writeFile(join(stage, 'cmds'), `${cmds.join('\n')}\n`);
  await run('debugfs', ['-w', '-f', join(stage, 'cmds'), image]);
  assert.match((await run('debugfs', ['-R', 'cat /var/log/qaset/control/DONE', image])).stdout, new RegExp(STALE_DONE), 'the golden copy carries a stale DONE');
  await chmod(image, 0o644);
  return image;
}

const pointRecord = async (jobDir: string, id: string): Promise<PointRecord> =>
  PointRecordSchema.parse(JSON.parse(await readFile(join(jobDir, 'raw/artifacts/points', id, 'point.json'), 'utf8')));
const watchLines = async (jobDir: string, id: string) =>
  (await readFile(join(jobDir, 'raw/artifacts/points', id, 'qaset-watch.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const of = (samples: MetricSample[], metric: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v));


async function nothingLeft(sweepId: string, hostPattern: RegExp): Promise<void> {
  const domains = (await run('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name'])).stdout;
  assert.not.match(domains, hostPattern);
  const tag = sweepId.replace(/[^A-Za-z0-9_.-]/g, '_');
  assert.equal((await readdir(hv!.imagesDir)).filter((n) => n.includes(tag)), []);
  assert.equal((await readdir(hv!.backingDir)).filter((n) => n.includes(tag)), []);
}

it('a stale golden image is reset and runs: reboot between cases, a failed case, parsed results; a STOP ends a point `stopped`; no progress ends one `stalled`; nothing left behind', async () => {
  const golden = await staleGolden(hv!);
  const results = join(work, 'results');
  const lab01 = {
    matrix: { topologies: [{ vcpus: 1, sockets: 1, cores: 1, threads: 1 }], backing: ['xfs'], cache: ['writeback'], io: ['threads'], memory_mib: [768], network_model: ['none'] },
    guest: { ...labGuestParams(hv!, 'debugfs'), base_image: golden },
    qaset: { run_list: ['sysbench_sys', 'nosuch_case', 'dbench4_async_xfs'], prepared: true, config: SMALL, timeout: '25m', stall_timeout: '10m', poll_interval: 2 },
    host_disk: { device: loopDevice, allow_wipe: true, filesystems: [{ name: 'xfs', fs: 'xfs' }], mount_root: join(hv!.imagesDir, '..', 'mounts-e2e') },
    domain_type: 'qemu',
    test_disk_size: '512M',
    images_dir: hv!.imagesDir,
  };
  const lab02 = smallPointParams(hv!, {
    backing: 'e2estop',
    qaset: { run_list: ['sysbench_sys', 'dbench4_async_xfs'], prepared: true, config: { ...SMALL, STANDIN_OPERATOR_STOP_DURING: 'sysbench_sys' }, timeout: '25m', stall_timeout: '10m', poll_interval: 2 },
    extra: { domain_type: 'qemu' },
  });
  // vCPU 0 pinned to a host CPU this machine does not have: libvirt defines it, qemu cannot start it
  (lab02['matrix'] as Record<string, unknown>)['topologies'] = [
    { name: 'pinbad', vcpus: 1, sockets: 1, cores: 1, threads: 1, pinning: { '0': 4000 } },
    { vcpus: 1, sockets: 1, cores: 1, threads: 1 },
  ];
  (lab02['matrix'] as Record<string, unknown>)['memory_mib'] = [768];
  const lab03 = smallPointParams(hv!, {
    backing: 'e2estall',
    inject: 'guestfish',
    // the built image with its kernel command line changed (qaset=off), not guest.install's
    guestFrom: 'base',
    qaset: { run_list: ['sysbench_sys'], prepared: true, config: SMALL, timeout: '25m', stall_timeout: '60s', poll_interval: 2 },
    extra: { domain_type: 'qemu' },
  });
  (lab03['matrix'] as Record<string, unknown>)['memory_mib'] = [768];
  (lab03['guest'] as Record<string, unknown>)['cmdline'] = `${hv!.cmdline} qaset=off`;
  const inventory = await writeKvmInventory(lab!, { file: join(work, 'kvm.yaml'), resultsDir: results, kvm: { 'lab-01': lab01, 'lab-02': lab02, 'lab-03': lab03 } });
  const t0 = Date.now();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  console.log(`kvm e2e: sweep of three hypervisors ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  // lab-02 and lab-03 finish no point: their jobs fail, so the sweep exits 1
  assert.is(code, 1, `${stdout}\n${stderr}`);
  const { dir, sweep } = await onlySweep(results);

  // --- lab-01: the stale golden image, reset and run to DONE --------------------------------
  const job1 = join(dir, 'jobs', 'lab-01--kvm');
  const m1 = await jobManifest(dir, 'lab-01--kvm');
  assert.is(m1.status, 'ok', JSON.stringify(m1.errors));
  const id1 = 'smp1x1x1-xfs-raw-writeback-threads-virtio-m768-net.none-r1';
  assert.equal(m1.phases.map((p) => [p.name, p.status]), [['provenance', 'ok'], ['check', 'ok'], ['host-prepare', 'ok'], [`point-${id1}`, 'ok'], ['cleanup', 'ok'], ['host-teardown', 'ok']]);
  const p1 = await pointRecord(job1, id1);
  console.log(`kvm e2e: ${id1}: ${Object.entries(p1.timings_ms).map(([k, v]) => `${k} ${v} ms`).join(', ')}; reboots ${p1.reboots_ms?.join(' ')} ms`);
  assert.is(p1.status, 'done', JSON.stringify(p1));
  assert.match(p1.done, /^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
  assert.is.not(p1.done, STALE_DONE, 'DONE is this run\'s, not the golden image\'s');
  assert.is(p1.next_run, ' ', 'NEXT_RUN blank: the last case ran');
  assert.is(p1.boots, 2, 'one reboot, after sysbench_sys (the failed case reboots nothing)');
  assert.is(p1.reboots_ms!.length, 1);
  assert.is(p1.progress_from, 'channel');
  assert.is(p1.watch_rejected, 0);
  assert.is(p1.qaset_start, 'service');
  assert.match(p1.run_id!, /^SQ_TEST_RUN_ID=\d{8}$/);
  assert.is.not(p1.run_id, 'SQ_TEST_RUN_ID=20200101', 'the stale run id was removed; QASET made one');
  assert.equal(p1.cases, { finished: ['sysbench_sys', 'nosuch_case', 'dbench4_async_xfs'], passed: ['sysbench_sys', 'dbench4_async_xfs'], failed: ['nosuch_case'], unfinished: '', last: '' });
  // started by QASET's boot service, not by anything of ours: the watcher saw qaperf.service run it
  const lines1 = await watchLines(job1, id1);
  assert.is(new Set(lines1.map((l) => l['boot'])).size, 2);
  assert.ok(lines1.some((l) => String(l['service']).startsWith('loaded/active/') && l['qaset_running'] === true), 'qaperf.service ran QASET');
  assert.match(await readFile(join(job1, 'raw/artifacts/points', id1, 'serial.log'), 'utf8'), /Started .*qaperf\.service/);
  // collected: /var/log/qaset (this run's tarballs only), /var/log/qa, list.failed
  const art1 = join(job1, 'raw/artifacts/points', id1);
  const tarballs = (await readdir(join(art1, 'qaset/log'))).sort();
  assert.equal(tarballs.map((t) => t.replace(/-ACAP2-\d{8}-\d{8}T\d{6}\.tar\.bz2$/, '')), ['dbench4_async_xfs', 'nosuch_case', 'sysbench_sys']);
  assert.is(await readFile(join(art1, 'list.failed'), 'utf8'), ' nosuch_case\n', 'QASET\'s real line: the date(1) format lacks its "+"');
  assert.ok((await stat(join(art1, 'qa'))).isDirectory());
  // the metrics: each case's pass/fail, and values that match the raw outputs
  const metrics1 = MetricsFileSchema.parse(JSON.parse(await readFile(join(job1, 'metrics.json'), 'utf8')));
  assert.equal(of(metrics1.samples, 'qaset.case.passed').map((s) => [s.labels['case'], s.value]), [['sysbench_sys', 1], ['nosuch_case', 0], ['dbench4_async_xfs', 1]]);
  assert.is(of(metrics1.samples, 'kvm.point.boots')[0]!.value, 2);
  const logs = join(job1, 'qaset-logs', id1);
  const unpacked = await filesUnder(logs);
  const cpuFile = unpacked.find((f) => f.includes('sysbench_sys') && f.endsWith('/sysbench-cpu'));
  assert.ok(cpuFile, unpacked.join('\n'));
  const cpuEps = [...(await readFile(join(logs, cpuFile!), 'utf8')).matchAll(/events per second:\s*([\d.]+)/g)].map((m) => Number(m[1]));
  assert.ok(cpuEps.length >= 1);
  assert.equal(of(metrics1.samples, 'sysbench.cpu.events_per_sec', { case: 'sysbench_sys' }).map((s) => s.value), cpuEps);
  for (const s of of(metrics1.samples, 'sysbench.cpu.events_per_sec')) assert.is(s.labels['threads'], '1');
  const dbenchFile = unpacked.find((f) => f.includes('dbench4_async_xfs') && /dbench4-async$/.test(f));
  assert.ok(dbenchFile, unpacked.join('\n'));
  const throughput = [...(await readFile(join(logs, dbenchFile!), 'utf8')).matchAll(/Throughput ([\d.]+) MB\/sec/g)].map((m) => Number(m[1]));
  assert.ok(throughput.length >= 1 && throughput.every((v) => v > 0));
  assert.equal(of(metrics1.samples, 'dbench.throughput', { case: 'dbench4_async_xfs' }).map((s) => s.value), throughput);
  assert.is(of(metrics1.samples, 'qaset.outputs.unparsed')[0]!.value, 0);
  const lsblk = (await run('lsblk', ['-nrpo', 'NAME,MOUNTPOINT', loopDevice])).stdout.trim().split('\n');
  assert.is(lsblk.length, 1, `partitions left on ${loopDevice}: ${lsblk.join(' | ')}`);
  assert.is((await run('wipefs', ['-n', loopDevice])).stdout.trim(), '');

  // --- lab-02: libvirt refuses one point; the operator stops QASET during the other -----------
  const job2 = join(dir, 'jobs', 'lab-02--kvm');
  const m2 = await jobManifest(dir, 'lab-02--kvm');
  const [bad, stop] = ['pinbad-dir.e2estop-raw-writeback-threads-virtio-m768-net.none-r1', 'smp1x1x1-dir.e2estop-raw-writeback-threads-virtio-m768-net.none-r1'];
  assert.is(m2.status, 'failed');
  assert.equal(m2.phases.filter((p) => p.name.startsWith('point-')).map((p) => [p.name, p.status, p.exitCode]), [[`point-${bad}`, 'failed', 1], [`point-${stop}`, 'failed', 3]]);
  assert.equal(m2.phases.filter((p) => p.name === 'cleanup' || p.name === 'host-teardown').map((p) => p.status), ['ok', 'ok']);
  const pBad = await pointRecord(job2, bad);
  assert.is(pBad.status, 'failed');
  assert.match(pBad.error, /^virsh (define|start): \S/);
  const pStop = await pointRecord(job2, stop);
  assert.is(pStop.status, 'stopped', JSON.stringify(pStop));
  assert.is(pStop.error, 'QASET was stopped (control/STOP): the run ended without DONE');
  assert.is(pStop.done, '');
  assert.is(pStop.stop, true);
  assert.is(pStop.boots, 1, 'no reboot after a stop');
  assert.equal(pStop.cases, { finished: ['sysbench_sys'], passed: ['sysbench_sys'], failed: [], unfinished: '', last: 'sysbench_sys' });
  assert.ok(m2.errors.some((e) => e.kind === 'normalize' && e.message.includes(`${stop} stopped`)), JSON.stringify(m2.errors));
  // no point finished, so the job wrote no metrics; the points summary still has each one's cases
  const summary2 = JSON.parse(await readFile(join(job2, 'kvm-points.json'), 'utf8')) as { points: { id: string; status: string; cases?: { passed: string[] } }[] };
  assert.equal(summary2.points.map((p) => [p.id, p.status, p.cases?.passed]), [[bad, 'failed', []], [stop, 'stopped', ['sysbench_sys']]]);

  // --- lab-03: QASET never starts: stalled, and why ------------------------------------------
  const job3 = join(dir, 'jobs', 'lab-03--kvm');
  const id3 = 'smp1x1x1-dir.e2estall-raw-writeback-threads-virtio-m768-net.none-r1';
  const p3 = await pointRecord(job3, id3);
  assert.is(p3.status, 'stalled', JSON.stringify(p3));
  assert.match(p3.error, /^stalled: QASET is not running and started no case \(service loaded\/(active|inactive)\/\w+, exit 0\)/);
  // followed through the channel: no guestfish appliance per poll (a boot slower than the disk-read
  // grace may cost a read or two before the watcher's first line)
  assert.is(p3.progress_from, 'channel');
  assert.ok(p3.watch_lines! >= 2 && p3.watch_rejected === 0, JSON.stringify(p3));
  assert.is(p3.qaset_collected, true, 'collected through guestfish');
  assert.is(p3.timings_ms.run! >= 55_000, true, `ran until the stall time: ${p3.timings_ms.run} ms`);

  await nothingLeft(sweep.sweepId, /orch-lab-0[123]-/);
});

it('SIGTERM while a guest runs: the point is marked interrupted, the guest and its images are gone, exit 130', async () => {
  const results = join(work, 'results-term');
  const params = smallPointParams(hv!, { backing: 'e2eterm', qaset: { run_list: ['sysbench_sys'], prepared: true, config: { ...SMALL, STANDIN_SYSBENCH_TIME: 120 }, timeout: '20m', poll_interval: 1 }, extra: { domain_type: 'qemu' } });
  (params['matrix'] as Record<string, unknown>)['memory_mib'] = [768];
  const inventory = await writeKvmInventory(lab!, { file: join(work, 'term.yaml'), resultsDir: results, kvm: { 'lab-01': params } });
  const cli = startCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  await cli.waitFor(/QASET case 1\/1 sysbench_sys/, 600_000);
  const t0 = Date.now();
  cli.child.kill('SIGTERM');
  assert.is(await cli.exit, 130, cli.stdout() + cli.stderr());
  assert.ok(Date.now() - t0 < 90_000, 'stopped promptly');
  const { dir, sweep } = await onlySweep(results);
  assert.is(sweep.status, 'interrupted');
  const id = 'smp1x1x1-dir.e2eterm-raw-writeback-threads-virtio-m768-net.none-r1';
  const m = await jobManifest(dir, 'lab-01--kvm');
  assert.is(m.status, 'interrupted');
  assert.is(m.phases.find((p) => p.name === `point-${id}`)?.status, 'interrupted');
  assert.equal(m.phases.filter((p) => p.name === 'cleanup' || p.name === 'host-teardown').map((p) => p.status), ['ok', 'ok']);
  const point = await pointRecord(join(dir, 'jobs', 'lab-01--kvm'), id);
  assert.is(point.status, 'interrupted');
  assert.is(point.next_run, ' ', 'the only case was running: NEXT_RUN blank, as QASET writes it');
  assert.is(point.cases?.last, 'sysbench_sys');
  assert.is(point.cases?.unfinished, 'sysbench_sys');
  await stat(join(dir, 'jobs', 'lab-01--kvm', 'raw/artifacts/points', id, 'rrd', 'index.json'));
  await nothingLeft(sweep.sweepId, /orch-lab-01-/);
});

e2e.run();
