// The kvm scenario end to end on the local lab, through the real CLI: two hypervisor lab hosts
// (real sshd) drive this machine's libvirtd (qemu:///system); real tiny guests (Debian kernel +
// busybox initramfs, domain type qemu) boot, run the QASET stand-in with real benchmark
// programs (fio, sysbench), write QASET's layout and power off; the jobs collect and parse it.
//   lab-01: host preparation on a loop device (named, allow_wipe) -> xfs; two matrix points
//           (1 socket x 2 cores vs 2 NUMA cells); QASET's inputs in with debugfs; raw copies.
//   lab-02: a directory backing store; one point with a qcow2 test disk on a qcow2 overlay of the
//           base image; inputs in and logs out with guestfish (libguestfs), when it is installed.
// Needs root and the packages of test/install-deps.sh; skipped, with the reason, otherwise.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labUp, type Lab } from '../lab/lab.js';
import { hypervisorMissing, hypervisorUp, labGuestParams, smallPointParams, writeKvmInventory, type HypervisorLab } from '../lab/hypervisor.js';
import { MetricsFileSchema, type MetricSample } from '../../orchestrator/results/metrics.js';
import { PointRecordSchema } from '../../orchestrator/scenarios/kvm/normalize.js';
import { jobManifest, onlySweep, runCli, startCli } from './cli-helpers.js';

const run = promisify(execFile);
const e2e = suite('kvm scenario end to end');
let skip: string | null = null;
let lab: Lab | undefined;
let hv: HypervisorLab | undefined;
let work = '';
let loopDevice = '';
let guestfish = false;

