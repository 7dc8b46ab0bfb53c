// Domain XML for every point of a sample matrix is accepted by libvirt: (a) the test driver
// (test:///default; define+start+destroy+undefine in one virsh call, since its state lives per
// connection), (b) the real QEMU driver, embedded in virsh (qemu:///embed?root=DIR) — no daemon —
// run as an unprivileged user (a privileged embedded driver wants the libvirt-qemu account).
// The QEMU driver's define validates what the test driver lets through (topology vs vCPUs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildDomainXml, DOMAIN_TYPE_TOKEN, xmlEscape, type DomainInput } from '../../orchestrator/scenarios/kvm/domain-xml.js';
import { matrixPoints, type MatrixPoint } from '../../orchestrator/scenarios/kvm/matrix.js';

const run = promisify(execFile);
let dir = '';

const sample = matrixPoints({
  topologies: [
    { vcpus: 1, sockets: 1, cores: 1, threads: 1 },
    { name: 'smt', vcpus: 4, sockets: 1, cores: 2, threads: 2, pinning: { '0': 0, '1': '0-1', '3': 1 } },
    { vcpus: 4, sockets: 2, cores: 2, threads: 1, numa: [{ cpus: '0-1', memory_mib: 256 }, { cpus: '2-3', memory_mib: 256 }] },
  ],
  backing: ['xfs', 'tmpfs'],
  format: ['raw', 'qcow2'],
  cache: ['none', 'writeback', 'directsync', 'unsafe'],
  io: ['native', 'threads', 'io_uring'],
  bus: ['virtio-blk', 'virtio-scsi', 'sata'],
  memory_mib: [512],
  network_model: ['none'],
  exclude: [{ io: 'native', cache: ['writeback', 'unsafe'] }, { backing: 'tmpfs', format: 'qcow2' }, { backing: 'tmpfs', cache: ['writeback', 'unsafe'] }],
});

function input(point: MatrixPoint, extra: Partial<DomainInput> = {}): DomainInput {
  return {
    name: `kvmtest-${point.id}`,
    uuid: randomUUID(),
    point,
    kernel: '/var/lib/kvm/vmlinuz',
    initrd: '/var/lib/kvm/initrd.img',
    cmdline: 'console=ttyS0 panic=-1',
    baseImage: `/var/lib/kvm/${point.id}/base.img`,
    testImage: `/kvm/${point.backingLabel}/${point.id}.${point.format}`,
    serialLog: `/var/lib/kvm/${point.id}/serial.log`,
    watchChannelLog: `/var/lib/kvm/${point.id}/qaset-watch.jsonl`,
    ...extra,
  };
}

async function virsh(uri: string, commands: string, asNobody = false) {
  const args = ['-q', '-c', uri, commands];
  if (!asNobody) return run('virsh', args, { maxBuffer: 64 << 20 });
  return run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', `HOME=${dir}/home`, `XDG_RUNTIME_DIR=${dir}/home`, 'virsh', ...args], { maxBuffer: 64 << 20 });
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvm-domxml-'));
  await chmod(dir, 0o755);
});
test.after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('sample matrix is large and varied', () => {
  assert.ok(sample.length >= 60, `${sample.length} points`);
});

test('(a) libvirt test driver: define, start, destroy, undefine every point', async () => {
  for (const point of sample) {
    const inp = input(point);
    const { xml } = buildDomainXml(inp);
    const file = join(dir, `${point.id}.xml`);
    await writeFile(file, xml);
    const { stdout } = await virsh('test:///default', `define ${file}; start ${inp.uuid}; domstate ${inp.uuid}; destroy ${inp.uuid}; domstate ${inp.uuid}; undefine ${inp.uuid}`).catch((e: { stderr?: string }) => {
      throw new Error(`${point.id}: ${e.stderr}\n${xml}`);
    });
    assert.match(stdout, /^running\s+shut off\s*$/, point.id); // -q: only domstate prints; any failed command fails the call
  }
});

test('XML carries the point: topology, NUMA, pinning, disk driver and bus, direct kernel boot', () => {
  const point = sample.find((p) => p.topologyLabel === 'smp2x2x1-numa2' && p.bus === 'virtio-scsi' && p.format === 'qcow2' && p.cache === 'directsync' && p.io === 'io_uring')!;
  const { xml, guestTestDevice } = buildDomainXml(input(point, { domainType: 'kvm' }));
  assert.is(guestTestDevice, '/dev/sda');
  for (const part of [
    "<domain type='kvm'>",
    "<vcpu placement='static'>4</vcpu>",
    "<topology sockets='2' dies='1' cores='2' threads='1'/>",
    "<cell id='0' cpus='0-1' memory='256' unit='MiB'/>",
    "<cell id='1' cpus='2-3' memory='256' unit='MiB'/>",
    "<memory unit='MiB'>512</memory>",
    "<model fallback='allow'>qemu64</model>",
    "<kernel>/var/lib/kvm/vmlinuz</kernel>",
    "<controller type='scsi' index='0' model='virtio-scsi'/>",
    "<driver name='qemu' type='qcow2' cache='directsync' io='io_uring'/>",
    "<target dev='sda' bus='scsi'/>",
    "<target dev='vda' bus='virtio'/>",
    '<on_poweroff>destroy</on_poweroff>',
    '<on_reboot>restart</on_reboot>',
    '<acpi/>',
    '<apic/>',
    // the QASET watcher's virtio-serial port, its host side a file qemu appends to
    `<channel type='file'>\n      <source path='/var/lib/kvm/${point.id}/qaset-watch.jsonl' append='on'/>\n      <target type='virtio' name='org.orchestrate.qaset.0'/>\n    </channel>`,
  ])
    assert.ok(xml.includes(part), `missing ${part}\n${xml}`);
  assert.not.ok(buildDomainXml(input(point, { watchChannelLog: undefined })).xml.includes('<channel'), 'no channel unless asked');
  const smt = sample.find((p) => p.topologyLabel === 'smt' && p.bus === 'virtio-blk')!;
  const out = buildDomainXml(input(smt, { network: { type: 'network', source: 'default' } })).xml;
  assert.ok(out.includes("<domain type='qemu'>"));
  assert.ok(out.includes("<vcpupin vcpu='1' cpuset='0-1'/>") && out.includes("<vcpupin vcpu='3' cpuset='1'/>"));
  assert.not.ok(out.includes('<interface'), 'network model none: no NIC');
  assert.is(buildDomainXml(input(smt)).guestTestDevice, '/dev/vdb');
});

