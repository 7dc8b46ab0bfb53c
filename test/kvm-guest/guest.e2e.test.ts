// End-to-end: a real tiny guest (Debian kernel + busybox initramfs from build-guest.ts) booted
// under QEMU's software emulation (domain type qemu; /dev/kvm is unusable here) through
// libvirt qemu:///system, with the domain XML from buildDomainXml. The base disk (vda) is a
// sparse copy of the cached raw ext4 image from base-image.ts (the QASET stand-in plus real fio
// and sysbench with their libraries) into which /root/qaset/{list,config} are written with
// debugfs; the test disk (vdb) is a raw image with a GPT label and one partition (/dev/vdb1,
// SQ_ABUILD_PARTITION). The stand-in runs real busybox programs, fio and sysbench and leaves
// QASET's /var/log/qaset layout on vda, which is copied out with debugfs rdump and read with
// orchestrator/qaset's walker, whose fio and sysbench parsers must understand the real outputs.
// The guest has no network interface. Needs root, virsh/libvirtd/qemu-system-x86, busybox-static,
// linux-image-amd64, e2fsprogs, parted, fio, sysbench; skipped (with the reason) otherwise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildDomainXml } from '../../orchestrator/scenarios/kvm/domain-xml.js';
import type { MatrixPoint } from '../../orchestrator/scenarios/kvm/matrix.js';
import { parseQasetPath, type QasetParseResult } from '../../orchestrator/qaset/walker.js';
import { buildBaseImage, type BaseImage } from './base-image.js';
import { buildGuest, CACHE_ROOT, type GuestImages } from './build-guest.js';
import { startLibvirtd, URI, type Libvirtd } from './libvirtd.js';
import { hypervisorMissing } from '../lab/hypervisor.js';

const run = promisify(execFile);
const BOOT_TIMEOUT_MS = 90_000;


let skip: string | null = null;
let lab: Libvirtd | null = null;
let guest: GuestImages;
let baseImage: BaseImage;
let work = '';
const domains: string[] = [];

test.before(async () => {
  console.time('kvm-guest: before');
  skip = await hypervisorMissing();
  if (skip) {
    console.log(`kvm-guest e2e skipped: ${skip}`);
    return;
  }
  const t0 = Date.now();
  guest = await buildGuest();
  console.log(`kvm-guest: guest ${guest.cached ? 'reused' : 'built'} (${guest.kernelVersion}) in ${Date.now() - t0} ms`);
  const t1 = Date.now();
  baseImage = await buildBaseImage();
  console.log(`kvm-guest: base image ${baseImage.cached ? 'reused' : 'built'} (${(baseImage.bytes / 2 ** 20).toFixed(0)} MiB) in ${Date.now() - t1} ms`);
  lab = await startLibvirtd();
  await fsp.mkdir(path.join(CACHE_ROOT, 'runs'), { recursive: true });
  work = await fsp.mkdtemp(path.join(CACHE_ROOT, 'runs', 'e2e-'));
  await fsp.chmod(work, 0o755);
  console.timeEnd('kvm-guest: before');
});

test.after(async () => {
  console.time('kvm-guest: after');
  for (const uuid of domains) {
    await run('virsh', ['-q', '-c', URI, 'destroy', uuid]).catch(() => {});
    await run('virsh', ['-q', '-c', URI, 'undefine', uuid]).catch(() => {});
  }
  if (lab) await lab.stop();
  if (work && !process.env['KVM_GUEST_KEEP']) await fsp.rm(work, { recursive: true, force: true });
  console.timeEnd('kvm-guest: after');
});

interface Booted {
  result: QasetParseResult;
  out: string;
  serial: string;
  seconds: number;
}