e2e.before(async () => {
  skip = await hypervisorMissing();
  if (skip) {
    console.log(`kvm e2e skipped: ${skip}`);
    return;
  }
  guestfish = await run('sh', ['-c', 'command -v guestfish']).then(() => true, () => false);
  work = await mkdtemp(join(tmpdir(), 'kvm-e2e-'));
  const t0 = Date.now();
  hv = await hypervisorUp();
  lab = await labUp({ subnet: 31, hosts: 2, dir: join(work, 'lab'), reports: false });
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

const byPoint = (samples: MetricSample[], metric: string) =>
  Object.fromEntries(samples.filter((s) => s.metric === metric).map((s) => [s.labels['point']!, s]));

e2e('two hypervisors, three points in one sweep: guests boot through libvirt, QASET results and host series per point, nothing left behind', async () => {
  if (skip || !lab || !hv) return;
  const results = join(work, 'results');
  const runList = ['_reboot_off', 'fio_seqio', 'sysbench_cpu', 'numa_nodes'];
  const lab01 = {
    matrix: {
      topologies: [
        { vcpus: 2, sockets: 1, cores: 2, threads: 1 },
        { vcpus: 2, sockets: 2, cores: 1, threads: 1, numa: [{ cpus: '0', memory_mib: 192 }, { cpus: '1', memory_mib: 192 }] },
      ],
      backing: ['xfs'],
      memory_mib: [384],
      network_model: ['none'],
    },
    guest: labGuestParams(hv, 'debugfs'),
    qaset: { run_list: runList, config: { STANDIN_FIO_MB: 8, STANDIN_SYSBENCH_TIME: 2, STANDIN_LOOP_N: 5000 }, timeout: '4m', poll_interval: 1 },
    host_disk: { device: loopDevice, allow_wipe: true, filesystems: [{ name: 'xfs', fs: 'xfs' }], mount_root: join(hv.imagesDir, '..', 'mounts-e2e') },
    domain_type: 'auto',
    test_disk_size: '64M',
    images_dir: hv.imagesDir,
  };
  const lab02 = {
    matrix: {
      topologies: [{ vcpus: 1, sockets: 1, cores: 1, threads: 1 }],
      backing: [{ dir: hv.backingDir, name: 'lab' }],
      format: ['qcow2'],
      cache: ['writeback'],
      io: ['threads'],
      memory_mib: [256],
      network_model: ['none'],
    },
    guest: labGuestParams(hv, guestfish ? 'guestfish' : 'debugfs'),
    qaset: { run_list: ['sysbench_memory', 'numa_nodes'], config: { STANDIN_SYSBENCH_TIME: 1 }, timeout: '5m', poll_interval: guestfish ? 10 : 1 },
    domain_type: 'qemu',
    test_disk_size: '64M',
    images_dir: hv.imagesDir,
  };
  const inventory = await writeKvmInventory(lab, { file: join(work, 'kvm.yaml'), resultsDir: results, kvm: { 'lab-01': lab01, 'lab-02': lab02 } });
  const t0 = Date.now();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  console.log(`kvm e2e: sweep ${((Date.now() - t0) / 1000).toFixed(1)} s (lab-02 inject: ${guestfish ? 'guestfish' : 'debugfs'})`);
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir, sweep } = await onlySweep(results);
  assert.is(sweep.status, 'ok');

  // lab-01: host preparation, two points, debugfs
  const m1 = await jobManifest(dir, 'lab-01--kvm');
  assert.is(m1.status, 'ok', JSON.stringify(m1.errors));
  const ids1 = ['smp1x2x1-xfs-raw-none-native-virtio-m384-net.none-r1', 'smp2x1x1-numa2-xfs-raw-none-native-virtio-m384-net.none-r1'];
  assert.equal(
    m1.phases.map((p) => [p.name, p.status]),
    [['provenance', 'ok'], ['check', 'ok'], ['host-prepare', 'ok'], ...ids1.map((id) => [`point-${id}`, 'ok']), ['cleanup', 'ok'], ['host-teardown', 'ok']],
  );
  const job1 = join(dir, 'jobs', 'lab-01--kvm');
  const hostJson = JSON.parse(await readFile(join(job1, 'raw/artifacts/kvm-host.json'), 'utf8'));
  assert.is(hostJson.mode, 'device');
  assert.equal(hostJson.backings.map((b: { name: string; fs: string }) => [b.name, b.fs]), [['xfs', 'xfs']]);
  const metrics1 = MetricsFileSchema.parse(JSON.parse(await readFile(join(job1, 'metrics.json'), 'utf8')));
  for (const id of ids1) {
    const point = PointRecordSchema.parse(JSON.parse(await readFile(join(job1, 'raw/artifacts/points', id, 'point.json'), 'utf8')));
    assert.is(point.status, 'done', JSON.stringify(point));
    assert.is(point.next_run, '4 numa_nodes');
    assert.match(point.done, /^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
    for (const step of ['prepare', 'inject', 'define', 'boot', 'run', 'collect', 'teardown'] as const) assert.ok(point.timings_ms[step]! >= 0, `${id} ${step}`);
    assert.ok(point.timings_ms.run! > 0);
    assert.ok(point.control_reads! >= 2 && point.control_read_ms! >= 0);
    console.log(`kvm e2e: ${id}: ${Object.entries(point.timings_ms).map(([k, v]) => `${k} ${v} ms`).join(', ')}; ${point.control_reads} control reads of ${point.control_read_ms} ms`);
    const xml = await readFile(join(job1, 'raw/artifacts/points', id, 'domain.xml'), 'utf8');
    assert.match(xml, /<domain type='(qemu|kvm)'>/);
    assert.not.match(xml, /@[A-Z_]+@/);
    const config = await readFile(join(job1, 'raw/artifacts/points', id, 'config'), 'utf8');
    assert.match(config, /^_QASET_ROLE='Virt-Performance'$/m);
    assert.match(config, /^SQ_ABUILD_PARTITION='\/dev\/vdb1'$/m);
    assert.match(config, /^_QASET_RUNID='[A-Za-z0-9]+p\d'$/m);
    const rrdIndex = JSON.parse(await readFile(join(job1, 'raw/artifacts/points', id, 'rrd/index.json'), 'utf8'));
    assert.ok(rrdIndex.series.length >= 4, JSON.stringify(rrdIndex));
  }
  for (const id of ids1) {
    const bw = metrics1.samples.filter((s) => s.metric === 'fio.bw' && s.labels['point'] === id);
    assert.ok(bw.length >= 2, `fio write and read bandwidth of ${id}: ${JSON.stringify(bw)}`);
    for (const s of bw) assert.ok(s.value > 0 && s.unit === 'KiB/s', JSON.stringify(s));
    const eps = metrics1.samples.filter((s) => s.metric === 'sysbench.cpu.events_per_sec' && s.labels['point'] === id);
    assert.is(eps.length, 1, `sysbench cpu of ${id}: ${metrics1.samples.filter((s) => s.metric.startsWith('sysbench')).map((s) => s.metric).join(' ')}`);
    assert.ok(eps[0]!.value > 0);
  }
  const completed = byPoint(metrics1.samples, 'kvm.point.completed');
  assert.equal(Object.keys(completed).sort(), ids1);
  for (const id of ids1) assert.is(completed[id]!.value, 1);
  assert.is(completed[ids1[1]!]!.labels['topology'], 'smp2x1x1-numa2');
  const ctcs = metrics1.samples.filter((s) => s.metric === 'ctcs2.succeed' && s.labels['point'] === ids1[1]);
  assert.ok(ctcs.length >= 4, `ctcs2 results of ${ids1[1]}: ${ctcs.length}`);
  const cpuSeries = metrics1.series.filter((s) => s.metric === 'host.cpu_busy_percent');
  assert.is(cpuSeries.length, 2, metrics1.series.map((s) => s.metric).join(' '));
  for (const s of cpuSeries) assert.ok(s.points.some(([, v]) => v !== null && v > 0), 'the host was busy while a guest ran');
  // the NUMA point's guest saw two nodes (the stand-in's numa-nodes output, inside a QASET tarball)
  const numaSamples = metrics1.samples.filter((s) => s.metric === 'ctcs2.succeed' && s.labels['test'] === 'numa-nodes');
  assert.is(numaSamples.length, 2);
  const points = JSON.parse(await readFile(join(job1, 'kvm-points.json'), 'utf8'));
  assert.equal(points.points.map((p: { id: string; status: string }) => [p.id, p.status]), ids1.map((id) => [id, 'done']));

  // lab-02: a directory backing, qcow2 overlay + qcow2 test disk, guestfish when installed
  const m2 = await jobManifest(dir, 'lab-02--kvm');
  assert.is(m2.status, 'ok', JSON.stringify(m2.errors));
  const id2 = 'smp1x1x1-dir.lab-qcow2-writeback-threads-virtio-m256-net.none-r1';
  const p2 = PointRecordSchema.parse(JSON.parse(await readFile(join(dir, 'jobs', 'lab-02--kvm', 'raw/artifacts/points', id2, 'point.json'), 'utf8')));
  assert.is(p2.status, 'done', JSON.stringify(p2));
  console.log(`kvm e2e: ${id2}: ${Object.entries(p2.timings_ms).map(([k, v]) => `${k} ${v} ms`).join(', ')}; ${p2.control_reads} control reads of ${p2.control_read_ms} ms`);
  const metrics2 = MetricsFileSchema.parse(JSON.parse(await readFile(join(dir, 'jobs', 'lab-02--kvm', 'metrics.json'), 'utf8')));
  assert.ok(metrics2.samples.some((s) => s.metric.startsWith('sysbench.') && s.value > 0 && s.labels['point'] === id2), metrics2.samples.map((s) => s.metric).join(' '));

  // nothing left behind: no domain of the sweep, no image, the loop device wiped and unmounted
  const domains = (await run('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name'])).stdout;
  assert.not.match(domains, /orch-lab-0[12]-/);
  assert.equal((await readdir(hv.imagesDir)).filter((n) => n.includes(sweep.sweepId.replace(/[^A-Za-z0-9_.-]/g, '_'))), []);
  assert.equal(await readdir(hv.backingDir), []);
  const lsblk = (await run('lsblk', ['-nrpo', 'NAME,MOUNTPOINT', loopDevice])).stdout.trim().split('\n');
  assert.is(lsblk.length, 1, `partitions left on ${loopDevice}: ${lsblk.join(' | ')}`);
  const signatures = (await run('wipefs', ['-n', loopDevice])).stdout.trim();
  assert.is(signatures, '');
  await stat(join(job1, 'raw/artifacts/kvm-host-teardown.json'));
});

/** One lab-01 point, debugfs, a directory backing; `qaset` overrides. */
async function onePointInventory(name: string, qaset: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ inventory: string; results: string }> {
  const results = join(work, `results-${name}`);
  const inventory = await writeKvmInventory(lab!, {
    file: join(work, `${name}.yaml`),
    resultsDir: results,
    // the first test covers domain_type auto (and its /dev/kvm probe)
    kvm: { 'lab-01': smallPointParams(hv!, { backing: name, qaset: { poll_interval: 1, ...qaset }, extra: { domain_type: 'qemu', ...extra } }) },
  });
  return { inventory, results };
}

async function nothingLeft(sweepId: string): Promise<void> {
  const domains = (await run('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name'])).stdout;
  assert.not.match(domains, /orch-lab-01-/);
  assert.equal((await readdir(hv!.imagesDir)).filter((n) => n.includes(sweepId.replace(/[^A-Za-z0-9_.-]/g, '_'))), []);
  assert.equal(await readdir(hv!.backingDir), []);
}