test('hostile inventory values are escaped and survive a libvirt round trip', async () => {
  const point = sample[0]!;
  const name = `evil'"<x>&amp;]]><!--`;
  const inp = input(point, {
    name,
    kernel: `/k/'quote" & <tag>`,
    cmdline: `console=ttyS0 x="a'b" <&>`,
    testImage: `/kvm/dir'with"quotes&amp/<img>.raw`,
    serialLog: "/tmp/a'b.log",
  });
  const { xml } = buildDomainXml(inp);
  assert.not.ok(xml.includes(name), 'raw name must not appear');
  assert.ok(xml.includes('<name>evil&apos;&quot;&lt;x&gt;&amp;amp;]]&gt;&lt;!--</name>'));
  const file = join(dir, 'hostile.xml');
  await writeFile(file, xml);
  const { stdout } = await virsh('test:///default', `define ${file}; domname ${inp.uuid}; dumpxml ${inp.uuid}; undefine ${inp.uuid}`);
  assert.ok(stdout.startsWith(`${name}\n`), stdout);
  assert.ok(stdout.includes('<kernel>/k/&apos;quote&quot; &amp; &lt;tag&gt;</kernel>'), stdout);
  assert.ok(stdout.includes(`<source file='/kvm/dir&apos;with&quot;quotes&amp;amp/&lt;img&gt;.raw'/>`), stdout);
  assert.throws(() => buildDomainXml(input(point, { name: 'a/b' })), /holds "\/"/);
  assert.throws(() => buildDomainXml(input(point, { cmdline: 'x\u0001y' })), /control character/);
  assert.throws(() => buildDomainXml(input(point, { uuid: "1' or '1" })), /not a UUID/);
  assert.is(xmlEscape(`a\nb`), 'a&#10;b');
});

test('(b0) RNG schema: every point validates against libvirt\'s domain schema (virt-xml-validate)', async () => {
  for (const point of sample) {
    const file = join(dir, `rng-${point.id}.xml`);
    await writeFile(file, buildDomainXml(input(point)).xml);
    await run('virt-xml-validate', [file, 'domain']);
  }
});

test('boot from the disk without a kernel; the domain type left to the host, then filled in, validates', async () => {
  const point = sample[0]!;
  const { kernel: _k, initrd: _i, cmdline: _c, ...noKernel } = input(point);
  const { xml } = buildDomainXml({ ...noKernel, domainType: DOMAIN_TYPE_TOKEN });
  assert.match(xml, /^<domain type='@DOMAIN_TYPE@'>/);
  assert.match(xml, /<boot dev='hd'\/>/);
  assert.not.match(xml, /<kernel>|<initrd>|<cmdline>/);
  const file = join(dir, 'boot-hd.xml');
  await writeFile(file, xml.replace('@DOMAIN_TYPE@', 'qemu'));
  await run('virt-xml-validate', [file, 'domain']);
});

const canSetpriv = userInfo().uid === 0 && (await run('setpriv', ['--version']).then(() => true, () => false));

test('(b) real QEMU driver (embedded, no daemon): every point defines, and a bad topology is refused', async () => {
  assert.ok(canSetpriv, 'needs root and setpriv (util-linux) to run the embedded QEMU driver as nobody');
  const root = join(dir, 'embed');
  await run('mkdir', ['-p', root, join(dir, 'home')]);
  await chown(root, 65534, 65534);
  await chown(join(dir, 'home'), 65534, 65534);
  const commands: string[] = [];
  const uuids: string[] = [];
  for (const point of sample) {
    const inp = input(point);
    uuids.push(inp.uuid!);
    const file = join(dir, `q-${point.id}.xml`);
    await writeFile(file, buildDomainXml(inp).xml);
    commands.push(`define ${file}`);
  }
  commands.push('list --all --uuid');
  const uri = `qemu:///embed?root=${root}`;
  const { stdout } = await virsh(uri, commands.join('; '), true).catch((e: { stderr?: string }) => {
    throw new Error(`qemu driver refused: ${e.stderr}`);
  });
  for (const uuid of uuids) assert.ok(stdout.includes(uuid), `${uuid} not defined`);
  // the QEMU driver checks what the test driver does not: the matrix's own check matters on both
  const bad = { ...sample[0]!, topology: { vcpus: 4, sockets: 1, cores: 2, threads: 1 } };
  const badInput = input(bad);
  const file = join(dir, 'bad-topology.xml');
  await writeFile(file, buildDomainXml(badInput).xml);
  await virsh('test:///default', `define ${file}; undefine ${badInput.uuid}`);
  const refused = await virsh(uri, `define ${file}`, true).then(
    () => '',
    (e: { stderr?: string }) => e.stderr ?? '',
  );
  assert.match(refused, /CPU topology doesn't match maximum vcpu count/);
});

test.run();
