import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expandMatrix, formatCpuList, matrixPoints, MatrixError, parseCpuList, type KvmMatrixInput } from '../../orchestrator/scenarios/kvm/matrix.js';

const smp2: KvmMatrixInput['topologies'][number] = { vcpus: 2, sockets: 1, cores: 2, threads: 1 };

test('cartesian product times repetitions, with stable ids', () => {
  const points = matrixPoints({
    topologies: [smp2, { vcpus: 2, sockets: 2, cores: 1, threads: 1, numa: [{ cpus: '0', memory_mib: 512 }, { cpus: [1], memory_mib: 512 }] }],
    backing: ['xfs', 'tmpfs'],
    format: ['raw', 'qcow2'],
    repetitions: 2,
  });
  assert.is(points.length, 2 * 2 * 2 * 2);
  assert.equal(points.slice(0, 4).map((p) => p.id), [
    'smp1x2x1-xfs-raw-none-native-virtio-r1',
    'smp1x2x1-xfs-raw-none-native-virtio-r2',
    'smp1x2x1-xfs-qcow2-none-native-virtio-r1',
    'smp1x2x1-xfs-qcow2-none-native-virtio-r2',
  ]);
  assert.ok(points.some((p) => p.id === 'smp2x1x1-numa2-tmpfs-qcow2-none-native-virtio-r2'));
  assert.is(new Set(points.map((p) => p.id)).size, points.length);
  const again = matrixPoints({
    topologies: [smp2, { vcpus: 2, sockets: 2, cores: 1, threads: 1, numa: [{ cpus: '0', memory_mib: 512 }, { cpus: [1], memory_mib: 512 }] }],
    backing: ['xfs', 'tmpfs'],
    format: ['raw', 'qcow2'],
    repetitions: 2,
  });
  assert.equal(again.map((p) => p.id), points.map((p) => p.id), 'same matrix, same ids in the same order');
});

test('ids: labels for buses, directories, non-default memory and network, named topologies, pinning', () => {
  const points = matrixPoints({
    topologies: [{ name: 'smt', vcpus: 4, sockets: 1, cores: 2, threads: 2 }, { ...smp2, pinning: { '0': 2, '1': '3-4' } }],
    backing: [{ dir: '/srv/nvme', name: 'nvme' }],
    cache: ['directsync'],
    io: ['io_uring'],
    bus: ['virtio-scsi', 'sata'],
    memory_mib: [1024, 2048],
    network_model: ['virtio', 'e1000'],
  });
  const ids = points.map((p) => p.id);
  assert.ok(ids.includes('smt-dir.nvme-raw-directsync-io_uring-scsi-r1'), ids.join('\n'));
  assert.ok(ids.includes('smt-dir.nvme-raw-directsync-io_uring-sata-m2048-net.e1000-r1'));
  assert.ok(ids.includes('smp1x2x1-pin-dir.nvme-raw-directsync-io_uring-scsi-r1'));
  assert.is(points.length, 2 * 2 * 2 * 2);
});

test('exclude rules drop matching points (every given key must match)', () => {
  const { points, excluded, errors } = expandMatrix({
    topologies: [smp2],
    backing: ['xfs', 'btrfs', 'tmpfs'],
    cache: ['none', 'writeback'],
    io: ['native', 'threads'],
    exclude: [{ io: 'native', cache: 'writeback' }, { backing: ['tmpfs', 'btrfs'], io: 'threads' }, { topology: 'smp1x2x1', backing: 'btrfs', cache: 'none' }],
  });
  assert.equal(errors, []);
  assert.equal(points.map((p) => p.id), [
    'smp1x2x1-xfs-raw-none-native-virtio-r1',
    'smp1x2x1-xfs-raw-none-threads-virtio-r1',
    'smp1x2x1-xfs-raw-writeback-threads-virtio-r1',
    'smp1x2x1-tmpfs-raw-none-native-virtio-r1',
  ]);
  assert.is(excluded.length, 12 - 4);
  assert.ok(excluded.includes('smp1x2x1-btrfs-raw-writeback-native-virtio'));
});

