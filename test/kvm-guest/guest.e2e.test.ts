// End-to-end: a real tiny guest (Debian kernel + busybox initramfs from build-guest.ts) booted
// under QEMU's software emulation (domain type qemu; /dev/kvm is unusable here) through
// libvirt qemu:///system, with the domain XML from buildDomainXml. The base disk (vda, ext4 made
// with mkfs.ext4 -d) carries the QASET stand-in and the injected /root/qaset/{list,config}; the
// stand-in runs real busybox programs and leaves QASET's /var/log/qaset layout on vda, which is
// copied out with debugfs rdump and read with orchestrator/qaset's walker.
// The guest has no network interface. Needs root, virsh/libvirtd/qemu-system-x86, busybox-static,
// linux-image-amd64, e2fsprogs; skipped (with the reason) otherwise.
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
import { buildGuest, CACHE_ROOT, type GuestImages } from './build-guest.js';
import { startLibvirtd, URI, type Libvirtd } from './libvirtd.js';

const run = promisify(execFile);
const STANDIN = path.join(path.dirname(new URL(import.meta.url).pathname), 'qaset-standin', 'run.sh');
const BOOT_TIMEOUT_MS = 90_000;

async function missing(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'not root';
  for (const bin of ['virsh', 'libvirtd', 'virtlogd', 'qemu-system-x86_64', 'mkfs.ext4', 'debugfs', 'bzip2']) {
    if (await run('sh', ['-c', `command -v ${bin}`]).then(() => false, () => true)) return `${bin} not installed`;
  }
  if (await fsp.access('/bin/busybox').then(() => false, () => true)) return 'busybox-static not installed';
  return null;
}

let skip: string | null = null;
let lab: Libvirtd | null = null;
let guest: GuestImages;
let work = '';
const domains: string[] = [];

test.before(async () => {
  console.time('kvm-guest: before');
  skip = await missing();
  if (skip) {
    console.log(`kvm-guest e2e skipped: ${skip}`);
    return;
  }
  const t0 = Date.now();
  guest = await buildGuest();
  console.log(`kvm-guest: guest ${guest.cached ? 'reused' : 'built'} (${guest.kernelVersion}) in ${Date.now() - t0} ms`);
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
async function boot(label: string, topology: MatrixPoint['topology'], list: string[], memoryMib: number): Promise<Booted> {
  const dir = path.join(work, label);
  const stage = path.join(dir, 'stage');
  await fsp.mkdir(path.join(stage, 'qaset-standin'), { recursive: true });
  await fsp.mkdir(path.join(stage, 'root', 'qaset'), { recursive: true });
  await fsp.mkdir(path.join(stage, 'var', 'log'), { recursive: true });
  await fsp.copyFile(STANDIN, path.join(stage, 'qaset-standin', 'run.sh'));
  await fsp.chmod(path.join(stage, 'qaset-standin', 'run.sh'), 0o755);
  await fsp.writeFile(path.join(stage, 'root', 'qaset', 'list'), `SQ_TEST_RUN_LIST=(\n  ${list.join('\n  ')}\n)\n`);
  await fsp.writeFile(
    path.join(stage, 'root', 'qaset', 'config'),
    [
      'SQ_TEST_RUN_SET=performance',
      '_QASET_ROLE=Virt-Performance',
      'KVM=1',
      `_QASET_RUNID=e2e${label}`,
      'SQ_ABUILD_PARTITION=/dev/vdb',
      'STANDIN_DD_MB=16',
      'STANDIN_LOOP_N=20000',
      '',
    ].join('\n'),
  );
  const base = path.join(dir, 'base.img');
  const testImg = path.join(dir, 'test.img');
  await run('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', '-L', 'qaset-base', '-d', stage, base, '64M']);
  await fsp.writeFile(testImg, '');
  await fsp.truncate(testImg, 64 << 20);
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
  const list = ['_reboot_off', 'dd_seqio', 'cpu_loop', 'numa_nodes'];
  const b = await boot('smp1x2x1', { vcpus: 2, sockets: 1, cores: 2, threads: 1 }, list, 256);
  const r = b.result;
  assert.ok(r.done, `DONE missing; serial:\n${b.serial.slice(-3000)}`);
  assert.match(r.done!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.equal(r.nextRun, { index: 4, name: 'numa_nodes' });
  assert.is(r.runId, 'e2esmp1x2x1');
  assert.equal(r.rejected, []);
  const names = r.tests.map((t) => t.name).sort();
  assert.equal(names, ['bzip2-compress', 'dd-seq-read', 'dd-seq-write', 'numa-nodes', 'sh-arith-loop']);
  for (const t of r.tests) {
    assert.is(t.fail, 0, t.name);
    assert.is(t.succeed, 1, t.name);
    assert.is(t.count, 1, t.name);
    assert.is(t.interr, 0, t.name);
    assert.ok(t.time > 0, `${t.name}: time ${t.time}`);
    assert.match(t.tcf, /^qa_standin_\w+-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
  }
  const succeed = r.samples.filter((s) => s.metric === 'ctcs2.succeed');
  assert.is(succeed.length, 5);
  // QASET layout: one tarball per case, one screenlog per case
  const logs = (await fsp.readdir(path.join(b.out, 'log'))).sort();
  assert.is(logs.length, 3, logs.join(' '));
  for (const c of ['cpu_loop', 'dd_seqio', 'numa_nodes']) {
    assert.ok(logs.some((l) => new RegExp(`^${c}-ACAP2-e2esmp1x2x1-\\d{8}T\\d{6}\\.tar\\.bz2$`).test(l)), `${c} tarball in ${logs.join(' ')}`);
  }
  const screens = await fsp.readdir(path.join(b.out, 'runs'));
  for (const c of ['cpu_loop', 'dd_seqio', 'numa_nodes']) assert.ok(screens.some((s) => new RegExp(`^${c}-\\d{4}T\\d{4}\\.screenlog$`).test(s)), `${c} screenlog in ${screens.join(' ')}`);
  // the raw outputs are real program outputs; the walker reports them as unparsed (no parser for dd/time)
  const raw = async (name: string) => {
    const tcfDir = path.join(b.out, '..', '..', 'raw');
    const found = (await run('find', [tcfDir, '-type', 'f', '-name', name])).stdout.trim().split('\n')[0]!;
    return fsp.readFile(found, 'utf8');
  };
  const w = await raw('dd-seq-write');
  assert.match(w, /target: \/dev\/vdb/);
  const rate = /dd: (\d+) bytes in ([\d.]+) s, ([\d.]+) MB\/s/.exec(w);
  assert.ok(rate, w);
  assert.is(Number(rate![1]), 16 << 20);
  assert.ok(Number(rate![2]) > 0 && Number(rate![3]) > 0, w);
  assert.match(await raw('sh-arith-loop'), /counted: 20000[\s\S]*real\s+\d+m\s*[\d.]+s/);
  assert.match(await raw('numa-nodes'), /nodes: 1\ncpus: 2/);
  assert.ok(r.unparsed.some((u) => u.path.endsWith('dd-seq-write')), JSON.stringify(r.unparsed));
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
