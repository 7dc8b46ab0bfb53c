import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { guestMounts, KvmParams, testDiskBytes } from '../../orchestrator/scenarios/kvm/params.js';
import { kvmPhases, qasetConfig } from '../../orchestrator/scenarios/kvm/phases.js';
import type { HostSpec } from '../../orchestrator/inventory/types.js';
import { kvmScenario } from '../../orchestrator/scenarios/kvm.js';

const host = {} as HostSpec;
const guest = { base_image: '/srv/golden/sles.qcow2', base_format: 'qcow2', root: '/dev/sda2' };
const qaset = { run_list: ['_reboot_off', 'bonniepp_async_xfs', 'sysbench_cpu'] };
const topologies = [
  { vcpus: 2, sockets: 1, cores: 2, threads: 1 },
  { vcpus: 2, sockets: 2, cores: 1, threads: 1, numa: [{ cpus: '0', memory_mib: 512 }, { cpus: '1', memory_mib: 512 }] },
];

const messages = (input: unknown) => {
  const r = KvmParams.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('phases: check, host-prepare, one optional phase per point, then the two always teardowns', () => {
  const params = KvmParams.parse({ matrix: { topologies, backing: [{ dir: '/srv/a', name: 'a' }] }, guest, qaset });
  const phases = kvmPhases({ host, params, profilesDir: '' });
  assert.equal(
    phases.map((p) => [p.name, p.helper, p.args?.[0], !!p.optional, !!p.always]),
    [
      ['check', 'kvm', 'check', false, false],
      ['host-prepare', 'kvm-prepare-host', 'prepare', false, false],
      ['point-smp1x2x1-dir.a-raw-none-native-virtio-r1', 'kvm', 'point', true, false],
      ['point-smp2x1x1-numa2-dir.a-raw-none-native-virtio-r1', 'kvm', 'point', true, false],
      ['cleanup', 'kvm', 'cleanup', false, true],
      ['host-teardown', 'kvm-prepare-host', 'teardown', false, true],
    ],
  );
  const point = phases[3]!;
  assert.is(point.timeoutMs, 2 * 3_600_000 + 20 * 60_000);
  const env = point.env!;
  assert.is(env['KVM_POINT_ID'], 'smp2x1x1-numa2-dir.a-raw-none-native-virtio-r1');
  assert.is(env['KVM_POINT_INDEX'], '2');
  assert.is(env['KVM_POINT_COUNT'], '2');
  assert.is(env['KVM_POINT_BACKING'], 'dir.a');
  assert.is(env['KVM_RUN_LIST'], '_reboot_off bonniepp_async_xfs sysbench_cpu');
  // the default test disk: 4 x the largest guest memory (1 GiB here), at least 10 GiB
  assert.is(env['KVM_TEST_DISK_BYTES'], String(10 * 1024 ** 3));
  assert.is(env['KVM_TIMEOUT_S'], '7200');
  assert.is(env['KVM_POLL_S'], '5');
  assert.is(env['KVM_STALL_S'], '1800');
  assert.is(env['KVM_QASET_PREPARED'], 'no');
  assert.is(env['KVM_QASET_RUN_ID'], undefined, 'no run id given: the stale one is removed, QASET makes one');
  assert.is(env['KVM_GUEST_MOUNTS'], undefined);
  assert.is(env['KVM_BASE_COPY'], 'overlay');
  assert.is(env['KVM_GUEST_ROOT'], '/dev/sda2');
  assert.is(env['KVM_INJECT'], 'guestfish');
  assert.is(env['KVM_DOMAIN_TYPE'], 'auto');
  const xml = env['KVM_POINT_XML']!;
  assert.match(xml, /^<domain type='@DOMAIN_TYPE@'>/);
  assert.match(xml, /<name>@DOMAIN_NAME@<\/name>/);
  assert.match(xml, /<driver name='qemu' type='qcow2'\/>\n\s*<source file='@GUEST_DISK@'\/>/);
  assert.match(xml, /<source file='@TEST_DISK@'\/>/);
  assert.match(xml, /<source path='@POINT_DIR@\/serial.log'\/>/);
  assert.match(xml, /<channel type='file'>\n\s*<source path='@POINT_DIR@\/qaset-watch.jsonl' append='on'\/>\n\s*<target type='virtio' name='org.orchestrate.qaset.0'\/>/);
  assert.match(xml, /<boot dev='hd'\/>/, 'no kernel given: boots from its disk');
  assert.match(xml, /<cell id='1' cpus='1' memory='512' unit='MiB'\/>/);
  assert.is(phases[1]!.env!['KVM_DIRS'], 'a=/srv/a');
  assert.is(phases[5]!.env!['KVM_DIRS'], 'a=/srv/a', 'teardown sees what prepare saw');
});

test('qaset config: the Virt-Performance keys, the partition of the bus, inventory keys win, values single-quoted', () => {
  const params = KvmParams.parse({
    matrix: { topologies: [topologies[0]], backing: [{ dir: '/srv/a', name: 'a' }], bus: ['sata'] },
    guest,
    qaset: { ...qaset, config: { PRODUCT_RELEASE: "SLES-12 SP4 'GM'", KVM: 2, _QASET_RUNID: 'nightly7' } },
  });
  const phases = kvmPhases({ host, params, profilesDir: '' });
  const config = phases[2]!.env!['KVM_QASET_CONFIG']!;
  assert.is(
    config,
    [
      "SQ_TEST_RUN_SET='performance'",
      "_QASET_ROLE='Virt-Performance'",
      "_QASET_SOFTWARE_TAG='VT'",
      "_QASET_SOFTWARE_SUB_TAG='vm'",
      "KVM='2'",
      "SQ_ABUILD_PARTITION='/dev/sda1'",
      "PRODUCT_RELEASE='SLES-12 SP4 '\\''GM'\\'''",
      "_QASET_RUNID='nightly7'",
    ].join('\n'),
  );
  assert.match(qasetConfig(KvmParams.parse({ matrix: { topologies, backing: [{ dir: '/x', name: 'x' }] }, guest, qaset }), '/dev/vdb'), /^SQ_ABUILD_PARTITION='\/dev\/vdb1'$/m);
});

test('direct kernel boot, a fixed domain type, debugfs with copies', () => {
  const params = KvmParams.parse({
    matrix: { topologies: [topologies[0]], backing: [{ dir: '/srv/a', name: 'a' }] },
    guest: { base_image: '/srv/base.img', base_copy: 'copy', inject: 'debugfs', kernel: '/srv/vmlinuz', initrd: '/srv/initrd', cmdline: 'console=ttyS0 quiet' },
    qaset,
    domain_type: 'qemu',
    keep_images: true,
    test_disk_size: '64M',
    images_dir: '/var/lib/orchestrate/images',
  });
  const env = kvmPhases({ host, params, profilesDir: '' })[2]!.env!;
  assert.match(env['KVM_POINT_XML']!, /^<domain type='qemu'>/);
  assert.match(env['KVM_POINT_XML']!, /<kernel>\/srv\/vmlinuz<\/kernel>\n\s*<initrd>\/srv\/initrd<\/initrd>\n\s*<cmdline>console=ttyS0 quiet<\/cmdline>/);
  assert.match(env['KVM_POINT_XML']!, /<driver name='qemu' type='raw'\/>\n\s*<source file='@GUEST_DISK@'\/>/);
  assert.is(env['KVM_KEEP_IMAGES'], 'yes');
  assert.is(env['KVM_TEST_DISK_BYTES'], String(64 << 20));
  assert.is(env['KVM_IMAGES_DIR'], '/var/lib/orchestrate/images');
  assert.is(env['KVM_KERNEL'], '/srv/vmlinuz');
});

test('refused when the inventory is read: impossible points, debugfs on an overlay, half a kernel, unsafe paths and names', () => {
  const base = { matrix: { topologies, backing: [{ dir: '/srv/a', name: 'a' }] }, guest, qaset };
  assert.equal(
    messages({ ...base, matrix: { topologies: [{ vcpus: 4, sockets: 1, cores: 2, threads: 1 }], backing: [{ dir: '/srv/a', name: 'a' }], cache: ['writeback'] } }),
    [
      'matrix: impossible point smp1x2x1-dir.a-raw-writeback-native-virtio: topology sockets*dies*cores*threads = 1*1*2*1 = 2, but vcpus = 4; io=native needs cache=none or cache=directsync (O_DIRECT), got cache=writeback',
    ],
  );
  assert.equal(messages({ ...base, matrix: { ...base.matrix, exclude: [{ backing: 'dir.a' }] } }), ['matrix.exclude: the exclude rules leave no point to run']);
  assert.equal(messages({ ...base, guest: { base_image: '/srv/b.img', inject: 'debugfs' } }), [
    'guest.inject: debugfs writes into a raw ext4 image: it needs base_format raw and base_copy copy (use guestfish for qcow2 or overlays)',
  ]);
  assert.equal(messages({ ...base, guest: { ...guest, kernel: '/boot/vmlinuz' } }), ['guest.initrd: kernel and initrd go together']);
  assert.ok(messages({ ...base, guest: { ...guest, base_image: '/srv/a b.img' } })[0]!.startsWith('guest.base_image: an absolute path'));
  assert.ok(messages({ ...base, guest: { ...guest, base_image: '/srv/../etc/shadow' } })[0]!.startsWith('guest.base_image: a path without'));
  assert.ok(messages({ ...base, qaset: { run_list: ['ok', 'x; reboot'] } })[0]!.startsWith('qaset.run_list.1: a QASET test name'));
  assert.ok(messages({ ...base, qaset: { ...qaset, config: { 'A-B': 'x' } } }).length > 0);
  assert.ok(messages({ ...base, qaset: { ...qaset, config: { A: 'line\nbreak' } } })[0]!.includes('no control characters'));
  assert.ok(messages({ ...base, qaset: { ...qaset, timeout: 'soon' } })[0]!.includes('is not a duration'));
  assert.ok(messages({ ...base, test_disk_size: '1K' })[0]!.includes('below the least test disk'));
  assert.equal(messages({ ...base, qaset: { ...qaset, timeout: '30m', poll_interval: '10s' } }), []);
  assert.is(KvmParams.parse({ ...base, qaset: { ...qaset, timeout: '30m' } }).qaset.timeout, 30 * 60_000);
});

test('QASET params reach the point: prepared, run id and stall time; a btrfs root with a /var/log subvolume becomes guestfish mounts', () => {
  const params = KvmParams.parse({
    matrix: { topologies: [topologies[0]], backing: [{ dir: '/srv/a', name: 'a' }], memory_mib: [1024, 4096] },
    guest: { ...guest, root: { device: '/dev/sda2', subvolume: '@', mounts: [{ path: '/var/log', subvolume: '@/var/log' }, { path: '/srv', device: '/dev/sdb1' }] } },
    qaset: { ...qaset, prepared: true, run_id: 'nightly42', stall_timeout: '10m' },
  });
  const env = kvmPhases({ host, params, profilesDir: '' }).find((p) => p.name.startsWith('point-'))!.env!;
  assert.is(env['KVM_QASET_PREPARED'], 'yes');
  assert.is(env['KVM_QASET_RUN_ID'], 'nightly42');
  assert.is(env['KVM_STALL_S'], '600');
  assert.is(env['KVM_GUEST_ROOT'], '/dev/sda2');
  assert.is(env['KVM_GUEST_MOUNTS'], '/dev/sda2:/:subvol=@ /dev/sda2:/var/log:subvol=@/var/log /dev/sdb1:/srv');
  // 4 x the largest guest memory (4 GiB) is 16 GiB
  assert.is(env['KVM_TEST_DISK_BYTES'], String(16 * 1024 ** 3));
  assert.is(testDiskBytes({ ...params, test_disk_size: 1 << 30 }), 1 << 30, 'the inventory\'s size wins');
  assert.is(guestMounts('inspect'), undefined);
  assert.is(guestMounts('/dev/sda2'), undefined);
});

test('refused QASET and root params say why', () => {
  const base = { matrix: { topologies, backing: [{ dir: '/srv/a', name: 'a' }] }, guest, qaset };
  assert.ok(messages({ ...base, qaset: { ...qaset, run_id: '2026-12-01' } })[0]!.startsWith('qaset.run_id: letters and digits'));
  assert.ok(messages({ ...base, guest: { ...guest, root: { device: '/dev/sda2', subvolume: '@:x' } } })[0]!.startsWith('guest.root'));
  assert.ok(messages({ ...base, guest: { ...guest, root: { device: '/dev/sda2', mounts: [{ path: '/var/../etc', subvolume: '@' }] } } })[0]!.startsWith('guest.root'));
  assert.equal(messages({ ...base, guest: { base_image: '/srv/b.img', base_copy: 'copy', inject: 'debugfs', root: { device: '/dev/vda', subvolume: '@' } } }), [
    'guest.root: subvolume mounts need inject guestfish (debugfs reads only ext4)',
  ]);
  assert.ok(messages({ ...base, qaset: { ...qaset, stall_timeout: 'never' } })[0]!.includes('is not a duration'));
});

test('--plan shows a kvm job as its matrix in one line, not its params as JSON', () => {
  const params = KvmParams.parse({
    matrix: { topologies, backing: ['xfs', { dir: '/srv/a', name: 'a' }], repetitions: 2 },
    guest,
    qaset: { ...qaset, timeout: '90m' },
    host_disk: { device: '/dev/sdb', allow_wipe: true },
  });
  assert.is(
    kvmScenario.summary!(params),
    '8 point(s): topologies smp1x2x1 smp2x1x1-numa2; backing xfs dir.a; format raw; cache none; io native; bus virtio-blk; memory 1024 MiB; x2; QASET _reboot_off bonniepp_async_xfs sysbench_cpu (timeout 90 min); guestfish; prepares /dev/sdb',
  );
});

test.run();