e2e('a point that outlives its time limit: stopped, what existed collected, marked timed out; no point finished, so the job fails and says so', async () => {
  if (skip || !lab || !hv) return;
  const { inventory, results } = await onePointInventory('late', { run_list: ['numa_nodes', 'sysbench_cpu', 'numa_nodes'], config: { STANDIN_SYSBENCH_TIME: 150 }, timeout: '50s' }, { keep_images: true });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  assert.is(code, 1, `${stdout}\n${stderr}`);
  const { dir, sweep } = await onlySweep(results);
  const id = 'smp1x1x1-dir.late-raw-writeback-threads-virtio-m256-net.none-r1';
  const m = await jobManifest(dir, 'lab-01--kvm');
  assert.is(m.status, 'failed');
  assert.is(m.phases.find((p) => p.name === `point-${id}`)?.status, 'failed');
  assert.is(m.phases.find((p) => p.name === `point-${id}`)?.exitCode, 3);
  assert.equal(m.phases.filter((p) => p.name === 'cleanup' || p.name === 'host-teardown').map((p) => p.status), ['ok', 'ok']);
  assert.ok(m.errors.some((e) => e.kind === 'normalize' && e.message.includes(`${id} timed-out`)), JSON.stringify(m.errors));
  const point = PointRecordSchema.parse(JSON.parse(await readFile(join(dir, 'jobs', 'lab-01--kvm', 'raw/artifacts/points', id, 'point.json'), 'utf8')));
  assert.is(point.status, 'timed-out');
  assert.is(point.next_run, '2 sysbench_cpu');
  assert.is(point.done, '');
  assert.is(point.qaset_collected, true);
  // the first case finished before the limit: its tarball was collected
  const logs = await readdir(join(dir, 'jobs', 'lab-01--kvm', 'raw/artifacts/points', id, 'qaset', 'log'));
  assert.ok(logs.some((l) => l.startsWith('numa_nodes-ACAP2-')), logs.join(' '));
  const summary = JSON.parse(await readFile(join(dir, 'jobs', 'lab-01--kvm', 'kvm-points.json'), 'utf8'));
  assert.equal(summary.points.map((p: { status: string }) => p.status), ['timed-out']);
  // keep_images: the guest's disk, its serial log and the test disk stay for a look; the domain does not
  const kept = join(hv.imagesDir, `${sweep.sweepId}--lab-01--kvm`.replace(/[^A-Za-z0-9_.-]/g, '_'), id);
  assert.equal((await readdir(kept)).filter((n) => ['guest.raw', 'serial.log', 'domain.xml'].includes(n)).sort(), ['domain.xml', 'guest.raw', 'serial.log']);
  const testDisks = join(hv.backingDir, `orchestrate-${sweep.sweepId}--lab-01--kvm`.replace(/[^A-Za-z0-9_.-]/g, '_'));
  assert.equal(await readdir(testDisks), [`${id}.raw`]);
  await rm(join(kept, '..'), { recursive: true, force: true });
  await rm(testDisks, { recursive: true, force: true });
  await nothingLeft(sweep.sweepId);
});

