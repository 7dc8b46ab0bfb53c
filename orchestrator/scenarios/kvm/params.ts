// The kvm scenario's params (the inventory's `scenarios: { kvm: {...} }`): the matrix, and how the
// host's backing stores are prepared (remote-scripts/kvm-prepare-host). A test device is only
// touched when it is named AND allow_wipe is true; without a device the inventory's directories
// are used as they are.
import { z } from 'zod';
import { KvmMatrix, backingLabel } from './matrix.js';

const FsEntry = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.]*$/),
  fs: z.enum(['xfs', 'btrfs', 'ext4', 'tmpfs']),
});

export const KvmHostDisk = z.strictObject({
  /** Whole disk to partition, e.g. /dev/sdb. */
  device: z.string().regex(/^\/dev\/[A-Za-z0-9_./-]+$/).optional(),
  /** Must be true for anything to be written to `device`. */
  allow_wipe: z.boolean().default(false),
  /** One partition per non-tmpfs entry (equal sizes), tmpfs entries are tmpfs mounts. Default xfs, btrfs, ext4, tmpfs. */
  filesystems: z.array(FsEntry).min(1).optional(),
  tmpfs_size: z.string().regex(/^\d+[kmgKMG%]?$/).optional(),
  /** Where mounts go; default <job dir>/kvm-mounts. */
  mount_root: z.string().startsWith('/').regex(/^[^\t\n]+$/).optional(),
  /** What teardown leaves on the device: wipe (wipefs -a: no partition table or signatures) or keep. */
  after: z.enum(['wipe', 'keep']).default('wipe'),
});
export type KvmHostDisk = z.infer<typeof KvmHostDisk>;

const DEFAULT_FILESYSTEMS = [
  { name: 'xfs', fs: 'xfs' },
  { name: 'btrfs', fs: 'btrfs' },
  { name: 'ext4', fs: 'ext4' },
  { name: 'tmpfs', fs: 'tmpfs' },
] as const;

export const KvmParams = z
  .strictObject({
    matrix: KvmMatrix,
    host_disk: KvmHostDisk.optional(),
    /** qemu (TCG) where /dev/kvm is unusable, kvm otherwise. */
    domain_type: z.enum(['qemu', 'kvm']).default('qemu'),
  })
  .superRefine((p, ctx) => {
    const disk = p.host_disk;
    if (disk?.device && !disk.allow_wipe) {
      ctx.addIssue({ code: 'custom', path: ['host_disk', 'allow_wipe'], message: `host_disk.device ${disk.device} is named but allow_wipe is not true: it would be refused` });
    }
    if (disk && !disk.device && disk.allow_wipe) {
      ctx.addIssue({ code: 'custom', path: ['host_disk', 'device'], message: 'allow_wipe is true but no device is named' });
    }
    // every filesystem backing of the matrix must be one the host preparation makes
    const made = new Set((disk?.device ? (disk.filesystems ?? DEFAULT_FILESYSTEMS) : []).map((f) => f.name));
    p.matrix.backing.forEach((b, i) => {
      if (typeof b === 'string' && !made.has(b)) {
        ctx.addIssue({
          code: 'custom',
          path: ['matrix', 'backing', i],
          message: disk?.device
            ? `backing ${backingLabel(b)} is not among host_disk.filesystems (${[...made].join(', ')})`
            : `backing ${backingLabel(b)} needs host_disk.device (with allow_wipe) to be prepared; or give a directory {dir, name}`,
        });
      }
    });
  });
export type KvmParams = z.infer<typeof KvmParams>;

/** Environment for remote-scripts/kvm-prepare-host (prepare and teardown). */
export function hostPrepEnv(p: KvmParams): Record<string, string> {
  const env: Record<string, string> = {};
  const disk = p.host_disk;
  if (disk?.device) {
    env.KVM_TEST_DEVICE = disk.device;
    if (disk.allow_wipe) env.KVM_TEST_DEVICE_ALLOW_WIPE = 'yes';
    env.KVM_FILESYSTEMS = (disk.filesystems ?? DEFAULT_FILESYSTEMS).map((f) => (f.name === f.fs ? f.name : `${f.name}:${f.fs}`)).join(' ');
    if (disk.tmpfs_size) env.KVM_TMPFS_SIZE = disk.tmpfs_size;
    if (disk.mount_root) env.KVM_MOUNT_ROOT = disk.mount_root;
  }
  env.KVM_DEVICE_AFTER = disk?.after ?? 'wipe';
  const dirs = p.matrix.backing.flatMap((b) => (typeof b === 'string' ? [] : [`${b.name}=${b.dir}`]));
  if (dirs.length > 0) env.KVM_DIRS = dirs.join(' ');
  return env;
}