/** Makes the disks, defines + starts the domain, waits for it to shut off, collects and parses /var/log/qaset. */
async function boot(label: string, topology: MatrixPoint['topology'], runList: string[], memoryMib: number): Promise<Booted> {
  const dir = path.join(work, label);
  await fsp.mkdir(dir, { recursive: true });
  const list = path.join(dir, 'list');
  const config = path.join(dir, 'config');
  await fsp.writeFile(list, `SQ_TEST_RUN_LIST=(\n  ${runList.join('\n  ')}\n)\n`, { mode: 0o644 });
  await fsp.writeFile(
    config,
    [
      'SQ_TEST_RUN_SET=performance',
      '_QASET_ROLE=Virt-Performance',
      'KVM=1',
      `_QASET_RUNID=e2e${label}`,
      'SQ_ABUILD_PARTITION=/dev/vdb1',
      'STANDIN_DD_MB=16',
      'STANDIN_LOOP_N=20000',
      'STANDIN_FIO_MB=16',
      'STANDIN_SYSBENCH_TIME=2',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const base = path.join(dir, 'base.img');
  const testImg = path.join(dir, 'test.img');
  await run('cp', ['--sparse=always', baseImage.path, base]);
  // debugfs exits 0 even when a command fails ("write" refuses to overwrite): read the files back
  await run('debugfs', ['-w', '-R', `write ${list} /root/qaset/list`, base]);
  await run('debugfs', ['-w', '-R', `write ${config} /root/qaset/config`, base]);
  for (const [local, inImage] of [[list, '/root/qaset/list'], [config, '/root/qaset/config']] as const) {
    const back = (await run('debugfs', ['-R', `cat ${inImage}`, base])).stdout;
    assert.is(back, await fsp.readFile(local, 'utf8'), `${inImage} in ${base}`);
  }
  await fsp.writeFile(testImg, '');
  await fsp.truncate(testImg, 64 << 20);
  await run('parted', ['-s', testImg, 'mklabel', 'gpt', 'mkpart', 'test', '1MiB', '100%']);
  const serial = path.join(dir, 'serial.log');
  const uuid = randomUUID();
  const { xml, guestTestDevice } = buildDomainXml({
    name: `orchestrate-e2e-${label}-${uuid.slice(0, 8)}`,
    uuid,
    domainType: 'qemu',
    point: { topology, format: 'raw', cache: 'none', io: 'native', bus: 'virtio-blk', memoryMib, networkModel: 'none' },
    kernel: guest.kernel,
    initrd: guest.initrd,
    cmdline: 'console=ttyS0 panic=-1 loglevel=4',
    baseImage: base,
    testImage: testImg,
    serialLog: serial,
    onReboot: 'destroy',
  });
  assert.is(guestTestDevice, '/dev/vdb');
  assert.not.match(xml, /<interface/);
  const xmlFile = path.join(dir, 'domain.xml');
  await fsp.writeFile(xmlFile, xml);
  await run('virsh', ['-q', '-c', URI, 'define', xmlFile]);
  domains.push(uuid);
  const t0 = Date.now();
  await run('virsh', ['-q', '-c', URI, 'start', uuid]);
  let state = '';
  while (Date.now() - t0 < BOOT_TIMEOUT_MS) {
    state = (await run('virsh', ['-q', '-c', URI, 'domstate', uuid])).stdout.trim();
    if (state === 'shut off') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const seconds = (Date.now() - t0) / 1000;
  const serialText = await fsp.readFile(serial, 'utf8').catch(() => '');
  if (state !== 'shut off') {
    await run('virsh', ['-q', '-c', URI, 'destroy', uuid]).catch(() => {});
    throw new Error(`${label}: guest still "${state}" after ${BOOT_TIMEOUT_MS} ms; serial tail:\n${serialText.slice(-3000)}`);
  }
  await run('virsh', ['-q', '-c', URI, 'undefine', uuid]);
  domains.splice(domains.indexOf(uuid), 1);
  const out = path.join(dir, 'out');
  await fsp.mkdir(out);
  await run('debugfs', ['-R', `rdump /var/log/qaset ${out}`, base]);
  const result = await parseQasetPath(path.join(out, 'qaset'));
  // the raw per-test outputs, for the assertions below (the walker extracts into a temp dir it removes)
  const raw = path.join(dir, 'raw');
  await fsp.mkdir(raw);
  for (const tarball of await fsp.readdir(path.join(out, 'qaset', 'log'))) await run('tar', ['-xjf', path.join(out, 'qaset', 'log', tarball), '-C', raw]);
  console.log(`kvm-guest: ${label}: boot-to-shut-off ${seconds.toFixed(1)} s; tests ${result.tests.map((t) => `${t.name}=${t.time}s`).join(' ')}`);
  return { result, out: path.join(out, 'qaset'), serial: serialText, seconds };
}

test('2-core guest runs the QASET stand-in; /var/log/qaset parses', async () => {
  if (skip) return;
  const cases = ['dd_seqio', 'cpu_loop', 'numa_nodes', 'fio_seqio', 'sysbench_cpu', 'sysbench_memory'];
  const b = await boot('smp1x2x1', { vcpus: 2, sockets: 1, cores: 2, threads: 1 }, ['_reboot_off', ...cases], 256);
  const r = b.result;
  assert.ok(r.done, `DONE missing; serial:\n${b.serial.slice(-3000)}`);
  assert.match(r.done!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.equal(r.nextRun, { index: 7, name: 'sysbench_memory' });
  assert.is(r.runId, 'e2esmp1x2x1');
  assert.equal(r.rejected, []);
  const names = r.tests.map((t) => t.name).sort();
  assert.equal(names, [
    'bzip2-compress', 'dd-seq-read', 'dd-seq-write', 'fio-seq-read', 'fio-seq-write', 'numa-nodes', 'sh-arith-loop', 'sysbench-cpu', 'sysbench-memory',
  ]);
  for (const t of r.tests) {
    assert.is(t.fail, 0, `${t.name}; serial:\n${b.serial.slice(-3000)}`);
    assert.is(t.succeed, 1, t.name);
    assert.is(t.count, 1, t.name);
    assert.is(t.interr, 0, t.name);
    assert.ok(t.time > 0, `${t.name}: time ${t.time}`);
    assert.match(t.tcf, /^qa_standin_\w+-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
  }
  const succeed = r.samples.filter((s) => s.metric === 'ctcs2.succeed');
  assert.is(succeed.length, 9);
  // QASET layout: one tarball per case, one screenlog per case
  const logs = (await fsp.readdir(path.join(b.out, 'log'))).sort();
  assert.is(logs.length, cases.length, logs.join(' '));
  for (const c of cases) {
    assert.ok(logs.some((l) => new RegExp(`^${c}-ACAP2-e2esmp1x2x1-\\d{8}T\\d{6}\\.tar\\.bz2$`).test(l)), `${c} tarball in ${logs.join(' ')}`);
  }
  const screens = await fsp.readdir(path.join(b.out, 'runs'));
  for (const c of cases) assert.ok(screens.some((s) => new RegExp(`^${c}-\\d{4}T\\d{4}\\.screenlog$`).test(s)), `${c} screenlog in ${screens.join(' ')}`);
  // the raw outputs are real program outputs; the walker reports dd/time ones as unparsed (no parser for them)
  const raw = async (name: string) => {
    const tcfDir = path.join(b.out, '..', '..', 'raw');
    const found = (await run('find', [tcfDir, '-type', 'f', '-name', name])).stdout.trim().split('\n')[0]!;
    return fsp.readFile(found, 'utf8');
  };
  const w = await raw('dd-seq-write');
  assert.match(w, /^target: \/dev\/vdb1$/m);
  const rate = /dd: (\d+) bytes in ([\d.]+) s, ([\d.]+) MB\/s/.exec(w);
  assert.ok(rate, w);
  assert.is(Number(rate![1]), 16 << 20);
  assert.ok(Number(rate![2]) > 0 && Number(rate![3]) > 0, w);
  assert.match(await raw('sh-arith-loop'), /counted: 20000[\s\S]*real\s+\d+m\s*[\d.]+s/);
  assert.match(await raw('numa-nodes'), /nodes: 1\ncpus: 2/);
  assert.ok(r.unparsed.some((u) => u.path.endsWith('dd-seq-write')), JSON.stringify(r.unparsed));

  // fio and sysbench: real outputs, parsed by name (fio JSON, sysbench 1.0 text)
  for (const f of ['fio-seq-write', 'fio-seq-read', 'sysbench-cpu', 'sysbench-memory']) {
    assert.not.ok(r.unparsed.some((u) => u.path.endsWith(`/${f}`)), `${f} unparsed: ${JSON.stringify(r.unparsed)}`);
    const p = r.parsed.find((e) => e.path.endsWith(`/${f}`));
    assert.ok(p, `${f} not parsed: ${JSON.stringify(r.parsed)}`);
    assert.is(p!.benchmark, f.split('-')[0]!, f);
  }
  for (const rw of ['write', 'read']) {
    const text = await raw(`fio-seq-${rw}`);
    assert.match(text, /^target: \/dev\/vdb1$/m);
    assert.not.match(text, /direct=1 failed/, 'O_DIRECT works on virtio-blk cache=none');
    const of = (metric: string) => r.samples.filter((s) => s.metric === metric && s.labels['test'] === `fio-seq-${rw}`);
    const bw = of('fio.bw');
    assert.is(bw.length, 1, JSON.stringify(bw));
    assert.is(bw[0]!.unit, 'KiB/s');
    assert.is(bw[0]!.better, 'higher');
    assert.equal({ job: bw[0]!.labels['job'], rw: bw[0]!.labels['rw'], bs: bw[0]!.labels['bs'] }, { job: `seq-${rw}`, rw, bs: '1M' });
    assert.match(bw[0]!.labels['tcf'] ?? '', /^qa_standin_fio_seqio-/);
    assert.ok(bw[0]!.value > 0, `fio ${rw} bw ${bw[0]!.value}`);
    const iops = of('fio.iops');
    assert.is(iops.length, 1);
    assert.is(iops[0]!.unit, 'IOPS');
    assert.ok(iops[0]!.value > 0, `fio ${rw} iops ${iops[0]!.value}`);
    const lat = of('fio.lat_mean');
    assert.ok(lat.length === 1 && lat[0]!.unit === 'us' && lat[0]!.value > 0, JSON.stringify(lat));
    // 16 MiB at 1 MiB blocks: the JSON's io_kbytes says all of it moved
    const json = JSON.parse(text.slice(text.indexOf('{'))) as { jobs: Record<string, { io_kbytes: number; total_ios: number }>[] };
    assert.is(json.jobs[0]![rw]!.io_kbytes, 16 * 1024);
    assert.is(json.jobs[0]![rw]!.total_ios, 16);
  }
  const cpu = r.samples.filter((s) => s.metric === 'sysbench.cpu.events_per_sec');
  assert.is(cpu.length, 1, JSON.stringify(cpu));
  assert.is(cpu[0]!.unit, 'events/s');
  assert.is(cpu[0]!.labels['threads'], '2');
  assert.is(cpu[0]!.labels['test'], 'sysbench-cpu');
  assert.ok(cpu[0]!.value > 0, `sysbench cpu events/s ${cpu[0]!.value}`);
  const mem = r.samples.filter((s) => s.metric === 'sysbench.memory.throughput');
  assert.is(mem.length, 1, JSON.stringify(mem));
  assert.is(mem[0]!.unit, 'MiB/s');
  assert.is(mem[0]!.labels['threads'], '2');
  assert.is(mem[0]!.labels['test'], 'sysbench-memory');
  assert.ok(mem[0]!.value > 0, `sysbench memory MiB/s ${mem[0]!.value}`);
  assert.match(await raw('sysbench-cpu'), /^Prime numbers limit: 2000$/m);
});

test('2 NUMA cells: the guest sees 2 nodes', async () => {
  if (skip) return;
  const b = await boot(
    'numa2',
    { vcpus: 2, sockets: 2, cores: 1, threads: 1, numa: [{ cpus: '0', memory_mib: 128 }, { cpus: '1', memory_mib: 128 }] },
    ['numa_nodes'],
    256,
  );
  assert.ok(b.result.done, b.serial.slice(-3000));
  assert.equal(b.result.nextRun, { index: 1, name: 'numa_nodes' });
  assert.equal(b.result.tests.map((t) => [t.name, t.succeed]), [['numa-nodes', 1]]);
  const found = (await run('find', [path.join(b.out, '..', '..', 'raw'), '-type', 'f', '-name', 'numa-nodes'])).stdout.trim();
  const text = await fsp.readFile(found, 'utf8');
  assert.match(text, /node0 cpus=0 /);
  assert.match(text, /node1 cpus=1 /);
  assert.match(text, /nodes: 2\n/);
});

test.run();
