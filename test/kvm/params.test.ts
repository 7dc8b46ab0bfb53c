import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KvmParams, hostPrepEnv } from '../../orchestrator/scenarios/kvm/params.js';

const topologies = [{ vcpus: 2, sockets: 1, cores: 2, threads: 1 }];
const guest = { base_image: '/srv/base.qcow2', base_format: 'qcow2' };
const qaset = { run_list: ['sysbench_cpu'] };

test('device mode: env for kvm-prepare-host, defaults', () => {
  const p = KvmParams.parse({ guest, qaset, matrix: { topologies, backing: ['xfs', 'tmpfs', { dir: '/srv/nvme', name: 'nvme' }] }, host_disk: { device: '/dev/sdb', allow_wipe: true } });
  assert.is(p.domain_type, 'auto');
  assert.equal(hostPrepEnv(p), {
    KVM_TEST_DEVICE: '/dev/sdb',
    KVM_TEST_DEVICE_ALLOW_WIPE: 'yes',
    KVM_FILESYSTEMS: 'xfs btrfs ext4 tmpfs',
    KVM_DEVICE_AFTER: 'wipe',
    KVM_DIRS: 'nvme=/srv/nvme',
  });
  const named = KvmParams.parse({
    guest,
    qaset,
    matrix: { topologies, backing: ['ext4'] },
    host_disk: { device: '/dev/sdb', allow_wipe: true, filesystems: [{ name: 'base', fs: 'xfs' }, { name: 'ext4', fs: 'ext4' }], after: 'keep', tmpfs_size: '2G' },
  });
  assert.equal(hostPrepEnv(named), { KVM_TEST_DEVICE: '/dev/sdb', KVM_TEST_DEVICE_ALLOW_WIPE: 'yes', KVM_FILESYSTEMS: 'base:xfs ext4', KVM_TMPFS_SIZE: '2G', KVM_DEVICE_AFTER: 'keep' });
});

test('directory mode: no device, only directories', () => {
  const p = KvmParams.parse({ guest, qaset, matrix: { topologies, backing: [{ dir: '/srv/a', name: 'a' }] } });
  assert.equal(hostPrepEnv(p), { KVM_DEVICE_AFTER: 'wipe', KVM_DIRS: 'a=/srv/a' });
});

test('refused at load: device without allow_wipe, allow_wipe without device, backings nobody prepares', () => {
  const messages = (input: unknown) => {
    const r = KvmParams.safeParse({ guest, qaset, ...(input as object) });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.equal(messages({ matrix: { topologies, backing: ['xfs'] }, host_disk: { device: '/dev/sdb' } }), ['host_disk.allow_wipe: host_disk.device /dev/sdb is named but allow_wipe is not true: it would be refused']);
  assert.equal(messages({ matrix: { topologies, backing: [{ dir: '/x', name: 'x' }] }, host_disk: { allow_wipe: true } }), ['host_disk.device: allow_wipe is true but no device is named']);
  assert.equal(messages({ matrix: { topologies, backing: ['btrfs'] } }), ['matrix.backing.0: backing btrfs needs host_disk.device (with allow_wipe) to be prepared; or give a directory {dir, name}']);
  assert.equal(messages({ matrix: { topologies, backing: ['btrfs'] }, host_disk: { device: '/dev/sdb', allow_wipe: true, filesystems: [{ name: 'xfs', fs: 'xfs' }] } }), ['matrix.backing.0: backing btrfs is not among host_disk.filesystems (xfs)']);
  assert.ok(messages({ matrix: { topologies, backing: [{ dir: '/srv/with space', name: 'x' }] } }).length > 0);
  assert.ok(messages({ matrix: { topologies, backing: ['xfs'] }, host_disk: { device: '/dev/sdb; rm -rf /', allow_wipe: true } }).length > 0);
});

test.run();