e2e('a point libvirt cannot start fails alone, with virsh\'s reason; the next point runs; the job is ok', async () => {
  if (skip || !lab || !hv) return;
  const params = smallPointParams(hv, { backing: 'bad', qaset: { run_list: ['numa_nodes'], poll_interval: 1, timeout: '3m' }, extra: { domain_type: 'qemu' } });
  // vCPU 0 pinned to a host CPU this machine does not have: libvirt defines it, qemu cannot start it
  (params['matrix'] as { topologies: unknown[] }).topologies = [
    { name: 'pinbad', vcpus: 1, sockets: 1, cores: 1, threads: 1, pinning: { '0': 4000 } },
    { vcpus: 1, sockets: 1, cores: 1, threads: 1 },
  ];
  const results = join(work, 'results-bad');
  const inventory = await writeKvmInventory(lab, { file: join(work, 'bad.yaml'), resultsDir: results, kvm: { 'lab-01': params } });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir, sweep } = await onlySweep(results);
  const [bad, good] = ['pinbad-dir.bad-raw-writeback-threads-virtio-m256-net.none-r1', 'smp1x1x1-dir.bad-raw-writeback-threads-virtio-m256-net.none-r1'];
  const m = await jobManifest(dir, 'lab-01--kvm');
  assert.is(m.status, 'ok', JSON.stringify(m.errors));
  assert.equal(
    m.phases.filter((p) => p.name.startsWith('point-')).map((p) => [p.name, p.status]),
    [[`point-${bad}`, 'failed'], [`point-${good}`, 'ok']],
  );
  const point = PointRecordSchema.parse(JSON.parse(await readFile(join(dir, 'jobs', 'lab-01--kvm', 'raw/artifacts/points', bad, 'point.json'), 'utf8')));
  assert.is(point.status, 'failed');
  assert.match(point.error, /^virsh (define|start): \S/);
  const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(dir, 'jobs', 'lab-01--kvm', 'metrics.json'), 'utf8')));
  assert.equal(Object.fromEntries(Object.entries(byPoint(metrics.samples, 'kvm.point.completed')).map(([k, s]) => [k, s.value])), { [bad]: 0, [good]: 1 });
  assert.is(metrics.samples.find((s) => s.metric === 'kvm.points.done')?.value, 1);
  await nothingLeft(sweep.sweepId);
});