test('impossible points are rejected before anything runs, one message per point', () => {
  const input: KvmMatrixInput = {
    topologies: [
      { name: 'smp4_wrong', vcpus: 4, sockets: 1, cores: 2, threads: 1 },
      { name: 'numa_bad', vcpus: 4, sockets: 2, cores: 2, threads: 1, numa: [{ cpus: '0-1', memory_mib: 512 }, { cpus: '4-5', memory_mib: 256 }] },
      { name: 'pin_bad', vcpus: 2, sockets: 1, cores: 2, threads: 1, pinning: { '0': 0, '2': 1, '7': 3 } },
      smp2,
    ],
    backing: ['xfs'],
    cache: ['none', 'writeback'],
    io: ['native'],
    repetitions: 3,
  };
  const { points, errors } = expandMatrix(input);
  assert.equal(points.map((p) => p.id), ['smp1x2x1-xfs-raw-none-native-virtio-r1', 'smp1x2x1-xfs-raw-none-native-virtio-r2', 'smp1x2x1-xfs-raw-none-native-virtio-r3']);
  assert.equal(errors.map((e) => e.message), [
    'smp4_wrong-xfs-raw-none-native-virtio: topology sockets*dies*cores*threads = 1*1*2*1 = 2, but vcpus = 4',
    'smp4_wrong-xfs-raw-writeback-native-virtio: topology sockets*dies*cores*threads = 1*1*2*1 = 2, but vcpus = 4; io=native needs cache=none or cache=directsync (O_DIRECT), got cache=writeback',
    'numa_bad-xfs-raw-none-native-virtio: NUMA cell 1 names vCPU 4-5, but the guest has 4 vCPU(s) (0-3); NUMA cells do not cover vCPU 2-3; NUMA cell memory sums to 768 MiB, but guest memory is 1024 MiB',
    'numa_bad-xfs-raw-writeback-native-virtio: io=native needs cache=none or cache=directsync (O_DIRECT), got cache=writeback; NUMA cell 1 names vCPU 4-5, but the guest has 4 vCPU(s) (0-3); NUMA cells do not cover vCPU 2-3; NUMA cell memory sums to 768 MiB, but guest memory is 1024 MiB',
    'pin_bad-xfs-raw-none-native-virtio: pinning names vCPU 2,7, but the guest has 2 vCPU(s) (0-1)',
    'pin_bad-xfs-raw-writeback-native-virtio: io=native needs cache=none or cache=directsync (O_DIRECT), got cache=writeback; pinning names vCPU 2,7, but the guest has 2 vCPU(s) (0-1)',
    'smp1x2x1-xfs-raw-writeback-native-virtio: io=native needs cache=none or cache=directsync (O_DIRECT), got cache=writeback',
  ]);
  try {
    matrixPoints(input);
    assert.unreachable('must throw');
  } catch (e) {
    assert.instance(e, MatrixError);
    assert.is((e as MatrixError).errors.length, 7);
    assert.match((e as Error).message, /^7 impossible matrix point\(s\):/);
  }
});

test('overlapping NUMA cells and memory checked against each memory size of the axis', () => {
  const { errors, points } = expandMatrix({
    topologies: [
      { name: 'overlap', vcpus: 2, sockets: 2, cores: 1, threads: 1, numa: [{ cpus: '0-1', memory_mib: 256 }, { cpus: '1', memory_mib: 256 }] },
      { name: 'numa2', vcpus: 2, sockets: 2, cores: 1, threads: 1, numa: [{ cpus: '0', memory_mib: 256 }, { cpus: '1', memory_mib: 256 }] },
    ],
    backing: ['ext4'],
    memory_mib: [512, 1024],
    exclude: [{ topology: 'overlap', memory_mib: 1024 }],
  });
  assert.equal(points.map((p) => p.id), ['numa2-ext4-raw-none-native-virtio-m512-r1']);
  assert.equal(errors.map((e) => e.message), [
    'overlap-ext4-raw-none-native-virtio-m512: vCPU 1 is in NUMA cells 0 and 1',
    'numa2-ext4-raw-none-native-virtio: NUMA cell memory sums to 512 MiB, but guest memory is 1024 MiB',
  ]);
});

test('duplicate point ids are an error, not a silent overwrite', () => {
  const { errors } = expandMatrix({ topologies: [smp2, { ...smp2 }], backing: ['xfs'] });
  assert.equal(errors.map((e) => e.message), ['smp1x2x1-xfs-raw-none-native-virtio: the same point id twice (give the topologies or directories distinct names)']);
});

test('schema rejects malformed params (unknown keys, bad enums, labels with "-")', () => {
  assert.throws(() => expandMatrix({ topologies: [smp2], backing: ['zfs' as 'xfs'] }));
  assert.throws(() => expandMatrix({ topologies: [{ ...smp2, name: 'has-dash' }], backing: ['xfs'] }));
  assert.throws(() => expandMatrix({ topologies: [smp2], backing: ['xfs'], cache: ['sometimes' as 'none'] }));
  assert.throws(() => expandMatrix({ topologies: [smp2], backing: ['xfs'], colour: 'red' } as KvmMatrixInput));
  assert.throws(() => expandMatrix({ topologies: [smp2], backing: [{ dir: 'relative', name: 'x' }] }));
  assert.throws(() => expandMatrix({ topologies: [smp2], backing: ['xfs'], exclude: [{}] }));
  assert.throws(() => expandMatrix({ topologies: [{ ...smp2, numa: [{ cpus: '0-', memory_mib: 1 }] }], backing: ['xfs'] }));
});

test('CPU lists parse and format like libvirt', () => {
  assert.equal(parseCpuList('0-2,4,6-7'), [0, 1, 2, 4, 6, 7]);
  assert.equal(parseCpuList([3, 1, 1]), [1, 3]);
  assert.is(formatCpuList([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
  assert.throws(() => parseCpuList('3-1'), /backwards/);
});

test.run();