e2e('SIGTERM while a guest runs: the point is marked interrupted, the guest and its images are gone, exit 130', async () => {
  if (skip || !lab || !hv) return;
  const { inventory, results } = await onePointInventory('stop', { run_list: ['sysbench_cpu'], config: { STANDIN_SYSBENCH_TIME: 120 }, timeout: '5m' });
  const cli = startCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  await cli.waitFor(/QASET test 1\/1 sysbench_cpu/, 90_000);
  const t0 = Date.now();
  cli.child.kill('SIGTERM');
  assert.is(await cli.exit, 130, cli.stdout() + cli.stderr());
  assert.ok(Date.now() - t0 < 60_000, 'stopped promptly');
  const { dir, sweep } = await onlySweep(results);
  assert.is(sweep.status, 'interrupted');
  const id = 'smp1x1x1-dir.stop-raw-writeback-threads-virtio-m256-net.none-r1';
  const m = await jobManifest(dir, 'lab-01--kvm');
  assert.is(m.status, 'interrupted');
  assert.is(m.phases.find((p) => p.name === `point-${id}`)?.status, 'interrupted');
  assert.equal(m.phases.filter((p) => p.name === 'cleanup' || p.name === 'host-teardown').map((p) => p.status), ['ok', 'ok']);
  const point = PointRecordSchema.parse(JSON.parse(await readFile(join(dir, 'jobs', 'lab-01--kvm', 'raw/artifacts/points', id, 'point.json'), 'utf8')));
  assert.is(point.status, 'interrupted');
  assert.is(point.next_run, '1 sysbench_cpu');
  await stat(join(dir, 'jobs', 'lab-01--kvm', 'raw/artifacts/points', id, 'rrd', 'index.json'));
  await nothingLeft(sweep.sweepId);
});

e2e.run();
